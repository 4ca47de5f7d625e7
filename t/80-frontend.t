# The tutorial's part-4 Next.js frontend (issue #7, CONTRACT §2, §5, §11; frontend-traffic.md §3.5-3.8, §6 items
# 12-16), against a server configured as docs/finance-tracker.md says: virtual host
# trpc_frontend (t/conf/extra.conf.in: access tokens of 2 s, TrpcAuthRefreshReturnsAccessToken On,
# TrpcAuthRefreshRotation Off; /trpc-frontend with superjson, CORS for http://localhost:3000 and
# TrpcAuthAutoRefresh On, /trpc-frontend-noauto the same with it Off). trpc_frontend_rot shows why rotation must be
# Off for this frontend. Requests are sent with the frontend's exact bytes (superjson 2.2.1, ?batch=1).
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;
use TrpcSess;

plan tests => 52;

my $O = 'http://localhost:3000';
my $NOINPUT = '{"0":{"json":null,"meta":{"values":["undefined"]}}}';    # 51 bytes, as the v10 client sends it
my $GETALL = '/transaction.getAll?batch=1&input=%7B%220%22%3A%7B%22json%22%3Anull%2C%22meta%22%3A%7B%22values%22%3A%5B%22undefined%22%5D%7D%7D%7D';
my @BROWSER = (Origin => $O, Referer => "$O/", 'Sec-Fetch-Site' => 'same-site', 'Sec-Fetch-Mode' => 'cors');
my @MIDDLEWARE = ('User-Agent' => 'Next.js Middleware', 'x-middleware-subrequest' => 'src/middleware');
my $bare = bare_ua();
my ($r, $d);

