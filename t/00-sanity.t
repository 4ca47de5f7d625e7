# The server starts with mod_trpcauth loaded, the tRPC handler answers, and both services (PostgreSQL via
# mod_dbd, Redis) are reachable from it: register writes a user, login creates a session, auth.me reads it back.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 7;

my $ua = ua();

my $r = tget($ua, '/trpc/auth.me');
is($r->code, 401, 'GET /trpc/auth.me without a cookie is answered by the module with 401') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', 'auth.me', 'the 401 is a tRPC error object');
like(scalar $r->header('Content-Type') // '', qr{^application/json\s*\z}i, 'content-type application/json');

my $email = uniq_email('sanity');
$r = register($ua, $email, 'sanity-password');
is($r->code, 200, 'auth.register works (PostgreSQL through mod_dbd)') or diag show($r);

$r = login($ua, $email, 'sanity-password');
is($r->code, 200, 'auth.login works (session in Redis)') or diag show($r);

$r = tget($ua, '/trpc/auth.me');
is($r->code, 200, 'auth.me with the cookie') or diag show($r);
is(oget(dec($r), qw(result data email)), $email, 'auth.me returns the registered user');
