# Request limits at /trpc-small (TrpcAuthMaxBodySize 1024, TrpcAuthMaxBatchSize 3) answered as tRPC errors, and
# CORS at /trpc-cors (TrpcAuthCORSOrigin http://localhost:3000): preflight, headers on every answer to the listed
# origin (errors included), nothing for other origins, mutations from other origins refused, no Origin served.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 46;

my ($r, $d);
my $anon = ua();

# ---- body size -------------------------------------------------------------------------------------------------------

my $big = enc({ email => uniq_email('big'), password => 'x' x 2000 });
$r = tpost($anon, '/trpc-small/auth.register', \$big);
is($r->code, 413, 'body of ' . length($big) . ' bytes over TrpcAuthMaxBodySize 1024 -> 413') or diag show($r);
like(scalar $r->header('Content-Type') // '', qr{^application/json}i, '... as JSON, not an HTML error page');
$d = dec($r);
is(oget($d, qw(error data code)), 'PAYLOAD_TOO_LARGE', '... PAYLOAD_TOO_LARGE');
is_deeply([ oget($d, qw(error code)), oget($d, qw(error data httpStatus)) ], [ -32013, 413 ], '... code -32013, httpStatus 413');

my $body = enc({ email => 'not-an-email', password => 'long-enough-password', pad => '' });
$body = enc({ email => 'not-an-email', password => 'long-enough-password', pad => 'p' x (1024 - length $body) });
$r = tpost($anon, '/trpc-small/auth.register', \$body);
is(length $body, 1024, 'a body of exactly 1024 bytes ...');
is($r->code, 400, '... is read (400 for the bad email, not 413)') or diag show($r);

my @chunks = ('{"email":"a@example.com","pad":"' . ('y' x 500), ('y' x 500) x 3, '"}');
$r = req($anon, 'POST', '/trpc-small/auth.register', headers => ['Content-Type' => 'application/json'],
         body => sub { @chunks ? shift @chunks : '' });
is($r->code, 413, 'chunked body (no Content-Length) over the limit -> 413') or diag show($r);
is(oget(dec($r), qw(error data code)), 'PAYLOAD_TOO_LARGE', '... PAYLOAD_TOO_LARGE');

$r = tpost($anon, '/trpc/auth.register', \$big);
isnt($r->code, 413, 'the same body at /trpc (default 64 KB) is not too large') or diag show($r);

# ---- batch size ------------------------------------------------------------------------------------------------------

$r = tget($anon, '/trpc-small/auth.me,auth.me,auth.me,auth.me?batch=1', {});
is($r->code, 400, '4 calls with TrpcAuthMaxBatchSize 3 -> 400') or diag show($r);
$d = dec($r);
is(ref $d, 'HASH', '... one request-level object, not an array');
err_is($d, 'BAD_REQUEST', undef, '... BAD_REQUEST without data.path', 'Batch call exceeds maximum size');

$r = tpost($anon, '/trpc-small/auth.login,auth.login,auth.login,auth.login?batch=1', {});
is($r->code, 400, '4 mutations -> 400 as well (checked before any call runs)') or diag show($r);

$r = tget($anon, '/trpc-small/auth.me,auth.me,auth.me?batch=1', {});
is($r->code, 401, '3 calls are within the limit (401 x 3)') or diag show($r);
is(scalar @{ ref dec($r) eq 'ARRAY' ? dec($r) : [] }, 3, '... an array of three');

# ---- CORS: preflight ---------------------------------------------------------------------------------------------------

my $O = 'http://localhost:3000';
my @pre = ('Origin' => $O, 'Access-Control-Request-Method' => 'POST',
           'Access-Control-Request-Headers' => 'content-type');

$r = req($anon, 'OPTIONS', '/trpc-cors/auth.login?batch=1', headers => \@pre);
is($r->code, 204, 'preflight OPTIONS /trpc-cors/auth.login?batch=1 -> 204') or diag show($r);
is($r->header('Access-Control-Allow-Origin'), $O, 'Access-Control-Allow-Origin is the exact origin');
is($r->header('Access-Control-Allow-Credentials'), 'true', 'Access-Control-Allow-Credentials: true');
my $methods = join ',', $r->header('Access-Control-Allow-Methods');
ok($methods =~ /\bGET\b/ && $methods =~ /\bPOST\b/, "Allow-Methods contains GET and POST ($methods)");
like(join(',', $r->header('Access-Control-Allow-Headers')), qr/\bcontent-type\b/i, 'Allow-Headers contains content-type');
like(join(',', $r->header('Vary')), qr/\bOrigin\b/i, 'Vary contains Origin');
is($r->content, '', 'no body');

$r = req($anon, 'OPTIONS', '/trpc-cors/auth.me,transaction.getAll?batch=1&input=%7B%7D',
         headers => [ 'Origin' => $O, 'Access-Control-Request-Method' => 'GET',
                      'Access-Control-Request-Headers' => 'trpc-accept' ]);
is($r->code, 204, 'preflight for a streamed batch query -> 204') or diag show($r);
like(join(',', $r->header('Access-Control-Allow-Headers')), qr/\btrpc-accept\b/i, '... allows trpc-accept');

$r = req($anon, 'OPTIONS', '/trpc-cors/auth.login?batch=1',
         headers => [ 'Origin' => 'http://evil.example', 'Access-Control-Request-Method' => 'POST',
                      'Access-Control-Request-Headers' => 'content-type' ]);
ok(!defined $r->header('Access-Control-Allow-Origin'), 'preflight from another origin: no Access-Control-Allow-Origin')
    or diag show($r);

# ---- CORS: actual requests ---------------------------------------------------------------------------------------------

$r = tget($anon, '/trpc-cors/auth.me', undef, Origin => $O);
is($r->code, 401, 'GET auth.me from the listed origin, no cookie -> 401') or diag show($r);
is($r->header('Access-Control-Allow-Origin'), $O, 'the 401 carries Access-Control-Allow-Origin');
is($r->header('Access-Control-Allow-Credentials'), 'true', '... and Access-Control-Allow-Credentials: true');
like(join(',', $r->header('Vary')), qr/\bOrigin\b/i, '... and Vary: Origin');
ok(!grep({ $_ eq '*' } $r->header('Access-Control-Allow-Origin')), 'never *');

my $email = uniq_email('cors');
my $pw = 'cors-password';
$r = register(ua(), $email, $pw, '/trpc-cors');
is($r->code, 200, 'register without Origin (server to server) -> 200') or diag show($r);
ok(!defined $r->header('Access-Control-Allow-Origin'), '... without CORS headers');

my $ua = ua();
$r = login($ua, $email, $pw, '/trpc-cors');
is($r->code, 200, 'login without Origin -> 200') or diag show($r);
ok(defined set_cookie($r, 'accessToken'), '... sets the cookies');

my $evil = ua();
$r = tpost($evil, '/trpc-cors/auth.login', { email => $email, password => $pw }, Origin => 'http://evil.example');
ok($r->code >= 400 && $r->code < 500, 'login (a mutation) from an unlisted origin is refused') or diag show($r);
ok(!defined set_cookie($r, 'accessToken'), '... without cookies');
ok(ref oget(dec($r), 'error') eq 'HASH', '... with a tRPC error') or diag show($r);
ok(!defined $r->header('Access-Control-Allow-Origin'), '... and no Access-Control-Allow-Origin');

$r = tpost($evil, '/trpc-cors/transaction.create', { amount => 1, txnType => 'Incoming' }, Origin => 'http://evil.example',
           Cookie => 'accessToken=' . (jar_cookie($ua, 'accessToken') // ''));
ok($r->code >= 400 && $r->code < 500, 'a mutation with a valid cookie from an unlisted origin is refused') or diag show($r);
$r = tget($ua, '/trpc-cors/transaction.getAll');
is_deeply(oget(dec($r), qw(result data)), [], '... and wrote nothing') or diag show($r);

$r = tget($anon, '/trpc-cors/auth.me', undef, Origin => 'http://evil.example');
is($r->code, 401, 'a query from an unlisted origin is answered normally (401 here)') or diag show($r);
ok(!defined $r->header('Access-Control-Allow-Origin'), '... without Access-Control-Allow-Origin');

my $ok = ua();
$r = tpost($ok, '/trpc-cors/auth.login', { email => $email, password => $pw }, Origin => $O);
is($r->code, 200, 'login from the listed origin -> 200') or diag show($r);
is($r->header('Access-Control-Allow-Origin'), $O, '... with Access-Control-Allow-Origin');
ok(defined set_cookie($r, 'accessToken'), '... and the cookies');

$r = tget($ok, '/trpc-cors/auth.me', undef, Origin => $O);
is($r->code, 200, 'auth.me from the listed origin with the cookie -> 200') or diag show($r);
