# The superjson transformer at /trpc-sj (TrpcAuthTransformer superjson; trpc-http-protocol.md §7, CONTRACT §2):
# inputs unwrapped from {json, meta} with "undefined" annotations, outputs and errors wrapped, Dates in meta.values.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 44;

my ($r, $d);
my $ua = ua();
my $NOINPUT = { json => undef, meta => { values => ['undefined'], v => 1 } };
my $DATE = ['Date'];

# ---- register and login through the superjson endpoint --------------------------------------------------------------

my $email = uniq_email('sj');
my $pw = 'superjson-password';
$r = tpost($ua, '/trpc-sj/auth.register?batch=1', { 0 => { json => { email => $email, password => $pw } } });
is($r->code, 200, 'register: batch input {"0":{"json":{...}}} without meta') or diag show($r);
$d = oget(dec($r), 0, 'result', 'data');
is_deeply([ sort keys %{ $d || {} } ], [qw(json meta)], 'output wrapped as {json, meta}');
is(oget($d, qw(json user 0 email)), $email, 'json holds the plain output');
is_deeply(oget($d, 'meta'), { values => { 'user.0.createdAt' => $DATE, 'user.0.updatedAt' => $DATE }, v => 1 },
          'meta.values marks the Dates: user.0.createdAt, user.0.updatedAt; v 1');
