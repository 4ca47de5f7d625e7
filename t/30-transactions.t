# transaction.create and transaction.getAll (CONTRACT §3): row shape, defaults, validation, authentication,
# newest-first order, and that a user only ever sees their own rows.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 40;

my ($r, $d);
my $anon = ua();

$r = tpost($anon, '/trpc/transaction.create', { amount => 5, txnType => 'Incoming' });
is($r->code, 401, 'create without a session -> 401') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', 'transaction.create', '... UNAUTHORIZED');
$r = tget($anon, '/trpc/transaction.getAll');
is($r->code, 401, 'getAll without a session -> 401') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', 'transaction.getAll', '... UNAUTHORIZED');

my ($ua, $email, $pw, $uid) = login_ua('txn');
my @created;

$r = tget($ua, '/trpc/transaction.getAll');
is($r->code, 200, 'getAll of a new user -> 200') or diag show($r);
is_deeply(oget(dec($r), qw(result data)), [], '... an empty array');

# ---- create ----------------------------------------------------------------------------------------------------------

$r = tpost($ua, '/trpc/transaction.create',
           { amount => 1500, txnType => 'Incoming', summary => 'May salary', tag => 'Salary' });
is($r->code, 200, 'create with every field -> 200') or diag show($r);
$d = oget(dec($r), qw(result data));
is(ref $d, 'ARRAY', 'create returns an array (as the tutorial)');
is(scalar @{ ref $d eq 'ARRAY' ? $d : [] }, 1, '... with the inserted row');
my $row = oget($d, 0) || {};
is_deeply([ sort keys %$row ], [qw(amount createdAt id summary tag txnType updatedAt userId)],
          'row keys: id, amount, txnType, summary, tag, userId, createdAt, updatedAt');
is_deeply([ @{$row}{qw(amount txnType summary tag userId)} ], [ 1500, 'Incoming', 'May salary', 'Salary', $uid ],
          'row values, userId is the caller');
like($row->{id} // '', qr/^[1-9]\d*\z/, 'id is a positive integer');
ok(($row->{createdAt} // '') =~ ISO_RE && ($row->{updatedAt} // '') =~ ISO_RE, 'ISO-8601 timestamps');
push @created, $row->{id};

$r = tpost($ua, '/trpc/transaction.create', { amount => 42, txnType => 'Outgoing' });
is($r->code, 200, 'create with only amount and txnType -> 200') or diag show($r);
$row = oget(dec($r), qw(result data 0)) || {};
is($row->{tag}, 'Others', 'tag omitted -> "Others"');
ok(exists $row->{summary} && !defined $row->{summary}, 'summary omitted -> null');
push @created, $row->{id};

$r = tpost($ua, '/trpc/transaction.create', { amount => -7, txnType => 'Outgoing', summary => undef, tag => 'Food' });
is($r->code, 200, 'summary null is accepted') or diag show($r);
push @created, oget(dec($r), qw(result data 0 id));

my $evil = q{Robert'); DROP TABLE transactions;-- "quoted" \ backslash};
$r = tpost($ua, '/trpc/transaction.create', { amount => 0, txnType => 'Incoming', summary => $evil, tag => 'Bill' });
is($r->code, 200, 'summary with SQL metacharacters -> 200') or diag show($r);
is(oget(dec($r), qw(result data 0 summary)), $evil, '... stored verbatim');
push @created, oget(dec($r), qw(result data 0 id));

my $utf8 = "Caf\x{e9} \x{2615} \x{1f600}";
$r = tpost($ua, '/trpc/transaction.create', { amount => 3, txnType => 'Outgoing', summary => $utf8, tag => 'Travel' });
is(oget(dec($r), qw(result data 0 summary)), $utf8, 'UTF-8 summary round-trips') or diag show($r);
push @created, oget(dec($r), qw(result data 0 id));

# ---- validation --------------------------------------------------------------------------------------------------------

my %bad = (
    'amount 1.5'           => [ { amount => 1.5, txnType => 'Incoming' }, 'amount' ],
    'amount "5"'           => [ { amount => '5', txnType => 'Incoming' }, 'amount' ],
    'amount missing'       => [ { txnType => 'Incoming' }, 'amount' ],
    'txnType "Sideways"'   => [ { amount => 5, txnType => 'Sideways' }, 'txnType' ],
    'txnType "incoming"'   => [ { amount => 5, txnType => 'incoming' }, 'txnType' ],
    'tag "Bogus"'          => [ { amount => 5, txnType => 'Incoming', tag => 'Bogus' }, 'tag' ],
    'summary 5'            => [ { amount => 5, txnType => 'Incoming', summary => 5 }, 'summary' ],
);
for my $case (sort keys %bad) {
    my ($input, $field) = @{ $bad{$case} };
    $r = tpost($ua, '/trpc/transaction.create', $input);
    ok($r->code == 400 && oget(dec($r), qw(error data code)) eq 'BAD_REQUEST'
       && ref oget(dec($r), 'error', 'data', 'zodError', 'fieldErrors', $field) eq 'ARRAY',
       "$case -> 400 with fieldErrors.$field") or diag show($r);
}
$r = tpost($ua, '/trpc/transaction.create', undef);
is($r->code, 400, 'create without input -> 400') or diag show($r);

$r = tpost($ua, '/trpc/transaction.create', { amount => 2147483648, txnType => 'Incoming' });
is($r->code, 400, 'amount 2^31 (beyond the integer column) -> 400, not a database error') or diag show($r);

$r = tget($ua, '/trpc/transaction.create', { amount => 5, txnType => 'Incoming' });
is($r->code, 405, 'GET to transaction.create -> 405') or diag show($r);

# ---- getAll ------------------------------------------------------------------------------------------------------------

$r = tget($ua, '/trpc/transaction.getAll');
is($r->code, 200, 'getAll -> 200') or diag show($r);
$d = oget(dec($r), qw(result data));
$d = [] unless ref $d eq 'ARRAY';
is(scalar @$d, scalar @created, 'getAll returns exactly the rows created (nothing from the failed calls)');
is_deeply([ map { $_->{id} } @$d ], [ reverse @created ], 'newest first');
ok(!grep({ ($_->{userId} // -1) != $uid } @$d), 'every row belongs to the caller');
is_deeply([ sort keys %{ $d->[0] || {} } ], [qw(amount createdAt id summary tag txnType updatedAt userId)],
          'getAll rows have the create row shape');

my ($ub, $eb, $pb, $uidb) = login_ua('txn-other');
$r = tget($ub, '/trpc/transaction.getAll');
is($r->code, 200, 'second user: getAll -> 200') or diag show($r);
is_deeply(oget(dec($r), qw(result data)), [], 'a second user sees none of the first user\'s rows');

$r = tpost($ub, '/trpc/transaction.create', { amount => 9, txnType => 'Incoming', summary => 'b', userId => $uid });
is($r->code, 200, 'second user creates a row (a userId in the input is ignored)') or diag show($r);
is(oget(dec($r), qw(result data 0 userId)), $uidb, '... and it belongs to the second user');

$r = tget($ua, '/trpc/transaction.getAll');
$d = oget(dec($r), qw(result data));
is(scalar @{ ref $d eq 'ARRAY' ? $d : [] }, scalar @created, 'the first user still sees only their own rows');
