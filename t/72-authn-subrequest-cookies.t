# AuthType trpcauth, two guarantees a backend relies on (security review, issue 11, low 1 and 7):
#   - a sub-request (here an SSI include) is judged by its own location: a page whose location skips the session
#     check cannot include a file whose location needs it with a revoked session, and a location with the
#     transparent refresh refreshes even when the including page's location did not;
#   - the module's own cookies (the 7-day refresh token above all) are removed from the Cookie header handed to CGI
#     scripts and proxied backends, unless TrpcAuthPassCookies On.
# Locations in t/conf/extra.conf.in ("a sub-request is judged by its own location").
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 24;

my $SECRET = 'top-secret-7f3a';

sub get {
    my ($path, @headers) = @_;
    return req(bare_ua(), 'GET', $path, headers => \@headers);
}
sub seen { my $d = dec($_[0]); return ref $d eq 'HASH' ? $d : {} }

# ---- sub-requests: the session check ---------------------------------------------------------------------------

my ($ua, $email, $pw, $uid) = login_ua('subreq');
my $at = jar_cookie($ua, 'accessToken') // '';
my (undef, $claims) = jwt_decode($at);
my $sid = ref $claims eq 'HASH' ? $claims->{sid} : '';
ok(length $at && $sid, 'a user is logged in');

my $r = get('/authn/pub/page.shtml', Cookie => "accessToken=$at");
is($r->code, 200, 'the public SSI page with a live session -> 200');
like($r->content, qr/\Q$SECRET\E/, '... and its include of the protected file is served');

my @keys = redis_session_keys($sid);
ok(scalar @keys, 'the session is in Redis');
redis('DEL', @keys) if @keys;

$r = get('/authn/app/secret.txt', Cookie => "accessToken=$at");
is($r->code, 401, 'session gone: the protected file itself -> 401');
$r = get('/authn/pub/page.shtml', Cookie => "accessToken=$at");
is($r->code, 200, 'session gone: the public page is still served (its location skips the check)');
unlike($r->content, qr/\Q$SECRET\E/, '... but its include of the protected file is refused (the check ran for it)')
    or diag $r->content;
like($r->content, qr/error occurred/, '... mod_include reports the failed include');

# ---- sub-requests: the transparent refresh ---------------------------------------------------------------------

my ($ua2) = login_ua('subreq-rt');
my $rt = jar_cookie($ua2, 'refreshToken') // '';
ok(length $rt, 'a second user with a refresh cookie');
$r = get('/authn/pub-index/', Cookie => "refreshToken=$rt");
is($r->code, 200, 'only the refresh cookie: a public directory whose index lies in a refreshing location -> 200');
like($r->content, qr/\Q$SECRET\E/, '... the index sub-request refreshed in place and was served')
    or diag show($r);
my @set = $r->header('Set-Cookie');
ok((grep { /^accessToken=[^;]+;/ } @set), '... and the new access cookie reached the client response')
    or diag join("\n", @set);

# In the middle of a page (SSI) the response has started: new cookies could not reach the client, so no refresh
# (a rotated refresh token the client never gets would later count as reused).
my ($ua4) = login_ua('subreq-ssi');
my $rt4 = jar_cookie($ua4, 'refreshToken') // '';
$r = get('/authn/pub/refresh.shtml', Cookie => "refreshToken=$rt4");
is($r->code, 200, 'an SSI page including a refreshing location, refresh cookie only -> 200');
ok($r->content !~ /\Q$SECRET\E/ && !grep({ /^accessToken=[^;]+;/ } $r->header('Set-Cookie')),
   '... the include is refused and nothing is refreshed once the response has started') or diag show($r);

# ---- the module's cookies never reach a backend ----------------------------------------------------------------

my ($ua3, undef, undef, $uid3) = login_ua('strip');
my $at3 = jar_cookie($ua3, 'accessToken') // '';
my $rt3 = jar_cookie($ua3, 'refreshToken') // '';
my $all = "theme=dark; accessToken=$at3; refreshToken=$rt3; logged_in=true; lang=en";

$r = get('/authn/cookies/env', Cookie => $all);
is($r->code, 200, 'a CGI behind AuthType trpcauth -> 200');
is(seen($r)->{REMOTE_USER}, "$uid3", '... authenticated by the access cookie');
is(seen($r)->{cookie}, 'theme=dark; lang=en', '... and it sees only the other cookies') or diag $r->content;

$r = get('/authn/cookies/env', Cookie => "accessToken=$at3", Cookie => "refreshToken=$rt3");
is($r->code, 200, 'our cookies alone, in two Cookie headers -> 200');
ok(!defined seen($r)->{cookie}, '... and the backend gets no Cookie header at all') or diag $r->content;

$r = get('/authn/proxy/', Cookie => $all);
is($r->code, 200, 'a reverse-proxied backend -> 200');
my $c = seen($r)->{cookie} // '';
ok($c !~ /refreshToken|accessToken|logged_in/ && $c =~ /theme=dark/,
   '... receives the request without the module\'s cookies') or diag $r->content;

$r = get('/authn/cookies-kept/env', Cookie => $all);
is($r->code, 200, 'TrpcAuthPassCookies On -> 200');
is(seen($r)->{cookie}, $all, '... and the backend sees every cookie as sent');

# The endpoint itself still reads them: a refresh through the API works after all of the above.
$r = req($ua3, 'POST', '/trpc/auth.refreshAccessToken', headers => ['Content-Type' => 'application/json']);
is($r->code, 200, 'the tRPC endpoint still gets its cookies') or diag show($r);
