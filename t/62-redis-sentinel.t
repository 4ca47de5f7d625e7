# Redis through Sentinel (issue 13): TrpcAuthRedis redis-sentinel://user:pass@s1,s2,s3/mymaster/0?sentinel-password=...
#  - register, login and auth.me work through the master the Sentinels name, on connections authenticated as a Redis
#    ACL user, with Sentinels that have requirepass (sentinel-password=) or an ACL user of their own (sentinel-user=);
#  - a URL whose "Sentinel" is a Redis replica, one whose master name no Sentinel knows, and one whose named master
#    answers ROLE slave, all answer 503 (never 500), and the replica is never used;
#  - SENTINEL FAILOVER, then a SIGKILL of the new master: requests during the switch answer 200 or 503, never 500 or
#    401; writes land on the new master without restarting httpd; sessions made before work; a logout after the
#    switch makes the next auth.me 401 in every child (the session cache's listener followed the master);
#  - no password (Redis, ACL user, Sentinel) reaches the error log.
# Starts its own Redis master + replica + 3 Sentinels on ports TRPCAUTH_TEST_SENTINEL_PORT (default 56531) .. +4 (a
# port in use is replaced by a free one), and its own httpd (the MPM of the run, several children, one port per
# virtual host; not TrpcHttpd's one-child event server) with the suite's PostgreSQL; everything is stopped in END.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use Time::HiRes qw(sleep time);
use TrpcT;
use TrpcSess;
use TrpcHttpd ();

my $httpd = Apache::Test::vars('httpd');
my $top = Apache::Test::vars('top_dir');
my $pg = Apache::Test::vars('trpc_pg_port') || $ENV{TRPCAUTH_TEST_PG_PORT} || 55432;
my $mpm = TrpcHttpd::suite_mpm();
my $mods = TrpcHttpd::modules_dir();
my $sentinel_bin = -x '/usr/bin/redis-sentinel' ? '/usr/bin/redis-sentinel' : undef;

plan skip_all => 'redis-sentinel not installed (scripts/install-deps)' unless $sentinel_bin;
plan tests => 51;

# The ports lie in Linux's ephemeral range, where any outgoing connection on this machine may hold one for a while:
# a port that cannot be bound now is replaced by a free one the kernel picks.
sub free_port { TrpcHttpd::free_port() }
sub pick_port {
    my $want = shift;
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => $want, Proto => 'tcp',
                                  ReuseAddr => 1);
    return $want if $s && close $s;
    my $p = free_port();
    diag("port $want is in use: $p instead");
    return $p;
}
my $BASE = $ENV{TRPCAUTH_TEST_SENTINEL_PORT} || 56531;
my ($P_M, $P_R) = map { pick_port($BASE + $_) } 0, 1;     # master, replica (they swap roles on failover)
my @P_S = map { pick_port($BASE + $_) } 2, 3, 4;           # three Sentinels
my $REDIS_PW = 'Default-Pass-62x';                 # default user of master and replica (Sentinel, replication)
my ($APP, $APP_PW) = ('trpcapp', 'App-Pass-62x');  # the module's Redis ACL user
my $SENT_PW = 'Sentinel-Pass-62x';                 # requirepass of the Sentinels
my ($WATCH, $WATCH_PW) = ('watcher', 'Watch-Pass-62x');   # a Sentinel ACL user
my @SECRETS = ($REDIS_PW, $APP_PW, $SENT_PW, $WATCH_PW);
my $PREFIX = 'trpcauth-test-sentinel:';

my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;

sub spit { my ($f, $d) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $d; close $fh }
sub slurp { my $f = shift; open my $fh, '<:raw', $f or return ''; local $/; return scalar <$fh> }

