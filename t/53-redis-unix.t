# Redis through its unix socket (TrpcAuthRedis unix:///path): every kind of Redis call works over it (the rate
# limiter's EVALSHA, session creation, the session check, revocation). It once did not: TCP keep-alive was
# switched on for every connection, which hiredis refuses on a unix socket, and each call then failed with 503.
# Virtual host trpc_unix (t/conf/extra.conf.in) shares the main server's Redis, through the socket.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;
use TrpcSess;

plan tests => 7;

my $bare = bare_ua();
sub me_with { tget($bare, '/trpc/auth.me', undef, Cookie => 'accessToken=' . shift) }

vhost('trpc_unix');
my ($ua, $email, $pw, $uid) = login_ua('unix');
ok(defined $uid, 'register over the unix socket (rate limiter, then PostgreSQL)');
my $at = jar_cookie($ua, 'accessToken') // '';
ok(length $at, 'login over the unix socket (rate limiters, session creation)');
my $sid = sid_of($at);
is((redis('EXISTS', "trpcauth-test:{u:$uid}:s:$sid"))[0], 1, '... the session is in the same Redis');
my $r = me_with($at);
is($r->code, 200, 'auth.me: the session check over the unix socket') or diag show($r);
is(oget(dec($r), qw(result data id)), $uid, '... for the right user');

$r = tpost($bare, '/trpc/auth.logout', undef, Cookie => "accessToken=$at");
is($r->code, 200, 'logout over the unix socket') or diag show($r);
vhost('default');
is(me_with($at)->code, 401, 'the main server (TCP) sees the session gone');