like(oget($d, qw(json user 0 createdAt)) // '', ISO_RE, 'Dates travel as ISO strings');
my $uid = oget($d, qw(json user 0 id));

$r = tpost($ua, '/trpc-sj/auth.login', { json => { email => $email, password => $pw }, meta => { values => {}, v => 1 } });
is($r->code, 200, 'login: single call, meta with empty values') or diag show($r);
is_deeply(dec($r), { result => { data => { json => { success => true } } } }, 'output {"json":{"success":true}}, no meta');
ok(defined set_cookie($r, 'accessToken'), 'cookies are set as with plain JSON');

# ---- no-input envelopes ---------------------------------------------------------------------------------------------

$r = tget($ua, '/trpc-sj/auth.me', { json => undef, meta => { values => ['undefined'] } });
is($r->code, 200, 'no-input envelope without "v" -> 200') or diag show($r);
is_deeply(dec($r), { result => { data => {
              json => { id => $uid, email => $email, emailVerified => false,
                        createdAt => oget(dec($r), qw(result data json createdAt)),
                        updatedAt => oget(dec($r), qw(result data json updatedAt)) },
              meta => { values => { createdAt => $DATE, updatedAt => $DATE }, v => 1 } } } },
          'auth.me wrapped: {"result":{"data":{"json":{...},"meta":{"values":{"createdAt":["Date"],...},"v":1}}}}');

$r = tget($ua, '/trpc-sj/auth.me', $NOINPUT);
is($r->code, 200, 'no-input envelope with "v":1 -> 200') or diag show($r);

$r = tget($ua, '/trpc-sj/auth.me,transaction.getAll?batch=1', { 0 => $NOINPUT, 1 => $NOINPUT });
is($r->code, 200, 'batch of two queries with no-input envelopes -> 200') or diag show($r);
is(oget(dec($r), 0, qw(result data json email)), $email, '... element 0 wrapped');
is_deeply(oget(dec($r), 1, qw(result data)), { json => [] }, '... element 1: empty list is {"json":[]} without meta');

# ---- transaction.create with "undefined" annotations ------------------------------------------------------------------

$r = tpost($ua, '/trpc-sj/transaction.create?batch=1',
           { 0 => { json => { amount => 5, txnType => 'Outgoing', summary => 'lunch', tag => undef },
                    meta => { values => { tag => ['undefined'] }, v => 1 } } });
is($r->code, 200, 'create with tag null annotated ["undefined"] -> 200') or diag show($r);
$d = oget(dec($r), 0, 'result', 'data');
is(oget($d, qw(json 0 tag)), 'Others', 'the annotated key is absent, so the default "Others" applies');
is_deeply(oget($d, 'meta'), { values => { '0.createdAt' => $DATE, '0.updatedAt' => $DATE }, v => 1 },
          'meta.values {"0.createdAt":["Date"],"0.updatedAt":["Date"]}, v 1');
is_deeply([ sort keys %{ $d || {} } ], [qw(json meta)], 'data = {json, meta}');
my $id1 = oget($d, qw(json 0 id));

$r = tpost($ua, '/trpc-sj/transaction.create',
           { json => { amount => 6, txnType => 'Incoming', summary => undef, tag => 'Food' },
             meta => { values => { summary => ['undefined'] } } });
is($r->code, 200, 'single call, meta without "v" -> 200') or diag show($r);
$d = dec($r);
is_deeply([ sort keys %{ $d || {} } ], ['result'], 'single call: {"result":...}');
is_deeply([ @{ oget($d, qw(result data json 0)) || {} }{qw(amount txnType summary tag userId)} ],
          [ 6, 'Incoming', undef, 'Food', $uid ], 'row values');
my $id2 = oget($d, qw(result data json 0 id));

$r = tget($ua, '/trpc-sj/transaction.getAll', $NOINPUT);
is($r->code, 200, 'getAll -> 200') or diag show($r);
$d = oget(dec($r), qw(result data));
is_deeply([ map { $_->{id} } @{ oget($d, 'json') || [] } ], [ $id2, $id1 ], 'rows newest first');
is_deeply(oget($d, 'meta'), { values => { '0.createdAt' => $DATE, '0.updatedAt' => $DATE,
                                           '1.createdAt' => $DATE, '1.updatedAt' => $DATE }, v => 1 },
          'one meta.values entry per Date of every row');

# ---- errors are wrapped ----------------------------------------------------------------------------------------------

my $anon = ua();
$r = tget($anon, '/trpc-sj/auth.me', $NOINPUT);
is($r->code, 401, 'unauthenticated -> 401') or diag show($r);
$d = dec($r);
is_deeply([ sort keys %{ oget($d, 'error') || {} } ], ['json'], 'error wrapped: {"error":{"json":{...}}}');
err_is({ error => oget($d, qw(error json)) }, 'UNAUTHORIZED', 'auth.me', 'wrapped shape: message, code -32001, data');
is_deeply(okeys($r->content, 'error', 'json'), [qw(message code data)], 'wrapped error key order');

$r = tget($anon, '/trpc-sj/nope', $NOINPUT);
is($r->code, 404, 'unknown procedure -> 404') or diag show($r);
err_is({ error => oget(dec($r), qw(error json)) }, 'NOT_FOUND', 'nope', 'wrapped NOT_FOUND',
       'No procedure found on path "nope"');

$r = tpost($ua, '/trpc-sj/transaction.create?batch=1',
           { 0 => { json => { amount => 1.5, txnType => 'Incoming' } } });
is($r->code, 400, 'validation error -> 400') or diag show($r);
ok(ref oget(dec($r), 0, qw(error json data zodError fieldErrors amount)) eq 'ARRAY',
   'wrapped validation error carries zodError.fieldErrors.amount') or diag show($r);

$r = tpost(ua(), '/trpc-sj/auth.login', { email => $email, password => $pw });
is($r->code, 400, 'plain JSON (no envelope) sent to a superjson endpoint -> 400') or diag show($r);

# ---- limits of meta.values (issue 11) ----------------------------------------------------------------------------------
# A path of N segments copied at every one of D tree levels cost N x D; now each limit is BAD_REQUEST, and a decoding
# only happens for a procedure that exists and takes input.

my $creds = { email => $email, password => $pw };
sub sj_login { my ($values) = @_; tpost(ua(), '/trpc-sj/auth.login', { json => $creds, meta => { values => $values, v => 1 } }) }
sub limit_is {
    my ($r, $message, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($r->code, 400, "$name -> 400") or diag show($r);
    err_is({ error => oget(dec($r), qw(error json)) }, 'BAD_REQUEST', 'auth.login', "$name: BAD_REQUEST", $message);
}

my $seg32 = join('.', ('a') x 32);
$r = sj_login({ $seg32 => ['undefined'], nested => ['object', { map { ("k$_" => ['Date']) } 1 .. 998 }] });
is($r->code, 200, 'a path of 32 segments and 1 000 paths (the limits) -> login 200') or diag show($r);
limit_is(sj_login({ "$seg32.a" => ['undefined'] }), 'Invalid superjson input: a path has more than 32 segments',
         'a path of 33 segments');
limit_is(sj_login({ map { ("k$_" => ['Date']) } 1 .. 1001 }), 'Invalid superjson input: more than 1000 paths in meta.values',
         '1 001 paths');
my $tree = ['undefined'];
$tree = { a => $tree } for 1 .. 17;
limit_is(sj_login($tree), 'Invalid superjson input: meta.values is nested more than 16 levels deep', 'meta.values 17 deep');

# the reported payload: 12 000 dots over 700 levels
my $dotted = \ ('{"json":{},"meta":{"values":{"' . ('.' x 12000) . '":' . ('{"b":' x 700) . '["undefined"]' . ('}' x 700) . '}}}');
$r = tpost(ua(), '/trpc-sj/nope', $dotted);
is($r->code, 404, 'the reported dotted-key payload to an unknown procedure -> 404, nothing decoded') or diag show($r);
$r = tpost(ua(), '/trpc-sj/transaction.create', $dotted);
is($r->code, 401, '... to a protected procedure without a session -> 401') or diag show($r);
limit_is(tpost(ua(), '/trpc-sj/auth.login', $dotted), 'Invalid superjson input: a path has more than 32 segments',
         '... to auth.login');
