# The cache of verified access tokens (TrpcAuthTokenCache, issue #6): a token verified once is remembered by
# each child, yet everything a full verification decides still holds on every request. exp is checked on each
# hit; only the exact bytes hit (a changed signature is verified, and fails); the session check still runs, so
# logout takes effect at once; with the cache off (trpc_nocache) the same tokens behave the same.
# Virtual hosts (t/conf/extra.conf.in): trpc_short (access TTL 2 s, no clock skew), trpc_nocache (TokenCache 0).
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;
use TrpcSess;

plan tests => 14;

my $bare = bare_ua();
my $N = 24;     # enough requests to reach every child (and, in each, the cache) more than once

sub me_with { tget($bare, '/trpc/auth.me', undef, Cookie => 'accessToken=' . shift) }
sub codes_of { me_codes(shift, $N) }
# The token with one character of its signature changed (a base64url character that carries whole bits).
sub tampered {
    my $t = shift;
    my $i = length($t) - 10;
    my $c = substr($t, $i, 1);
    substr($t, $i, 1) = $c eq 'A' ? 'B' : 'A';
    return $t;
}

# ---- exp is checked on every hit (trpc_short: tokens live 2 s, no leeway) ----------------------------------------
vhost('trpc_short');
my ($ua, undef, undef, $uid) = login_ua('tc');
my $at = jar_cookie($ua, 'accessToken') // '';
ok(length $at, 'logged in on the short-lived server');
is(codes_of($at), '200', "$N calls with a fresh token: all 200 (from the second on, cache hits)");
is(oget(dec(me_with($at)), qw(result data id)), $uid, '... and a hit gives the right user');
sleep 3;
is(codes_of($at), '401', "after its exp, the cached token is refused on all $N calls");
my $e = dec(me_with($at));
is(oget($e, qw(error data code)), 'UNAUTHORIZED', '... with UNAUTHORIZED');

# ---- only the exact bytes hit ------------------------------------------------------------------------------------
vhost('default');
($ua, undef, undef, $uid) = login_ua('tc2');
$at = jar_cookie($ua, 'accessToken') // '';
is(codes_of($at), '200', 'a token in the cache of every child');
my $bad = tampered($at);
isnt($bad, $at, 'a copy with one signature character changed');
is(codes_of($bad), '401', '... is verified, not looked up, and refused every time');
is(codes_of($at), '200', '... and the genuine token still works');

# ---- the session check still runs on a hit ---------------------------------------------------------------------------
my $r = tpost($bare, '/trpc/auth.logout', undef, Cookie => "accessToken=$at");
is($r->code, 200, 'logout') or diag show($r);
is(codes_of($at), '401', 'after logout the cached token is refused at once, on every call');

# ---- TrpcAuthTokenCache 0 ------------------------------------------------------------------------------------------
vhost('trpc_nocache');
($ua, undef, undef, $uid) = login_ua('tc3');
$at = jar_cookie($ua, 'accessToken') // '';
is(codes_of($at), '200', 'cache off: a valid token works on every call');
is(codes_of(tampered($at)), '401', '... a tampered one never does');
my $forged = jwt_sign('x' x 48, { alg => 'HS256', typ => 'at+jwt' },
                      { sub => "$uid", sid => sid_of($at), iat => time, exp => time + 600 });
is(codes_of($forged), '401', '... nor one signed with another key');
