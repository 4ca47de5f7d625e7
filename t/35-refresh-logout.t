# Session life cycle (CONTRACT §3, §4): auth.refreshAccessToken with only the refresh cookie rotates the refresh
# token, auth.sessions lists the caller's sessions, revokeSession / logout / logoutAll / changePassword take effect at
# once, and logout expires all three cookies.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 36;

my ($r, $d);
my $bare = bare_ua();
sub with_cookie { my ($method, $path, $cookie, $input) = @_;
                  $method eq 'GET' ? tget($bare, $path, $input, Cookie => $cookie)
                                   : tpost($bare, $path, $input, Cookie => $cookie) }
sub sid_of { my (undef, $p) = jwt_decode(shift); ref $p eq 'HASH' ? $p->{sid} // '' : '' }

# ---- refresh ---------------------------------------------------------------------------------------------------------

my ($ua, $email, $pw, $uid) = login_ua('life');
my $at = jar_cookie($ua, 'accessToken') // '';
my $rt = jar_cookie($ua, 'refreshToken') // '';

$r = with_cookie('POST', '/trpc/auth.refreshAccessToken', "refreshToken=$rt");
is($r->code, 200, 'refreshAccessToken with only the refresh cookie -> 200') or diag show($r);
is_deeply(dec($r), { result => { data => { success => true } } }, '... {"success":true}');
my $at2 = cookie_attrs(set_cookie($r, 'accessToken'))->{value} // '';
my $rt2 = cookie_attrs(set_cookie($r, 'refreshToken'))->{value} // '';
ok(length $at2 && defined set_cookie($r, 'logged_in'), '... sets accessToken and logged_in') or diag show($r);
ok(length $rt2 && $rt2 ne $rt, '... and a new refresh token (rotation)');
is(sid_of($at2), sid_of($at), 'the new access token keeps the session id');
my (undef, $p1) = jwt_decode($rt);
my (undef, $p2) = jwt_decode($rt2);
ok(ref $p1 eq 'HASH' && ref $p2 eq 'HASH' && ($p1->{jti} // '') ne ($p2->{jti} // ''), 'a fresh jti per issue');
$r = with_cookie('GET', '/trpc/auth.me', "accessToken=$at2");
is($r->code, 200, 'the refreshed access token works') or diag show($r);

$r = tpost(ua(), '/trpc/auth.refreshAccessToken', undef);
is($r->code, 401, 'refresh without a refresh cookie -> 401') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', 'auth.refreshAccessToken', '... UNAUTHORIZED');
$r = with_cookie('POST', '/trpc/auth.refreshAccessToken', "refreshToken=$at2");
is($r->code, 401, 'an access token in the refresh cookie -> 401') or diag show($r);
$r = with_cookie('POST', '/trpc/auth.refreshAccessToken', "refreshToken=$rt2; accessToken=garbage");
is($r->code, 200, 'refresh never needs a live access token (a garbage one beside it)') or diag show($r);
my $rt3 = cookie_attrs(set_cookie($r, 'refreshToken'))->{value} // '';
my $at3 = cookie_attrs(set_cookie($r, 'accessToken'))->{value} // '';

# ---- sessions and revokeSession ----------------------------------------------------------------------------------------

my $ub = ua();
$r = login($ub, $email, $pw);
is($r->code, 200, 'a second login of the same user') or diag show($r);
my $sid_b = sid_of(jar_cookie($ub, 'accessToken'));

$r = with_cookie('GET', '/trpc/auth.sessions', "accessToken=$at3");
is($r->code, 200, 'auth.sessions -> 200') or diag show($r);
$d = oget(dec($r), qw(result data));
$d = [] unless ref $d eq 'ARRAY';
is(scalar @$d, 2, 'two sessions');
is_deeply([ sort keys %{ $d->[0] || {} } ], [qw(createdAt current id ip lastSeenAt userAgent)],
          'session = {id, current, createdAt, lastSeenAt, ip, userAgent}');
is_deeply([ sort map { $_->{current} ? 1 : 0 } @$d ], [ 0, 1 ], 'exactly one is current');
my ($cur) = grep { $_->{current} } @$d;
is(($cur || {})->{id}, sid_of($at3), 'the current one is this session');
ok(!grep({ ($_->{userAgent} // '') !~ /trpcauth-apache-test/ || ($_->{ip} // '') ne '127.0.0.1' } @$d),
   'ip and userAgent recorded') or diag explain $d;
unlike($r->content, qr/eyJ|\$2[aby]\$/, 'no token or hash in the list');

my ($other_ua) = login_ua('life-other');
$r = tpost($other_ua, '/trpc/auth.revokeSession', { sessionId => $sid_b });
ok($r->code != 200 || !oget(dec($r), qw(result data success)), "another user cannot revoke this user's session")
    or diag show($r);
$r = tget($ub, '/trpc/auth.me');
is($r->code, 200, '... it still works') or diag show($r);

$r = with_cookie('POST', '/trpc/auth.revokeSession', "accessToken=$at3", { sessionId => $sid_b });
is($r->code, 200, 'revokeSession of my second session -> 200') or diag show($r);
$r = tget($ub, '/trpc/auth.me');
is($r->code, 401, '... that session is refused at once') or diag show($r);
$r = with_cookie('GET', '/trpc/auth.me', "accessToken=$at3");
is($r->code, 200, '... this one still works') or diag show($r);

# ---- logout ----------------------------------------------------------------------------------------------------------

$r = with_cookie('POST', '/trpc/auth.logout', "accessToken=$at3; refreshToken=$rt3");
is($r->code, 200, 'logout -> 200') or diag show($r);
my @gone = grep { (cookie_attrs(set_cookie($r, $_))->{'max-age'} // -1) eq '0' } qw(accessToken refreshToken logged_in);
is_deeply(\@gone, [qw(accessToken refreshToken logged_in)], '... expires all three cookies (Max-Age=0)') or diag show($r);
$r = with_cookie('GET', '/trpc/auth.me', "accessToken=$at3");
is($r->code, 401, 'the access token of the logged-out session -> 401') or diag show($r);
$r = with_cookie('POST', '/trpc/auth.refreshAccessToken', "refreshToken=$rt3");
is($r->code, 401, 'its refresh token -> 401') or diag show($r);

# ---- logoutAll -------------------------------------------------------------------------------------------------------

my ($c1, $ce, $cpw) = login_ua('life-all');
my $c2 = ua();
login($c2, $ce, $cpw);
$r = tpost($c1, '/trpc/auth.logoutAll', undef);
is($r->code, 200, 'logoutAll -> 200') or diag show($r);
is_deeply([ tget($c1, '/trpc/auth.me')->code, tget($c2, '/trpc/auth.me')->code ], [ 401, 401 ],
          'every session of the user is refused at once');
is(tpost($c2, '/trpc/auth.refreshAccessToken', undef)->code, 401, '... and cannot be refreshed');

# ---- changePassword ----------------------------------------------------------------------------------------------------

my ($d1, $de, $dpw) = login_ua('life-pw');
my $d2 = ua();
login($d2, $de, $dpw);
$r = tpost($d1, '/trpc/auth.changePassword', { currentPassword => 'not-the-password', newPassword => 'brand-new-password' });
ok($r->code >= 400 && $r->code < 500, 'changePassword with a wrong current password -> 4xx') or diag show($r);
$r = tpost($d1, '/trpc/auth.changePassword', { currentPassword => $dpw, newPassword => 'short' });
is($r->code, 400, 'changePassword with a too short new password -> 400') or diag show($r);
$r = tpost($d1, '/trpc/auth.changePassword', { currentPassword => $dpw, newPassword => 'brand-new-password' });
is($r->code, 200, 'changePassword -> 200') or diag show($r);
is_deeply([ tget($d1, '/trpc/auth.me')->code, tget($d2, '/trpc/auth.me')->code ], [ 200, 401 ],
          'this session stays, the other one is revoked');
is_deeply([ login(ua(), $de, $dpw)->code, login(ua(), $de, 'brand-new-password')->code ], [ 401, 200 ],
          'the old password no longer works, the new one does');
