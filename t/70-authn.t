# AuthType trpcauth (CONTRACT §5): the tRPC access cookie protects ordinary locations. r->user and the environment
# (REMOTE_USER, TRPCAUTH_USER_ID, TRPCAUTH_SESSION_ID, %u), the three TrpcAuthUnauthAction answers (401 with a JSON
# body, redirect with ?next=, pass), the identity header for backends (client-sent ones always removed, also for a
# mod_proxy backend), Require user / RequireAll, sub-requests, logout taking effect at once, the transparent refresh,
# and Redis unreachable answered 503, never 401. The locations are in t/conf/extra.conf.in ("AuthType trpcauth on
# ordinary locations"); /authn/<case>/env runs t/htdocs/authn-cgi/echo.cgi, which prints what a backend sees.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use TrpcT;
use URI::Escape qw(uri_escape uri_unescape);

plan tests => 80;

my $ANON = bare_ua();

# A logged-in user: its cookies, id and session id.
my ($ua, $email, $pw, $uid) = login_ua('authn');
my $at = jar_cookie($ua, 'accessToken') // '';
my $rt = jar_cookie($ua, 'refreshToken') // '';
my (undef, $claims) = jwt_decode($at);
my $sid = ref $claims eq 'HASH' ? $claims->{sid} : undef;
ok(defined $uid && length $at && defined $sid, 'a user is logged in (access cookie with a session id)')
    or diag "uid=" . ($uid // 'undef');
my @COOKIE = (Cookie => "accessToken=$at");

# GET with optional headers, on this server or another base URL.
sub get {
    my ($path, @headers) = @_;
    return req(bare_ua(), 'GET', $path, headers => \@headers);
}
# The JSON the echo CGI printed (what the backend saw), {} when the answer is not that.
sub seen { my $d = dec($_[0]); return ref $d eq 'HASH' ? $d : {} }
# Every value of the identity header that reached the backend (echoed back by mod_headers' "Header echo").
sub idh { return [ $_[0]->header('X-Remote-User') ] }
# Client-sent identity headers in two spellings (HTTP::Headers keeps a name that starts with ':' as it is).
my @FORGED = ('X-Remote-User' => '1', ':X_Remote_User' => '2');

# ---- 401 (the default) ------------------------------------------------------------------------------------------------

my $r = get('/authn/401/env');
is($r->code, 401, 'anonymous -> 401') or diag show($r);
like($r->header('Content-Type') // '', qr{^application/json\b}, '... with a JSON body');
err_is(dec($r), 'UNAUTHORIZED', undef, '... a tRPC UNAUTHORIZED error (no path)');
is($r->header('WWW-Authenticate'), 'trpcauth realm="trpcauth test"', '... WWW-Authenticate: trpcauth (never Basic)');
is($r->header('Cache-Control'), 'no-store', '... not cacheable');
unlike($r->content, qr/REMOTE_USER/, '... the CGI did not run');

$r = req(bare_ua(), 'HEAD', '/authn/401/env');
is($r->code, 401, 'HEAD anonymous -> 401');
is($r->content, '', '... without a body');

$r = req(bare_ua(), 'POST', '/authn/401/env', headers => ['Content-Type' => 'application/json'],
         body => '{"x":"' . ('y' x 20000) . '"}');
is($r->code, 401, 'POST with a body, anonymous -> 401 (body discarded)') or diag show($r);

$r = get('/authn/401/env', Cookie => 'accessToken=not.a.token');
is($r->code, 401, 'a garbage access cookie -> 401');
$r = get('/authn/401/env', Cookie => "refreshToken=$rt");
is($r->code, 401, 'only the refresh cookie, auto-refresh off -> 401');

# ---- success: r->user, environment, identity header -------------------------------------------------------------------

$r = get('/authn/401/env', @COOKIE, @FORGED);
is($r->code, 200, 'with the access cookie -> 200') or diag show($r);
my $env = seen($r);
is($env->{REMOTE_USER}, "$uid", 'REMOTE_USER = user id');
is($env->{AUTH_TYPE}, 'trpcauth', 'AUTH_TYPE = trpcauth');
is($env->{TRPCAUTH_USER_ID}, "$uid", 'TRPCAUTH_USER_ID = user id');
is($env->{TRPCAUTH_SESSION_ID}, $sid, 'TRPCAUTH_SESSION_ID = the session id of the token');
is($env->{HTTP_X_REMOTE_USER}, "$uid", 'identity header = user id (the client-sent value is gone)');
is_deeply(idh($r), ["$uid"], 'exactly one identity header reached the backend: ours (X_Remote_User removed too)');

$r = get('/authn/401/', @COOKIE);
is($r->code, 200, 'a static index behind AuthType trpcauth (mod_dir sub-request) -> 200') or diag show($r);
like($r->content, qr/A static page behind AuthType trpcauth/, '... the page');
is(get('/authn/401/')->code, 401, '... anonymous -> 401');

# %u and the environment in the access log (CustomLog authn_log "%u|%{TRPCAUTH_USER_ID}e|%{TRPCAUTH_SESSION_ID}e|%>s|%U")
{
    my $log = log_until('authn_log', sub { $_[0] =~ /^\Q$uid|$uid|$sid|200|\E/m });
    like($log, qr{^\Q$uid|$uid|$sid|200|/authn/401/\E}m, '%u and TRPCAUTH_* in the access log');
}

# ---- redirect -----------------------------------------------------------------------------------------------------------

$r = get('/authn/redirect/env?a=1&b=%2F&c=d%20e');
is($r->code, 302, 'redirect action: anonymous -> 302') or diag show($r);
my $loc = $r->header('Location') // '';
like($loc, qr{^/login\.html\?from=authn&next=}, '... to the login path, next= joined with & to its query');
my ($next) = $loc =~ /[?&]next=([^&]*)/;
is(uri_unescape($next // ''), '/authn/redirect/env?a=1&b=%2F&c=d%20e', '... next = the original path and query');
unlike($next // '', qr{[/?&=]}, '... url-encoded');
is($r->header('Cache-Control'), 'no-store', '... not cacheable');

$r = get('/authn/redirect/env', 'Sec-Fetch-Mode' => 'cors');
is($r->code, 401, 'redirect action, fetch() (Sec-Fetch-Mode: cors) -> 401 instead') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', undef, '... JSON UNAUTHORIZED');
$r = get('/authn/redirect/env', 'X-Requested-With' => 'XMLHttpRequest');
is($r->code, 401, 'redirect action, XHR (X-Requested-With) -> 401');
$r = get('/authn/redirect/env', 'Sec-Fetch-Mode' => 'navigate');
is($r->code, 302, 'redirect action, a navigation (Sec-Fetch-Mode: navigate) -> 302');

$r = get('//authn/redirect/env');
($next) = ($r->header('Location') // '') =~ /[?&]next=([^&]*)/;
is(uri_unescape($next // ''), '/authn/redirect/env', 'a target starting with // becomes a plain path in next=')
    or diag show($r);

$r = get('/authn/redirect/env', @COOKIE);
is($r->code, 200, 'redirect action, logged in -> 200');
is(seen($r)->{REMOTE_USER}, "$uid", '... REMOTE_USER');

# ---- pass -----------------------------------------------------------------------------------------------------------------

$r = get('/authn/pass/env', @FORGED);
is($r->code, 200, 'pass + Require all granted, anonymous -> 200') or diag show($r);
$env = seen($r);
ok(!exists $env->{REMOTE_USER} && !exists $env->{TRPCAUTH_USER_ID}, '... anonymous: no REMOTE_USER, no TRPCAUTH_USER_ID');
is_deeply(idh($r), [], '... client-sent identity headers removed (every spelling)');
ok(!exists $env->{HTTP_X_REMOTE_USER}, '... and absent from the environment');

$r = get('/authn/pass/env', @COOKIE, @FORGED);
is($r->code, 200, 'pass, logged in -> 200');
$env = seen($r);
is($env->{REMOTE_USER}, "$uid", '... identified all the same: REMOTE_USER');
is($env->{TRPCAUTH_SESSION_ID}, $sid, '... TRPCAUTH_SESSION_ID');
is_deeply(idh($r), ["$uid"], '... identity header = user id');

$r = get('/authn/pass/env', Cookie => 'accessToken=not.a.token');
is($r->code, 200, 'pass, an invalid cookie -> 200 anonymous');
ok(!exists seen($r)->{REMOTE_USER}, '... no REMOTE_USER');

$r = get('/authn/pass-user/env');
is($r->code, 403, 'pass + Require valid-user, anonymous -> 403 (refused, not challenged)') or diag show($r);
ok(!defined $r->header('WWW-Authenticate'), '... no WWW-Authenticate');
err_is(dec($r), 'FORBIDDEN', undef, '... JSON FORBIDDEN');
$r = get('/authn/pass-user/env', @COOKIE);
is($r->code, 200, 'pass + Require valid-user, logged in -> 200 (AuthType is case-insensitive)');

$r = get('/authn/scrub/env', @FORGED);
is_deeply(idh($r), [], 'TrpcAuthIdentityHeader without AuthType: client-sent identity headers removed');

# ---- Require user, RequireAll -------------------------------------------------------------------------------------------

# /authn/user/ has TrpcAuthSessionCheck Off: a token signed with the suite's key for any user id is enough.
my ($h, $p) = jwt_decode($at);
my $ak = key_bytes('access');
my $tok_a = jwt_sign($ak, $h, { %$p, sub => '424242' });
my $tok_b = jwt_sign($ak, $h, { %$p, sub => '424243' });
$r = get('/authn/user/env', Cookie => "accessToken=$tok_a");
is($r->code, 200, 'Require user 424242: user 424242 -> 200') or diag show($r);
is(seen($r)->{REMOTE_USER}, '424242', '... REMOTE_USER 424242');
$r = get('/authn/user/env', Cookie => "accessToken=$tok_b");
is($r->code, 403, 'Require user 424242: user 424243 -> 403') or diag show($r);
is(get('/authn/user/env')->code, 401, 'Require user 424242: anonymous -> 401');

is(get('/authn/all/env', @COOKIE)->code, 200, '<RequireAll> valid-user + local, logged in locally -> 200');
is(get('/authn/all/env')->code, 401, '<RequireAll> valid-user + local, anonymous -> 401');
is(get('/authn/all-denied/env', @COOKIE)->code, 403, '<RequireAll> valid-user + not local, logged in -> 403');

# ---- mod_proxy backend ------------------------------------------------------------------------------------------------

$r = get('/authn/proxy/', @COOKIE, @FORGED);
is($r->code, 200, 'reverse proxy, logged in -> 200') or diag show($r);
is(seen($r)->{HTTP_X_REMOTE_USER}, "$uid", '... the backend gets X-Remote-User = user id');
is_deeply(idh($r), ["$uid"], '... and no client-sent identity header in any spelling');
$r = get('/authn/proxy/', @FORGED);
is($r->code, 401, 'reverse proxy, anonymous -> 401 (the backend is not reached)');

# ---- logout takes effect at once ---------------------------------------------------------------------------------------

{
    my ($ua2, undef, undef, $uid2) = login_ua('authn-logout');
    my $at2 = jar_cookie($ua2, 'accessToken') // '';
    my (undef, $c2) = jwt_decode($at2);
    is(get('/authn/401/env', Cookie => "accessToken=$at2")->code, 200, 'second user: protected location -> 200');
    my $lo = tpost($ua2, '/trpc/auth.logout', undef);
    if ($lo->code == 404) {
        # auth.logout not there yet: revoke the session the way it does, in Redis.
        my @keys = redis_session_keys($c2->{sid} // 'none');
        redis('DEL', @keys) if @keys;
        diag 'auth.logout not available: session deleted in Redis instead';
    }
    else {
        is($lo->code, 200, 'auth.logout -> 200') or diag show($lo);
    }
    $r = get('/authn/401/env', Cookie => "accessToken=$at2");
    is($r->code, 401, 'after logout the (still unexpired) access cookie -> 401 at once') or diag show($r);
    is(get('/authn/redirect/env', Cookie => "accessToken=$at2")->code, 302, '... and the redirect location redirects');
    pass('(logout done through Redis)') if $lo->code == 404;
}

# ---- transparent refresh -----------------------------------------------------------------------------------------------

SKIP: {
    my $probe = tpost(bare_ua(), '/trpc/auth.refreshAccessToken', undef);
    skip 'auth.refreshAccessToken / TrpcAuthAutoRefresh not on this server yet', 5 if $probe->code == 404;
    my ($ua3, undef, undef, $uid3) = login_ua('authn-refresh');
    my $rt3 = jar_cookie($ua3, 'refreshToken') // '';
    $r = get('/authn/refresh/env', Cookie => "refreshToken=$rt3");
    is($r->code, 200, 'TrpcAuthAutoRefresh On: only the refresh cookie -> 200') or diag show($r);
    is(seen($r)->{REMOTE_USER}, "$uid3", '... REMOTE_USER');
    my $new_at = cookie_attrs(set_cookie($r, 'accessToken'));
    ok(length($new_at->{value} // '') > 20, '... a new access cookie is set on the response');
    ok($new_at->{httponly}, '... HttpOnly');
    $r = get('/authn/401/env', Cookie => "accessToken=$new_at->{value}");
    is($r->code, 200, '... and it opens the other locations');
}

# ---- Redis unreachable: 503, never 401 -----------------------------------------------------------------------------------

{
    my $port = Apache::Test::vars('trpcauth_noredis_port');
    my $base = "http://127.0.0.1:$port";
    $r = get("$base/authn/401/env", @COOKIE);
    is($r->code, 503, 'Redis unreachable, a valid cookie -> 503') or diag show($r);
    err_is(dec($r), 'SERVICE_UNAVAILABLE', undef, '... JSON SERVICE_UNAVAILABLE');
    ok(!defined set_cookie($r, 'accessToken'), '... the cookie is kept (not cleared)');
    is(get("$base/authn/redirect/env", @COOKIE)->code, 503, '... redirect action: 503, not a redirect');
    is(get("$base/authn/pass/env", @COOKIE)->code, 503, '... pass action with a cookie: 503');
    is(get("$base/authn/pass/env")->code, 200, '... pass action without a cookie: 200 (no Redis needed)');
    is(get("$base/authn/401/env")->code, 401, '... no cookie at all: 401 (no Redis needed)');
    $r = get("$base/authn/user/env", Cookie => "accessToken=$tok_a");
    is($r->code, 200, '... TrpcAuthSessionCheck Off needs no Redis -> 200') or diag show($r);
}

# ---- nothing crashed -----------------------------------------------------------------------------------------------------

my $log = error_log();
unlike($log, qr/Segmentation fault|exit signal|AH00052/, 'no child crashed (error_log)');
unlike($log, qr/\Q$at\E/, 'the access token never reached the error log');