# A POST with the frontend's bytes: body is the raw batch body.
sub bpost { my ($path, $body, @h) = @_; tpost($bare, $path, \$body, @h) }
sub bget  { my ($path, @h) = @_; req($bare, 'GET', $path, headers => ['Content-Type' => 'application/json', @h]) }
sub cookies { my %c = @_; return (Cookie => join '; ', map { "$_=$c{$_}" } grep { defined $c{$_} } sort keys %c) }
sub cors_ok {
    my ($res, $what) = @_;
    my $vary = join ',', $res->header('Vary');
    ok(($res->header('Access-Control-Allow-Origin') // '') eq $O
       && ($res->header('Access-Control-Allow-Credentials') // '') eq 'true'
       && $vary =~ /\bOrigin\b/i, "$what: Access-Control-Allow-Origin $O, -Credentials true, Vary: Origin")
        or diag show($res);
}
sub data_of { my $x = oget(dec($_[0]), 0, qw(result data json)); return $x }

vhost('trpc_frontend');

# ---- register and log in from the page -------------------------------------------------------------------------------
my $email = uniq_email('frontend');
my $pw = 'frontend-password';
my $cred = enc({ 0 => { json => { email => $email, password => $pw } } });
$r = bpost('/trpc-frontend/auth.register?batch=1', $cred, @BROWSER);
is($r->code, 200, 'auth.register from the page -> 200') or diag show($r);
cors_ok($r, '... ');

$r = bpost('/trpc-frontend/auth.login?batch=1', $cred, @BROWSER);
is($r->code, 200, 'auth.login from the page -> 200') or diag show($r);
cors_ok($r, '... ');
my $at = cookie_value($r, 'accessToken') // '';
my $rt = cookie_value($r, 'refreshToken') // '';
my $li = cookie_attrs(set_cookie($r, 'logged_in'));
ok(length $at && length $rt, '... sets accessToken and refreshToken');
is($li->{value}, 'true', '... and logged_in=true');
ok(defined $li->{'max-age'} && $li->{'max-age'} <= cookie_attrs(set_cookie($r, 'accessToken'))->{'max-age'},
   "... logged_in lives no longer than the access token (Max-Age $li->{'max-age'})");

# ---- the middleware's refresh (frontend-traffic.md §3.5) --------------------------------------------------------------
$r = bpost('/trpc-frontend/auth.refreshAccessToken?batch=1', $NOINPUT, cookies(refreshToken => $rt), @MIDDLEWARE);
is($r->code, 200, 'refresh with only Cookie: refreshToken=…, no Origin -> 200') or diag show($r);
$d = data_of($r);
is(oget($d, 'success'), true, '... {success:true, …}');
my $planted = oget($d, 'accessToken') // '';
my ($h) = jwt_decode($planted);
is(oget($h, 'typ'), 'at+jwt', '... and accessToken, an access JWT (TrpcAuthRefreshReturnsAccessToken On)');
like($r->content, qr/^\[\{"result":\{"data":\{"json":\{/, '... as a batch of one superjson result');
ok(!defined $r->header('Access-Control-Allow-Origin'), '... no CORS headers without Origin (the middleware ignores them)');
my $set_rt = cookie_value($r, 'refreshToken');
ok(!defined $set_rt || $set_rt eq $rt, 'rotation Off: no new refresh token (the middleware would drop it anyway)');

$r = bget("/trpc-frontend$GETALL", @BROWSER, cookies(refreshToken => $rt, accessToken => $planted, logged_in => 'true'));
is($r->code, 200, 'the returned token works as the accessToken cookie (the middleware planted it)') or diag show($r);
cors_ok($r, '... ');
is_deeply(data_of($r), [], '... getAll -> []');

sleep 2;    # past the 1 s reuse grace: with rotation On the next refresh with $rt would be reuse
$r = bpost('/trpc-frontend/auth.refreshAccessToken?batch=1', $NOINPUT, cookies(refreshToken => $rt), @MIDDLEWARE);
is($r->code, 200, 'a later refresh with the same (browser-held) refresh cookie still works: no reuse detection') or diag show($r);
$planted = oget(data_of($r), 'accessToken') // '';

$r = bpost('/trpc-frontend/auth.refreshAccessToken?batch=1', $NOINPUT, cookies(refreshToken => 'not.a.token'), @MIDDLEWARE);
ok($r->code >= 400 && ref oget(dec($r), 0, qw(error json)) eq 'HASH',
   'an invalid refresh token gives an error item (frontend-traffic.md §3.7)') or diag show($r);

# ---- the planted access token expires (§3.6): AutoRefresh On rescues, Off is UNAUTHORIZED -------------------------------
sleep 3;    # access lifetime 2 s, no clock skew
my @stuck = (@BROWSER, cookies(refreshToken => $rt, accessToken => $planted, logged_in => 'true'));
$r = bget("/trpc-frontend-noauto$GETALL", @stuck);
is($r->code, 401, 'expired access cookie, AutoRefresh Off: getAll -> 401') or diag show($r);
is(oget(dec($r), 0, qw(error json data code)), 'UNAUTHORIZED', '... UNAUTHORIZED');
cors_ok($r, '... the 401');
ok(!defined set_cookie($r, 'accessToken'), '... and no new cookie');

$r = bget("/trpc-frontend$GETALL", @stuck);
is($r->code, 200, 'expired access cookie, AutoRefresh On: getAll -> 200') or diag show($r);
is_deeply(data_of($r), [], '... with the data');
cors_ok($r, '... ');
my $new_at = cookie_value($r, 'accessToken') // '';
my $new_li = cookie_attrs(set_cookie($r, 'logged_in'));
ok(length $new_at && $new_at ne $planted, '... Set-Cookie: a new accessToken');
is($new_li->{value}, 'true', '... Set-Cookie: logged_in=true');
ok(defined $new_li->{'max-age'} && $new_li->{'max-age'} > 0 && $new_li->{'max-age'} <= 2,
   "... logged_in expires with the new access token (Max-Age $new_li->{'max-age'})");
my $auto_rt = cookie_value($r, 'refreshToken');
ok(!defined $auto_rt || $auto_rt eq $rt, '... the refresh cookie is kept (rotation Off)');

$r = bget("/trpc-frontend$GETALL", @BROWSER, cookies(refreshToken => $rt, accessToken => $new_at, logged_in => 'true'));
is($r->code, 200, 'the new access cookie works') or diag show($r);
ok(!defined set_cookie($r, 'accessToken'), '... without another refresh');

$r = bget("/trpc-frontend$GETALL", @BROWSER, cookies(refreshToken => $rt));
is($r->code, 200, 'only the refresh cookie (accessToken and logged_in expired in the browser), AutoRefresh On -> 200')
    or diag show($r);
ok(length(cookie_value($r, 'accessToken') // '') && (cookie_value($r, 'logged_in') // '') eq 'true',
   '... sets accessToken and logged_in');

$r = bpost('/trpc-frontend/transaction.create?batch=1',
           '{"0":{"json":{"amount":7,"txnType":"Outgoing","summary":"","tag":null},"meta":{"values":{"tag":["undefined"]}}}}',
           @BROWSER, cookies(refreshToken => $rt, accessToken => $planted, logged_in => 'true'));
is($r->code, 200, 'a mutation with the expired cookie is refreshed too') or diag show($r);
is(oget(data_of($r), 0, 'tag'), 'Others', '... tag undefined -> "Others"');

$r = bget("/trpc-frontend$GETALL", @BROWSER, cookies(refreshToken => 'not.a.token', accessToken => $planted));
is($r->code, 401, 'an invalid refresh cookie and an expired access cookie -> 401') or diag show($r);
cors_ok($r, '... ');

# ---- preflight on the vhost ---------------------------------------------------------------------------------------
$r = req($bare, 'OPTIONS', "/trpc-frontend$GETALL",
         headers => [ Origin => $O, 'Access-Control-Request-Method' => 'GET', 'Access-Control-Request-Headers' => 'content-type' ]);
is($r->code, 204, 'preflight of the dashboard query -> 204') or diag show($r);
cors_ok($r, '... ');

# ---- logout (§3.8): logged_in is expired, not set to false ------------------------------------------------------------
$r = bpost('/trpc-frontend-noauto/auth.logout?batch=1', $NOINPUT, @BROWSER,
           cookies(refreshToken => $rt, accessToken => $planted, logged_in => 'true'));
is($r->code, 200, 'auth.logout with an expired access cookie and the refresh cookie -> 200 (not stuck, §3.6)')
    or diag show($r);
cors_ok($r, '... ');
for my $c (qw(accessToken refreshToken logged_in)) {
    my $a = cookie_attrs(set_cookie($r, $c));
    is($a->{'max-age'}, '0', "... expires $c (Max-Age=0)");
}
isnt(cookie_attrs(set_cookie($r, 'logged_in'))->{value}, 'false', '... never logged_in=false (the redirect loop)');

$r = bpost('/trpc-frontend/auth.refreshAccessToken?batch=1', $NOINPUT, cookies(refreshToken => $rt), @MIDDLEWARE);
ok($r->code >= 400, 'after logout the refresh cookie is dead') or diag show($r);
$r = bget("/trpc-frontend$GETALL", @BROWSER, cookies(refreshToken => $rt));
is($r->code, 401, '... and AutoRefresh cannot use it') or diag show($r);

# ---- why rotation must be Off for this frontend -------------------------------------------------------------------------
vhost('trpc_frontend_rot');
my $ua2 = ua();
my $email2 = uniq_email('frontend-rot');
register($ua2, $email2, $pw);
$r = login($ua2, $email2, $pw);
my $rt_browser = cookie_value($r, 'refreshToken') // '';
$r = bpost('/trpc/auth.refreshAccessToken?batch=1', $NOINPUT, cookies(refreshToken => $rt_browser), @MIDDLEWARE);
is($r->code, 200, 'rotation On: the middleware\'s refresh works once') or diag show($r);
my $rot_at = oget(dec($r), 0, qw(result data accessToken)) // '';
ok((cookie_value($r, 'refreshToken') // $rt_browser) ne $rt_browser,
   '... but rotates the refresh token in a Set-Cookie the middleware drops');
$r = tget($bare, '/trpc/auth.me', undef, cookies(accessToken => $rot_at));
is($r->code, 200, '... its access token works for now') or diag show($r);
sleep 2;    # past the 1 s grace
$r = bpost('/trpc/auth.refreshAccessToken?batch=1', $NOINPUT, cookies(refreshToken => $rt_browser), @MIDDLEWARE);
ok($r->code >= 400, 'the next refresh with the cookie the browser still holds is reuse: refused') or diag show($r);
$r = tget($bare, '/trpc/auth.me', undef, cookies(accessToken => $rot_at));
is($r->code, 401, '... and the whole session is revoked: the user is logged out') or diag show($r);
