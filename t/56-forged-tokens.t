# Forged and misused tokens (CONTRACT §4, §6, issue #3): each is UNAUTHORIZED and leaves no trace - the row and key
# counts are the same before and after. A token of a deleted user is refused by every protected procedure.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;
use TrpcSess;

plan tests => 32;

my $r;
my $bare = bare_ua();
my ($ua, $email, $pw, $uid) = login_ua('forge');
my $at = jar_cookie($ua, 'accessToken') // '';
my $rt = jar_cookie($ua, 'refreshToken') // '';
my ($h, $p) = jwt_decode($at);
my @part = split /\./, $at, -1;
my $ak = key_bytes('access');
my $now = time;
my $txn = { amount => 100, txnType => 'Incoming', summary => 'forged' };

sub counts { (count_rows('SELECT count(*) FROM transactions'), join(',', user_keys($uid)),
              join(',', map { my %x = %{ session_hash($uid, $_) }; $x{rt} // '' } sid_of($at))) }
sub create_with { tpost($bare, '/trpc/transaction.create', $txn, Cookie => 'accessToken=' . shift) }

is(create_with($at)->code, 200, 'control: the genuine access token can create a row');
my @before = counts();

my $flip = $part[2];
substr($flip, 5, 1) = substr($flip, 5, 1) eq 'A' ? 'B' : 'A';
my %forged = (
    'alg none, empty signature'  => join('.', b64url(enc({ alg => 'none', typ => 'at+jwt' })), $part[1], ''),
    'alg none, signature kept'   => join('.', b64url(enc({ alg => 'none', typ => 'at+jwt' })), $part[1], $part[2]),
    'tampered payload (sub)'     => join('.', $part[0], b64url(enc({ %$p, sub => '' . ($uid + 1) })), $part[2]),
    'wrong signature'            => join('.', @part[0, 1], $flip),
    'unknown kid'                => jwt_sign($ak, { %$h, kid => 'nope' }, $p),
    'expired'                    => jwt_sign($ak, $h, { %$p, iat => $now - 7200, exp => $now - 3600 }),
    'missing exp'                => jwt_sign($ak, $h, { map { $_ => $p->{$_} } grep { $_ ne 'exp' } keys %$p }),
    'iat in the future'          => jwt_sign($ak, $h, { %$p, iat => $now + 3600, exp => $now + 7200 }),
    'header alg RS256 over HS256' => jwt_sign($ak, { %$h, alg => 'RS256' }, $p),
    'refresh token as access cookie' => $rt,
);
for my $name (sort keys %forged) {
    $r = create_with($forged{$name});
    is($r->code, 401, "$name -> 401") or diag show($r);
}
err_is(dec(create_with($forged{'alg none, empty signature'})), 'UNAUTHORIZED', 'transaction.create',
       '... UNAUTHORIZED in the tRPC shape');

$r = tpost($bare, '/trpc/auth.refreshAccessToken', undef, Cookie => "refreshToken=$at");
is($r->code, 401, 'access token as refresh cookie -> 401') or diag show($r);
$r = tpost($bare, '/trpc/auth.refreshAccessToken', undef, Cookie => 'refreshToken=' . jwt_sign(key_bytes('refresh'),
           { alg => 'none', typ => 'rt+jwt' }, { sub => "$uid", sid => sid_of($at), jti => '0.00', exp => $now + 60 }));
is($r->code, 401, 'refresh token with header alg none -> 401') or diag show($r);

# Algorithm confusion: HS256 signed with the public key PEM of an RS256 / EdDSA / ES256 server.
for my $alg (qw(rs256 eddsa es256)) {
    vhost("trpc_$alg");
    my $pub = do { local $/; open my $fh, '<:raw', keyfile("$alg-a.pub.pem") or die; <$fh> };
    my $tok = jwt_sign($pub, { alg => 'HS256', typ => 'at+jwt' }, { %$p, iat => $now, exp => $now + 600 });
    $r = tpost($bare, '/trpc/transaction.create', $txn, Cookie => "accessToken=$tok");
    is($r->code, 401, "HS256 signed with the public key of the $alg server -> 401") or diag show($r);
}
vhost('default');

is_deeply([ counts() ], \@before, 'nothing was written: same transaction count, same Redis keys and refresh state');
is(tget($ua, '/trpc/auth.me')->code, 200, 'the genuine session is intact');
is(tpost($bare, '/trpc/auth.refreshAccessToken', undef, Cookie => "refreshToken=$rt")->code, 200,
   '... and its refresh token still works');

# ---- a token of a deleted user ------------------------------------------------------------------------------------------

my ($du, undef, undef, $duid) = login_ua('forge-deleted');
is(tpost($du, '/trpc/transaction.create', $txn)->code, 200, 'a second user creates a row');
my $dat = jar_cookie($du, 'accessToken') // '';
my $drt = jar_cookie($du, 'refreshToken') // '';
psql("DELETE FROM users WHERE id = $duid");
my $total = count_rows('SELECT count(*) FROM transactions');
my @dkeys = user_keys($duid);
my %calls = (
    'transaction.create'  => [ 'POST', $txn ],
    'transaction.getAll'  => [ 'GET', undef ],
    'auth.me'             => [ 'GET', undef ],
    'auth.sessions'       => [ 'GET', undef ],
    'auth.logoutAll'      => [ 'POST', undef ],
    'auth.revokeSession'  => [ 'POST', { sessionId => sid_of($dat) } ],
    'auth.changePassword' => [ 'POST', { currentPassword => 'whatever-1', newPassword => 'whatever-2' } ],
);
for my $path (sort keys %calls) {
    my ($m, $in) = @{ $calls{$path} };
    $r = $m eq 'GET' ? tget($bare, "/trpc/$path", $in, Cookie => "accessToken=$dat")
                     : tpost($bare, "/trpc/$path", $in, Cookie => "accessToken=$dat");
    is($r->code, 401, "deleted user: $path -> 401") or diag show($r);
}
is(count_rows('SELECT count(*) FROM transactions'), $total, '... no row was written');
is_deeply([ user_keys($duid) ], \@dkeys, '... no Redis key was touched');
$r = tpost($bare, '/trpc/auth.refreshAccessToken', undef, Cookie => "refreshToken=$drt");
is($r->code, 401, 'deleted user: refreshAccessToken -> 401') or diag show($r);
is(scalar(grep { /:s:/ } user_keys($duid)), 0, '... and the session is revoked');
