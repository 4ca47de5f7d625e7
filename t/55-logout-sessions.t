# Logout, logoutAll, sessions, revokeSession, changePassword (CONTRACT §3, §4, issue #3): logout works with either
# cookie (an expired access token too) and always expires all three cookies; every revocation takes effect on the
# next request; a later login never revives an old token; TrpcAuthSessionCheck Off validates statelessly.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;
use TrpcSess;

plan tests => 46;

my ($r, $d);
my $bare = bare_ua();
sub with { my ($method, $path, $cookie, $input) = @_;
           $method eq 'GET' ? tget($bare, $path, $input, Cookie => $cookie)
                            : tpost($bare, $path, $input, Cookie => $cookie) }
sub me_code { with('GET', '/trpc/auth.me', 'accessToken=' . shift)->code }
sub refresh_code { with('POST', '/trpc/auth.refreshAccessToken', 'refreshToken=' . shift)->code }
sub tokens { my $ua = shift; (jar_cookie($ua, 'accessToken') // '', jar_cookie($ua, 'refreshToken') // '') }

# ---- logout with one cookie or the other ----------------------------------------------------------------------------

my ($ua) = login_ua('lo-access');
my ($at, $rt) = tokens($ua);
$r = with('POST', '/trpc/auth.logout', "accessToken=$at");
is($r->code, 200, 'logout with only the access cookie -> 200') or diag show($r);
is_deeply(oget(dec($r), qw(result data)), { success => true }, '... {success:true}');
ok(expired_all($r), '... expires accessToken, refreshToken and logged_in (Max-Age=0)') or diag show($r);
is(me_code($at), 401, 'the old access token -> 401 at once');
is(refresh_code($rt), 401, 'the refresh token of that session -> 401');

($ua) = login_ua('lo-refresh');
($at, $rt) = tokens($ua);
$r = with('POST', '/trpc/auth.logout', "refreshToken=$rt");
is($r->code, 200, 'logout with only the refresh cookie -> 200') or diag show($r);
ok(expired_all($r), '... expires all three cookies');
is(me_code($at), 401, "the session's access token -> 401");

$r = tpost(bare_ua(), '/trpc/auth.logout', undef);
is($r->code, 401, 'logout without any cookie -> 401') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', 'auth.logout', '... UNAUTHORIZED');
ok(expired_all($r), '... and still expires all three cookies');
$r = with('POST', '/trpc/auth.logout', 'accessToken=forged.token.here; refreshToken=x');
is($r->code, 401, 'logout with cookies that do not verify -> 401, cookies expired') or diag show($r);

vhost('trpc_short');
($ua) = login_ua('lo-expired');
($at, $rt) = tokens($ua);
sleep 3;
is(me_code($at), 401, 'an access token past its 2 s lifetime');
$r = with('POST', '/trpc/auth.logout', "accessToken=$at");
is($r->code, 200, '... still logs its session out (a stale access cookie is enough)') or diag show($r);
is(refresh_code($rt), 401, '... the session is revoked: its refresh token -> 401');
vhost('default');

# ---- logoutAll, then a new login -----------------------------------------------------------------------------------------

my ($a1, $email, $pw, $uid) = login_ua('lo-all');
my $a2 = ua();
login($a2, $email, $pw);
my ($at1, $rt1) = tokens($a1);
my ($at2, $rt2) = tokens($a2);
$r = tpost($a1, '/trpc/auth.logoutAll', undef);
is($r->code, 200, 'logoutAll -> 200') or diag show($r);
ok(expired_all($r), '... expires the cookies');
is_deeply([ me_code($at1), me_code($at2) ], [ 401, 401 ], 'every access token of the user -> 401 at once');
is_deeply([ refresh_code($rt1), refresh_code($rt2) ], [ 401, 401 ], 'every refresh token -> 401');
my $a3 = ua();
is(login($a3, $email, $pw)->code, 200, 'a new login afterwards');
is(tget($a3, '/trpc/auth.me')->code, 200, '... works');
is_deeply([ me_code($at1), me_code($at2) ], [ 401, 401 ], '... and does not revive any old access token');
is(scalar(grep { /:s:/ } user_keys($uid)), 1, 'Redis holds exactly the one new session');

# ---- sessions and revokeSession -------------------------------------------------------------------------------------------

my ($da, $de, $dpw, $duid) = login_ua('lo-devices');
my ($db, $dc) = (ua(), ua());
login($db, $de, $dpw);
login($dc, $de, $dpw);
my $sid_b = sid_of(jar_cookie($db, 'accessToken'));
$r = tget($da, '/trpc/auth.sessions');
is($r->code, 200, 'auth.sessions -> 200') or diag show($r);
$d = oget(dec($r), qw(result data));
$d = [] unless ref $d eq 'ARRAY';
is(scalar @$d, 3, 'three sessions, one per device');
ok(!grep({ ($_->{createdAt} // '') !~ ISO_RE || ($_->{lastSeenAt} // '') !~ ISO_RE } @$d),
   'createdAt and lastSeenAt are ISO-8601 strings') or diag explain $d;
is_deeply([ map { $_->{createdAt} } @$d ], [ sort { $b cmp $a } map { $_->{createdAt} } @$d ], 'newest first');
$r = tget($da, '/trpc-sj/auth.sessions');
$d = dec($r);
is_deeply(oget($d, qw(result data meta values 0.createdAt)), ['Date'], 'superjson: createdAt is a Date')
    or diag show($r);
is_deeply(oget($d, qw(result data meta values 0.lastSeenAt)), ['Date'], 'superjson: lastSeenAt is a Date');

$r = tpost($da, '/trpc/auth.revokeSession', { sessionId => $sid_b });
is($r->code, 200, 'revokeSession of device B -> 200') or diag show($r);
is_deeply([ map { tget($_, '/trpc/auth.me')->code } $da, $db, $dc ], [ 200, 401, 200 ],
          'B is refused at once, A and C keep working');
$r = tpost($da, '/trpc/auth.revokeSession', { sessionId => $sid_b });
is($r->code, 404, 'revoking it again -> 404') or diag show($r);
err_is(dec($r), 'NOT_FOUND', 'auth.revokeSession', '... NOT_FOUND');
my ($other) = login_ua('lo-other');
my $sid_c = sid_of(jar_cookie($dc, 'accessToken'));
$r = tpost($other, '/trpc/auth.revokeSession', { sessionId => $sid_c });
is($r->code, 404, "another user's session id -> 404 NOT_FOUND") or diag show($r);
is(tget($dc, '/trpc/auth.me')->code, 200, '... and that session still works');
is(tpost($da, '/trpc/auth.revokeSession', { sessionId => "../sessions" })->code, 404, 'a path-like id -> 404');
is(tpost($da, '/trpc/auth.revokeSession', { sessionId => 5 })->code, 400, 'a non-string id -> 400');

# ---- changePassword ----------------------------------------------------------------------------------------------------------

my ($p1, $pe, $ppw) = login_ua('lo-pw');
my $p2 = ua();
login($p2, $pe, $ppw);
$r = tpost($p1, '/trpc/auth.changePassword', { currentPassword => 'wrong-password', newPassword => 'new-password-1' });
is($r->code, 400, 'wrong current password -> 400') or diag show($r);
is_deeply(oget(dec($r), qw(error data zodError fieldErrors currentPassword)), ['Current password is incorrect'],
          '... fieldErrors.currentPassword = "Current password is incorrect"');
$r = tpost($p1, '/trpc/auth.changePassword', { currentPassword => $ppw, newPassword => 'x' x 73 });
is($r->code, 400, 'a new password of 73 bytes -> 400') or diag show($r);
$r = tpost($p1, '/trpc/auth.changePassword', { currentPassword => $ppw, newPassword => 'new-password-1' });
is($r->code, 200, 'changePassword -> 200') or diag show($r);
is_deeply([ tget($p1, '/trpc/auth.me')->code, tget($p2, '/trpc/auth.me')->code ], [ 200, 401 ],
          'this session stays, the other one is revoked');
is_deeply([ login(ua(), $pe, $ppw)->code, login(ua(), $pe, 'new-password-1')->code ], [ 401, 200 ],
          'the old password no longer logs in, the new one does');

# ---- TrpcAuthSessionCheck Off -----------------------------------------------------------------------------------------------

my ($s1) = login_ua('lo-stateless');
my ($sat) = tokens($s1);
is(tpost($s1, '/trpc/auth.logout', undef)->code, 200, 'logged out');
is(me_code($sat), 401, 'with the session check (default) the access token is refused');
is(with('GET', '/trpc-stateless/auth.me', "accessToken=$sat")->code, 200,
   'at a TrpcAuthSessionCheck Off location it still validates (stateless, until it expires)');
