# Cookie settings (TrpcAuthCookieNames, TrpcAuthCookieSameSite, TrpcAuthCookieDomain, TrpcAuthCookieSecure,
# TrpcAuthRefreshTokenTTL) on <VirtualHost trpc_cookies>, and the audit log (TrpcAuthAuditLog): auth_events rows on
# the main server, none where it is Off, never a password or a token in them.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;
use TrpcSess;

plan tests => 22;

my ($r, $a);
my $bare = bare_ua();
my $pw = 'cookie-settings-pw';

# ---- cookie settings ----------------------------------------------------------------------------------------------
vhost('trpc_cookies');
my $email = uniq_email('cookies');
register(ua(), $email, $pw);
$r = tpost(ua(), '/trpc/auth.login', { email => $email, password => $pw });
is($r->code, 200, 'login on the server with its own cookie settings') or diag show($r);
ok(!defined set_cookie($r, 'accessToken'), 'TrpcAuthCookieNames: no cookie under the default name');
$a = cookie_attrs(set_cookie($r, 'at'));
ok(length($a->{value} // ''), 'the access cookie is called at');
is($a->{samesite}, 'Lax', 'TrpcAuthCookieSameSite Lax');
is($a->{domain}, 'example.test', 'TrpcAuthCookieDomain example.test');
ok($a->{secure}, 'TrpcAuthCookieSecure On: Secure');
ok($a->{httponly}, '... and HttpOnly');
my $rt = cookie_attrs(set_cookie($r, 'rt'));
is($rt->{'max-age'}, 7200, 'TrpcAuthRefreshTokenTTL 2h: the refresh cookie lives 7200 s');
my (undef, $payload) = jwt_decode($rt->{value} // '');
is(($payload->{exp} // 0) - ($payload->{iat} // 0), 7200, '... and so does the refresh token');
is(cookie_attrs(set_cookie($r, 'li'))->{value}, 'true', 'the logged-in cookie is called li');

my $at = $a->{value} // '';
is(tget($bare, '/trpc/auth.me', undef, Cookie => "at=$at")->code, 200, 'the access cookie is read under its name');
is(tget($bare, '/trpc/auth.me', undef, Cookie => "accessToken=$at")->code, 401,
   '... and not under the default name');
my $uid = oget(dec(tget($bare, '/trpc/auth.me', undef, Cookie => "at=$at")), qw(result data id)) // 0;
is(count_rows("SELECT count(*) FROM auth_events WHERE user_id = $uid"), 0,
   'TrpcAuthAuditLog Off: register and login wrote no auth_events row');

# ---- the audit log (main server, On by default) -------------------------------------------------------------------
vhost('default');
my $e2 = uniq_email('audit');
$r = tpost(ua(), '/trpc/auth.register', { email => $e2, password => $pw });
my $uid2 = oget(dec($r), qw(result data user 0 id)) // 0;
ok($uid2 > 0, 'registered on the main server');
tpost(ua(), '/trpc/auth.login', { email => $e2, password => 'wrong-password-1' });
my $ua = ua();
$r = tpost($ua, '/trpc/auth.login', { email => $e2, password => $pw });
is($r->code, 200, 'logged in') or diag show($r);
my $sid = sid_of(jar_cookie($ua, 'accessToken') // '');
tpost($ua, '/trpc/auth.logout', undef);

my @events = psql("SELECT event FROM auth_events WHERE user_id = $uid2 ORDER BY id");
is_deeply(\@events, [qw(register login_failed login logout)], 'register, login_failed, login, logout in order');
is(count_rows("SELECT count(*) FROM auth_events WHERE user_id = $uid2 AND event = 'login' "
              . "AND session_id = '$sid' AND ip = '127.0.0.1' AND user_agent LIKE 'trpcauth-apache-test%'"),
   1, 'the login row carries the session id, the client IP and the user agent');
my ($detail) = psql("SELECT detail::text FROM auth_events WHERE user_id = $uid2 AND event = 'login_failed'");
like($detail // '', qr/"reason": "wrong password"/, 'login_failed says why');
unlike($detail // '', qr/wrong-password-1/, '... and never carries the password');
my ($all) = psql("SELECT string_agg(detail::text || coalesce(session_id, ''), ' ') FROM auth_events "
                 . "WHERE user_id = $uid2");
unlike($all // '', qr/eyJ/, 'no token in any row of the user');
is(count_rows("SELECT count(*) FROM auth_events WHERE user_id IS NULL AND event = 'login_failed' "
              . "AND detail->>'email' = 'nobody-$uid2\@example.com'"), 0, 'no row before the unknown email tries');
tpost(ua(), '/trpc/auth.login', { email => "nobody-$uid2\@example.com", password => $pw });
is(count_rows("SELECT count(*) FROM auth_events WHERE user_id IS NULL AND event = 'login_failed' "
              . "AND detail->>'email' = 'nobody-$uid2\@example.com' AND detail->>'reason' = 'unknown email'"), 1,
   'a login with an unknown email is recorded without a user');
