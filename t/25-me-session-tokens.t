# auth.me and the access token (CONTRACT §3, §4, §6): the cookie authenticates, anything forged, tampered, expired,
# of the wrong type or algorithm does not, and a session deleted in Redis is refused at once.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 26;

my ($r, $d);
my $anon = ua();

$r = tget($anon, '/trpc/auth.me');
is($r->code, 401, 'auth.me without cookies -> 401') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', 'auth.me', '... UNAUTHORIZED in the tRPC shape');

my ($ua, $email, $pw, $uid) = login_ua('me');
$r = tget($ua, '/trpc/auth.me');
is($r->code, 200, 'auth.me with the access cookie -> 200') or diag show($r);
$d = oget(dec($r), qw(result data)) || {};
is_deeply([ sort keys %$d ], [qw(createdAt email emailVerified id updatedAt)],
          'auth.me = {id, email, emailVerified, createdAt, updatedAt}');
is_deeply([ @{$d}{qw(id email emailVerified)} ], [ $uid, $email, false ], '... of the logged-in user');
ok(($d->{createdAt} // '') =~ ISO_RE && ($d->{updatedAt} // '') =~ ISO_RE, '... with ISO-8601 timestamps');

# ---- tokens sent by hand ---------------------------------------------------------------------------------------------

my $at = jar_cookie($ua, 'accessToken') // '';
my $bare = bare_ua();
sub me_with { tget($bare, '/trpc/auth.me', undef, Cookie => 'accessToken=' . shift) }

$r = me_with($at);
is($r->code, 200, 'the access cookie alone (no refresh cookie) authenticates') or diag show($r);

my @part = split /\./, $at, -1;
my $sig = $part[2] // '';
substr($sig, 3, 1) = substr($sig, 3, 1) eq 'A' ? 'B' : 'A';
$r = me_with(join '.', @part[0, 1], $sig);
is($r->code, 401, 'tampered signature -> 401') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', 'auth.me', '... UNAUTHORIZED');

my ($h, $p) = jwt_decode($at);
$p = {} unless ref $p eq 'HASH';
$h = {} unless ref $h eq 'HASH';
my %other = (%$p, sub => '' . ($uid + 1000000));
$r = me_with(join '.', $part[0] // '', b64url(enc(\%other)), $part[2] // '');
is($r->code, 401, 'payload changed (another sub), signature kept -> 401') or diag show($r);

$r = me_with(join '.', b64url(enc({ alg => 'none', typ => 'at+jwt' })), $part[1] // '', '');
is($r->code, 401, 'alg "none" with an empty signature -> 401') or diag show($r);

$r = me_with('not.a.jwt');
is($r->code, 401, 'garbage token -> 401') or diag show($r);

$r = me_with('x' x 6000);
is($r->code, 401, 'a 6 KB cookie -> 401 (no crash)') or diag show($r);

# Tokens signed with the suite's own keys (t/keys): the module must check more than the signature.
my $ak = key_bytes('access');
my $now = time;
$r = me_with(jwt_sign($ak, $h, $p));
is($r->code, 200, 'a token re-signed here with the access key is accepted (the key files are what the module uses)')
    or diag show($r);

$r = me_with(jwt_sign($ak, $h, { %$p, iat => $now - 2000, exp => $now - 1000 }));
is($r->code, 401, 'expired token -> 401') or diag show($r);

$r = me_with(jwt_sign($ak, { %$h, typ => 'rt+jwt' }, $p));
is($r->code, 401, 'typ other than at+jwt -> 401') or diag show($r);

$r = me_with(jwt_sign($ak, { %$h, typ => undef }, $p));
is($r->code, 401, 'typ null -> 401') or diag show($r);

$r = me_with(jwt_sign(key_bytes('refresh'), $h, $p));
is($r->code, 401, 'signed with the refresh key -> 401') or diag show($r);

$r = me_with(jwt_sign($ak, { %$h, alg => 'HS512' }, $p));
is($r->code, 401, 'header alg HS512 (algorithm not pinned) -> 401') or diag show($r);

$r = me_with(jwt_sign($ak, $h, { %$p, sid => 'f' x 40 }));
is($r->code, 401, 'valid signature but an unknown session id -> 401') or diag show($r);

$r = me_with(jwt_sign($ak, $h, { %$p, sub => '' . ($uid + 1) }));
is($r->code, 401, 'valid signature, real session id, but another user id -> 401') or diag show($r);

my %nosid = %$p; delete $nosid{sid};
$r = me_with(jwt_sign($ak, $h, \%nosid));
is($r->code, 401, 'valid signature without sid -> 401') or diag show($r);

# ---- a session deleted in Redis ---------------------------------------------------------------------------------------

my ($ua2, $email2, $pw2, $uid2) = login_ua('revoked');
my ($h2, $p2) = jwt_decode(jar_cookie($ua2, 'accessToken'));
my $sid = ref $p2 eq 'HASH' ? $p2->{sid} // '' : '';
$r = tget($ua2, '/trpc/auth.me');
is($r->code, 200, 'second session works') or diag show($r);
my @keys = length $sid ? redis_session_keys($sid) : ();
ok(scalar @keys, "the session's Redis key is found under trpcauth-test:* (@keys)");
redis('DEL', @keys) if @keys;
$r = tget($ua2, '/trpc/auth.me');
is($r->code, 401, 'after DEL of the session in Redis, the still-valid access token -> 401 at once') or diag show($r);

$r = tget($ua, '/trpc/auth.me');
is($r->code, 200, 'the other session is unaffected') or diag show($r);