# redis-cli on one of our instances.
sub rcli {
    my ($port, $auth, @args) = @_;
    open my $fh, '-|', 'redis-cli', '-h', '127.0.0.1', '-p', $port, @$auth, '--no-auth-warning', '--raw', @args
        or die "redis-cli: $!";
    my @out = <$fh>;
    close $fh;
    chomp @out;
    return @out;
}
sub rd { my $p = shift; rcli($p, ['-a', $REDIS_PW], @_) }     # master or replica
sub sn { my $p = shift; rcli($p, ['-a', $SENT_PW], @_) }      # a Sentinel
sub named_master { my @a = sn($P_S[0], 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster'); return $a[1] // '' }
sub wait_until {
    my ($secs, $cond) = @_;
    for (1 .. $secs * 10) { return 1 if $cond->(); sleep 0.1 }
    return $cond->();
}

# ---- Redis master + replica + 3 Sentinels --------------------------------------------------------------------------

# Stopped and waited for before File::Temp removes $dir: a Redis still shutting down writes its log there.
my @pidfiles;
sub stop_and_wait {
    my @pids = grep { $_ > 1 } map { slurp($_) =~ /^(\d+)/ ? $1 : () } @_;
    kill 'TERM', @pids;
    wait_until(10, sub { !grep { kill 0, $_ } @pids });
}
END { stop_and_wait(@pidfiles) }

sub start_redis {
    my ($port, @extra) = @_;
    my $conf = "$dir/redis-$port.conf";
    push @pidfiles, "$dir/redis-$port.pid";
    spit($conf, join "\n", "port $port", 'bind 127.0.0.1', 'daemonize yes', "pidfile $dir/redis-$port.pid",
         "logfile $dir/redis-$port.log", "dir $dir", "dbfilename redis-$port.rdb", 'save ""', 'appendonly no',
         "requirepass $REDIS_PW", "masterauth $REDIS_PW", 'maxmemory-policy noeviction',
         # what README asks of the module's ACL user, with +role for Sentinel
         "user $APP on >$APP_PW ~* &* +\@read +\@write +\@scripting +time +ping +select +auth +client +subscribe +role",
         @extra, '');
    start_listening($port, 'redis-server', $conf);
}

# Starts a daemonizing server and waits until it answers on $port; tries again when it could not bind (see
# pick_port).
sub start_listening {
    my ($port, @cmd) = @_;
    for (1 .. 5) {
        system(@cmd) == 0 or die "cannot start @cmd";
        return if wait_until(3, sub { IO::Socket::INET->new("127.0.0.1:$port") });
    }
    my $log = $cmd[-1] =~ s/\.conf\z/.log/r;
    die "@cmd: nothing listens on $port\n" . slurp($log) . `ss -tanp | grep ':$port '`;
}

sub start_sentinel {
    my $port = shift;
    my $conf = "$dir/sentinel-$port.conf";
    push @pidfiles, "$dir/sentinel-$port.pid";
    spit($conf, join "\n", "port $port", 'bind 127.0.0.1', 'daemonize yes', "pidfile $dir/sentinel-$port.pid",
         "logfile $dir/sentinel-$port.log", "dir $dir", "requirepass $SENT_PW", "sentinel sentinel-pass $SENT_PW",
         "sentinel monitor mymaster 127.0.0.1 $P_M 2", "sentinel auth-pass mymaster $REDIS_PW",
         'sentinel down-after-milliseconds mymaster 1000', 'sentinel failover-timeout mymaster 5000', '');
    start_listening($port, $sentinel_bin, $conf);
}

start_redis($P_M);
start_redis($P_R, "replicaof 127.0.0.1 $P_M");
start_sentinel($_) for @P_S;
wait_until(20, sub {
    (grep { $_ eq 'master_link_status:up' } map { s/\r//r } rd($P_R, 'INFO', 'replication'))
        && !grep { !(grep { $_ eq 'name' } sn($_, 'SENTINEL', 'REPLICAS', 'mymaster'))
                   || (grep { $_ eq 'name' } sn($_, 'SENTINEL', 'SENTINELS', 'mymaster')) < 2 } @P_S
}) or die "the Sentinels did not find the replica and each other in time\n";
for my $p (@P_S) {
    sn($p, 'ACL', 'SETUSER', $WATCH, 'on', ">$WATCH_PW", '-@all', '+sentinel|get-master-addr-by-name');
}
is(named_master(), $P_M, "3 Sentinels (requirepass) name 127.0.0.1:$P_M master, with its replica $P_R in sync");

# ---- httpd with the Sentinel URL ------------------------------------------------------------------------------------

spit("$dir/a.key", ('a' x 48) . "\n");
spit("$dir/r.key", ('r' x 48) . "\n");
my %PORT = map { $_ => free_port() } qw(main watcher nosentinel ghost replica);
my $SENTINELS = join ',', map { "127.0.0.1:$_" } @P_S;
my %URL = (
    main       => "redis-sentinel://$APP:$APP_PW\@$SENTINELS/mymaster/0?sentinel-password=$SENT_PW",
    watcher    => "redis-sentinel://$APP:$APP_PW\@$SENTINELS/mymaster?sentinel-user=$WATCH&sentinel-password=$WATCH_PW",
    nosentinel => "redis-sentinel://$APP:$APP_PW\@127.0.0.1:$P_R/mymaster",                 # a replica, no Sentinel
    ghost      => "redis-sentinel://$APP:$APP_PW\@$SENTINELS/ghost?sentinel-password=$SENT_PW",  # no such master
    replica    => "redis-sentinel://$APP:$APP_PW\@127.0.0.1:$P_S[0]/fake?sentinel-password=$SENT_PW",  # names a replica
);
my $mpm_conf = $mpm eq 'prefork'
    ? "StartServers 3\nMinSpareServers 3\nMaxSpareServers 3\nServerLimit 3\nMaxRequestWorkers 3"
    : "StartServers 2\nServerLimit 2\nThreadsPerChild 4\nMinSpareThreads 1\nMaxSpareThreads 8\nMaxRequestWorkers 8";
my $vhosts = join '', map {
    "Listen 127.0.0.1:$PORT{$_}\n<VirtualHost 127.0.0.1:$PORT{$_}>\n    TrpcAuthRedis \"$URL{$_}\"\n</VirtualHost>\n"
} qw(watcher nosentinel ghost replica);
sub httpd_conf {
    my $redis_url = shift;
    return <<"CONF";
ServerRoot "$dir"
ServerName localhost
LoadModule mpm_${mpm}_module $mods/mod_mpm_${mpm}.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dbd_module $mods/mod_dbd.so
LoadModule trpcauth_module "$top/.libs/mod_trpcauth.so"
User nobody
Group nogroup
Listen 127.0.0.1:$PORT{main}
$mpm_conf
ErrorLog "$dir/error_log"
LogLevel warn trpcauth:debug
PidFile "$dir/httpd.pid"
DBDriver pgsql
DBDParams "host=127.0.0.1 port=$pg dbname=trpcauth user=trpcauth connect_timeout=2"
DBDMin 0
TrpcAuthRedis "$redis_url"
TrpcAuthKeyPrefix "$PREFIX"
TrpcAuthSessionCache 60s
TrpcAuthAccessKey HS256 file:$dir/a.key
TrpcAuthRefreshKey HS256 file:$dir/r.key
TrpcAuthCookieSecure Off
TrpcAuthBcryptCost 4
<Location /trpc>
    SetHandler trpcauth
</Location>
<Location /trpcauth-metrics>
    SetHandler trpcauth-metrics
</Location>
$vhosts
CONF
}

# Malformed Sentinel URLs stop `httpd -t`, naming the directive and never showing a password.
for my $case (["redis-sentinel://$APP:$APP_PW\@$SENTINELS", qr/TrpcAuthRedis: '[^']*' names no master/],
              ["redis-sentinel://$APP:$APP_PW\@127.0.0.1:26379,127.0.0.1:99999/mymaster",
               qr/TrpcAuthRedis: 'redis-sentinel:\/\/\Q$APP\E:\*\*\*\@[^']*' has a bad port \(1 to 65535\) for Sentinel 2/],
              ["redis-sentinel://$SENTINELS/mymaster?sentinel-user=$WATCH",
               qr/TrpcAuthRedis: '[^']*' names a sentinel-user without a sentinel-password/],
              ["redis-sentinel://$SENTINELS/mymaster?sentinel-password=$SENT_PW&db=2",
               qr/TrpcAuthRedis: '[^']*sentinel-password=\*\*\*': the options of a Sentinel URL are/]) {
    spit("$dir/bad.conf", httpd_conf($case->[0]));
    my $out = qx{'$httpd' -t -f '$dir/bad.conf' 2>&1};
    my $rc = $? >> 8;
    ok($rc != 0 && $out =~ $case->[1] && !grep({ index($out, $_) >= 0 } @SECRETS),
       "configtest refuses '" . ($case->[0] =~ s/Pass-62x/***/gr) . "', naming TrpcAuthRedis, no password shown")
        or diag $out;
}
spit("$dir/good.conf", httpd_conf("redis-sentinel://[::1]:26379,127.0.0.1/mymaster/3?sentinel-user=u&sentinel-password=p"));
is(scalar(qx{'$httpd' -t -f '$dir/good.conf' 2>&1}) =~ /Syntax OK/ ? 'ok' : 'refused', 'ok',
   'configtest accepts a Sentinel URL with an IPv6 Sentinel, a default port, a db and Sentinel credentials');

my $conf = "$dir/httpd.conf";
spit($conf, httpd_conf($URL{main}));
END {
    stop_and_wait("$dir/httpd.pid");
    diag("the server's error log:\n" . slurp("$dir/error_log")) unless Test::More->builder->is_passing;
}
system($httpd, '-f', $conf, '-k', 'start') == 0 or die "httpd did not start:\n" . slurp("$dir/error_log");
wait_until(10, sub { -s "$dir/httpd.pid" && IO::Socket::INET->new("127.0.0.1:$PORT{main}") });
my $httpd_pid = slurp("$dir/httpd.pid") =~ /(\d+)/ ? $1 : 0;

sub url { my ($vh, $path) = @_; "http://127.0.0.1:$PORT{$vh}/trpc/$path" }
sub me_code { tget(bare_ua(), url('main', 'auth.me'), undef, Cookie => 'accessToken=' . shift)->code }
# A counter of the node (every virtual host's children count into one page).
sub counter { my ($m) = metrics("http://127.0.0.1:$PORT{main}/trpcauth-metrics"); return $m->{ 'trpcauth_' . shift } // -1 }
sub session_key { my ($uid, $at) = @_; "$PREFIX\{u:$uid}:s:" . sid_of($at) }

# A fresh user on vhost $vh: ($ua, $email, $password, $uid), registered and logged in.
sub user_on {
    my $vh = shift;
    my $ua = ua();
    my ($email, $pw) = (uniq_email("sent-$vh"), 'pw-' . int(rand(1e9)) . '-secret');
    my $r = tpost($ua, url($vh, 'auth.register'), { email => $email, password => $pw });
    my $uid = oget(dec($r), qw(result data user 0 id));
    my $l = tpost($ua, url($vh, 'auth.login'), { email => $email, password => $pw });
    return ($ua, $email, $pw, $uid, $r->code, $l->code);
}

# ---- through the Sentinels ------------------------------------------------------------------------------------------

my ($ua_a, $email_a, $pw_a, $uid_a, $reg, $log) = user_on('main');
is($reg, 200, 'register through the Sentinels (rate limiter on the master)')
    or BAIL_OUT('nothing works through the Sentinels');
is($log, 200, 'login through the Sentinels (session created)');
my $at_a = jar_cookie($ua_a, 'accessToken') // '';
is((rd($P_M, 'EXISTS', session_key($uid_a, $at_a)))[0], 1, "... the session is on the master ($P_M)");
my $r = tget($ua_a, url('main', 'auth.me'));
ok($r->code == 200 && (oget(dec($r), qw(result data id)) // '') eq ($uid_a // '-'), 'auth.me through the Sentinels')
    or diag show($r);
ok(scalar(grep { /\buser=\Q$APP\E\b/ } rd($P_M, 'CLIENT', 'LIST')),
   "the module's connections to the master are authenticated as ACL user $APP");

my ($ua_w, undef, undef, $uid_w, $reg_w, $log_w) = user_on('watcher');
ok($reg_w == 200 && $log_w == 200 && me_code(jar_cookie($ua_w, 'accessToken') // '') == 200,
   'a Sentinel ACL user (sentinel-user=, sentinel-password=): register, login, auth.me');
my $asked = counter('sentinel_queries_total');
ok($asked > 0 && counter('redis_master_switches_total') == 0,
   "metrics: the children asked the Sentinels ($asked times), no master switch yet");

# ---- no master: 503, never 500 --------------------------------------------------------------------------------------

$r = tpost(bare_ua(), url('nosentinel', 'auth.login'), { email => $email_a, password => $pw_a });
is($r->code, 503, 'a "Sentinel" that is a Redis replica: login answers 503');
err_is(dec($r), 'SERVICE_UNAVAILABLE', 'auth.login', '... SERVICE_UNAVAILABLE');
$r = tpost(bare_ua(), url('ghost', 'auth.login'), { email => $email_a, password => $pw_a });
is($r->code, 503, 'a master name no Sentinel knows: 503') or diag show($r);
is(tget(bare_ua(), url('ghost', 'auth.me'), undef, Cookie => "accessToken=$at_a")->code, 503,
   '... and auth.me with a valid token: 503, not a wrong 401');
cmp_ok(counter('sentinel_failures_total'), '>', 0, '... counted in trpcauth_sentinel_failures_total');

# A Sentinel that names the replica as master "fake": ROLE says slave, the connection is never used.
sn($P_S[0], 'SENTINEL', 'MONITOR', 'fake', '127.0.0.1', $P_R, 1);
sn($P_S[0], 'SENTINEL', 'SET', 'fake', 'auth-pass', $REDIS_PW);
$r = tpost(bare_ua(), url('replica', 'auth.login'), { email => $email_a, password => $pw_a });
is($r->code, 503, 'a Sentinel that names a replica as master: login answers 503') or diag show($r);
is(tget(bare_ua(), url('replica', 'auth.me'), undef, Cookie => "accessToken=$at_a")->code, 503,
   '... auth.me too (the replica holds the session, but is not used for reads either)');
like(slurp("$dir/error_log"), qr/TRPCAUTH125: Redis redis-sentinel:\/\/\Q$APP\E:\*\*\*\@127\.0\.0\.1:$P_S[0]\/fake\/0\?sentinel-password=\*\*\* ?: 127\.0\.0\.1:$P_R is not the master \(ROLE: slave\)/,
     '... the log says the named master is a replica (URL redacted)');
sn($P_S[0], 'SENTINEL', 'REMOVE', 'fake');

# ---- failover: SENTINEL FAILOVER, then the new master killed --------------------------------------------------------

# Requests during a switch: logins (writes) and auth.me of an existing session, until a login's session lands on the
# new master. Returns (codes seen, seconds until that first write on the new master).
sub through_switch {
    my ($new, $email, $pw, $uid, $at, $start) = @_;
    my (%codes, $first);
    my $ua = ua();
    my $t0 = time;
    $start->();
    while (time - $t0 < 40) {
        my $l = tpost($ua, url('main', 'auth.login'), { email => $email, password => $pw });
        $codes{ $l->code }++;
        my $m = me_code($at);
        $codes{$m}++;
        if ($l->code == 200 && named_master() eq $new) {
            my $tok = jar_cookie($ua, 'accessToken') // '';
            if ((rd($new, 'EXISTS', session_key($uid, $tok)))[0] == 1) {
                $first = time - $t0;
                last;
            }
        }
        sleep 0.05;
    }
    return (join(',', map { "$_ x$codes{$_}" } sort keys %codes), $first, \%codes);
}

my ($ua_b, $email_b, $pw_b, $uid_b) = user_on('main');
my $at_b = jar_cookie($ua_b, 'accessToken') // '';
me_code($at_a) for 1 .. 6;          # the session is in the session cache of every child
rd($P_M, 'WAIT', 1, 2000);           # both sessions reached the replica

my ($codes, $window, $seen) = through_switch($P_R, $email_b, $pw_b, $uid_b, $at_a,
                                             sub { sn($P_S[0], 'SENTINEL', 'FAILOVER', 'mymaster') });
diag(sprintf "SENTINEL FAILOVER: first write on the new master after %s s; codes seen: %s",
             defined $window ? sprintf('%.2f', $window) : 'never', $codes);
ok(defined $window, "SENTINEL FAILOVER: writes land on the new master ($P_R) without an httpd restart");
ok(!grep({ $_ != 200 && $_ != 503 } keys %$seen), '... requests during the switch answered 200 or 503 only')
    or diag $codes;
is(slurp("$dir/httpd.pid") =~ /(\d+)/ ? $1 : 0, $httpd_pid, '... the same httpd (no restart)');
# A child asks the Sentinels at most every TA_SENTINEL_RECHECK_MS (500 ms, store/sentinel.h): until then a child that
# asked just before the switch may still write to the demoted master, which answers ROLE master for seconds. That is
# the documented bound; past it, no child may write there.
sleep 0.6;
my $all_new = 1;
for (1 .. 4) {
    my $ua = ua();
    my $l = tpost($ua, url('main', 'auth.login'), { email => $email_b, password => $pw_b });
    my $tok = jar_cookie($ua, 'accessToken') // '';
    $all_new &&= $l->code == 200 && (rd($P_R, 'EXISTS', session_key($uid_b, $tok)))[0] == 1;
}
ok($all_new, '... every login 600 ms later is written on the new master (no child writes to the demoted one)');
is(me_code($at_a), 200, 'a session made before the failover still works');
is(me_code($at_b), 200, '... another one too');
my @codes = map { me_code($at_a) } 1 .. 6;
is("@codes", '200 ' x 5 . '200', '... in every child (the session caches follow the new master)');
$r = tpost(bare_ua(), url('main', 'auth.logout'), undef, Cookie => "accessToken=$at_a");
is($r->code, 200, 'logout after the failover') or diag show($r);
@codes = map { me_code($at_a) } 1 .. 8;
is("@codes", join(' ', ('401') x 8), '... the next auth.me answers 401 in every child (cache invalidated via the new master)');
is(named_master(), $P_R, "the Sentinels name $P_R master");
like(slurp("$dir/error_log"), qr/TRPCAUTH122: Redis redis-sentinel:\S+: the Sentinels name 127\.0\.0\.1:$P_R master \(was 127\.0\.0\.1:$P_M\)/,
     '... and the children logged the switch');
my $switches = counter('redis_master_switches_total');
cmp_ok($switches, '>=', 1, '... and counted it (trpcauth_redis_master_switches_total)');

# Second switch: the old master rejoins as a replica of the new one; then the new master dies (SIGKILL).
ok(wait_until(30, sub { (rd($P_M, 'ROLE'))[0] eq 'slave'
                         && grep { $_ eq 'master_link_status:up' } map { s/\r//r } rd($P_M, 'INFO', 'replication') }),
   "the demoted master ($P_M) runs as a replica of $P_R, in sync");
my ($ua_c, $email_c, $pw_c, $uid_c, $reg_c, $log_c) = user_on('main');
my $at_c = jar_cookie($ua_c, 'accessToken') // '';
is("$reg_c $log_c", '200 200', 'a user registered and logged in on the new master');
me_code($at_c) for 1 .. 6;
rd($P_R, 'WAIT', 1, 2000);
my $killed = slurp("$dir/redis-$P_R.pid") =~ /(\d+)/ ? $1 : 0;
($codes, $window, $seen) = through_switch($P_M, $email_c, $pw_c, $uid_c, $at_c, sub { kill 'KILL', $killed });
diag(sprintf "SIGKILL of the master: first write on the new master after %s s; codes seen: %s",
             defined $window ? sprintf('%.2f', $window) : 'never', $codes);
ok(defined $window, "master killed: the Sentinels promote $P_M and writes land there without an httpd restart");
ok(!grep({ $_ != 200 && $_ != 503 } keys %$seen), '... requests during the outage answered 200 or 503 only')
    or diag $codes;
ok(exists $seen->{503}, '... (the outage was seen: 503 while no master was reachable)') or diag $codes;
is(me_code($at_c), 200, 'a session made before the outage still works');
is(me_code($at_b), 200, '... and one made before both switches');
$r = tpost(bare_ua(), url('main', 'auth.logout'), undef, Cookie => "accessToken=$at_c");
is($r->code, 200, 'logout after the second failover');
@codes = map { me_code($at_c) } 1 .. 8;
is("@codes", join(' ', ('401') x 8), '... the next auth.me answers 401 in every child');
my ($ua_d, undef, undef, undef, $reg_d, $log_d) = user_on('main');
is("$reg_d $log_d", '200 200', 'register and login work on the new master');
is(me_code(jar_cookie($ua_d, 'accessToken') // ''), 200, '... and auth.me');
cmp_ok(counter('redis_master_switches_total'), '>', $switches, '... the second switch is counted too');

# ---- every Sentinel gone: the master named last stays in use ---------------------------------------------------------

my $failed = counter('sentinel_failures_total');
stop_and_wait(map { "$dir/sentinel-$_.pid" } @P_S);
sleep 0.6;      # past TA_SENTINEL_RECHECK_MS: every child that serves asks again, and finds no Sentinel
my ($ua_e, undef, undef, undef, $reg_e, $log_e) = user_on('main');
@codes = map { me_code(jar_cookie($ua_e, 'accessToken') // '') } 1 .. 6;
is("$reg_e $log_e @codes", '200 200 ' . join(' ', ('200') x 6),
   'no Sentinel answers: register, login and auth.me go on with the master named last (every child)');
cmp_ok(counter('sentinel_failures_total'), '>', $failed, '... the failed questions are counted');
like(slurp("$dir/error_log"), qr/TRPCAUTH121: Redis redis-sentinel:\S+: no Sentinel named the master \(.*\); connections stay with 127\.0\.0\.1:$P_M, the master they named last/,
     '... and logged, naming the master kept')
    or diag grep { /TRPCAUTH12[1-4]:/ && !/ghost|fake/ } split /^/, slurp("$dir/error_log");

# ---- no password in the log -----------------------------------------------------------------------------------------

my $elog = slurp("$dir/error_log");
my @shown = grep { index($elog, $_) >= 0 } @SECRETS;
is("@shown", '', 'no password (Redis, ACL user, Sentinel requirepass, Sentinel ACL user) is in the error log');
like($elog, qr/TRPCAUTH12[14]: Redis redis-sentinel:\/\/\Q$APP\E:\*\*\*\@127\.0\.0\.1:$P_S[0],\S+\/ghost\/0\?sentinel-password=\*\*\*/,
     '... the Sentinel URL is logged redacted (ghost master)');
unlike($elog, qr/\[(?:core|mpm_\w+):(?:crit|alert|emerg)\]|child pid \d+ exit signal/, 'no child crashed')
    or diag $elog;
