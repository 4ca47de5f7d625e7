# PostgreSQL connections are ready before the load comes (issue 15): mod_dbd opens a missing connection on the
# request path, under its pool's lock, and closes one left idle for DBDExptime. So each child opens DBDKeep
# connections (at most DBDMax and ThreadsPerChild) as it starts, before any request, runs the module's read
# statements on each, and takes them out again every DBDExptime / 2 while no request uses one: concurrent requests
# after start, and again after an idle spell longer than DBDExptime, use those very connections (the same
# PostgreSQL backends), and no new one is opened.
# Runs the configured httpd binary on a configuration of its own (one child of 8 threads, DBDKeep 3, DBDMax 5,
# DBDExptime 3), with the suite's PostgreSQL and Redis; its connections carry an application_name of their own.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TrpcT;

my $MODDIR = moddir();
use TrpcSess;
use TrpcHttpd;

plan tests => 11;

my $pg = Apache::Test::vars('trpc_pg_port');
my $redis = Apache::Test::vars('trpc_redis_port');
my $h = TrpcHttpd->new;
my $dir = $h->dir;
my $PORT = $h->port;
my $APP = "trpcwarm_$$";
my $BASE = "http://127.0.0.1:$PORT/trpc";

TrpcHttpd::spit("$dir/a.key", ('a' x 48) . "\n");
TrpcHttpd::spit("$dir/r.key", ('r' x 48) . "\n");

# Starts httpd with mod_dbd settings $dbd, runs $code->(), stops it; returns the error log.
sub with_server {
    my ($dbd, $code) = @_;
    return $h->with_server($code, loglevel => 'warn trpcauth:debug', extra => <<"CONF");
DBDriver pgsql
DBDParams "host=127.0.0.1 port=$pg dbname=trpcauth user=trpcauth connect_timeout=2 application_name=$APP"
DBDMin 0
$dbd
TrpcAuthRedis redis://127.0.0.1:$redis/0
TrpcAuthKeyPrefix "trpcauth-test-warm:"
TrpcAuthAccessKey HS256 file:$dir/a.key
TrpcAuthRefreshKey HS256 file:$dir/r.key
TrpcAuthCookieSecure Off
TrpcAuthBcryptCost 4
<Location /trpc>
    SetHandler trpcauth
</Location>
CONF
}

# The server's PostgreSQL backends: "pid|last statement" lines, sorted.
sub backends {
    return sort(psql("select pid || '|' || query from pg_stat_activity where application_name = '$APP'"));
}
sub pids { join ',', map { (split /\|/)[0] } @_ }

# The last statement a connection ran: mod_dbd's preparing, then the warmer's getAll statement.
my $WARMED = qr/\|PREPARE trpcauth_txn_list .* FROM transactions WHERE user_id = \$1/;

# Waits (at most 15 s) until the server has $n connections open, each past the warmer's statements; returns them.
sub wait_for_backends {
    my $n = shift;
    my @b;
    for (1 .. 150) {
        @b = backends();
        last if @b >= $n && !grep { !/$WARMED/ } @b;
        sleep 0.1;
    }
    return @b;
}

# $n transaction.getAll calls at once (one connection each; the child's threads serve them together).
sub burst {
    my ($n, $cookie) = @_;
    my @s = map {
        IO::Socket::INET->new(PeerAddr => "127.0.0.1:$PORT", Timeout => 30) or die "connect: $!"
    } 1 .. $n;
    print {$_} "GET /trpc/transaction.getAll HTTP/1.1\r\nHost: localhost\r\nCookie: $cookie\r\n"
              . "Connection: close\r\n\r\n" for @s;
    my @codes;
    for my $s (@s) {
        my $head = <$s> // '';
        push @codes, $head =~ m{^HTTP/1\.\d (\d{3})} ? $1 : 0;
        close $s;
    }
    return join ',', sort { $a <=> $b } @codes;
}

# (mod_dbd's settings inside a conditional section: read all the same)
my $log = with_server("<IfModule dbd_module>\n    DBDKeep 3\n    DBDMax 5\n    DBDExptime 3\n</IfModule>", sub {
    my @b = wait_for_backends(3);
    is(scalar @b, 3, 'before any request, the child has DBDKeep (3) PostgreSQL connections open') or diag "@b";
    is(scalar(grep { /$WARMED/ } @b), 3,
       '... and ran the module\'s getAll statement on each') or diag join "\n", @b;

    my $ua = ua();
    my $email = uniq_email('warm');
    my $r = register($ua, $email, 'warm-password-1', $BASE);
    is($r->code, 200, 'register') or diag show($r);
    $r = login($ua, $email, 'warm-password-1', $BASE);
    is($r->code, 200, 'login') or diag show($r);
    my $cookie = 'accessToken=' . (jar_cookie($ua, 'accessToken') // '');

    is(burst(3, $cookie), '200,200,200', '3 getAll at once: all 200');
    is(pids(backends()), pids(@b), '... served by the connections opened at start: no new one');

    sleep 5;    # longer than DBDExptime: mod_dbd would close a connection idle that long, when it hands it out
    is(pids(backends()), pids(@b), 'after 5 s idle (DBDExptime 3) the same connections are open');
    is(burst(3, $cookie), '200,200,200', '... 3 getAll at once: all 200');
    is(pids(backends()), pids(@b), '... served by those same connections: none expired, none opened');
});
like($log, qr/TRPCAUTH206: 3 PostgreSQL connections ready; taken again every 1500 ms/, 'the child said so (debug)')
    or diag $log;

# More to keep than the child has threads (8): a thread holds one connection at most, so 8 are kept.
$log = with_server("DBDKeep 10\nDBDMax 10", sub {
    my @b = wait_for_backends(8);
    sleep 0.5;      # (more would have been opened by now: they are taken at once)
    @b = backends();
    is(scalar @b, 8, 'DBDKeep 10, DBDMax 10, ThreadsPerChild 8: 8 connections open before any request')
        or diag join "\n", @b;
});
