# The module behaves like any Apache module at start (issue 12): loaded but used nowhere it does nothing (no
# error, no thread, no log line); every configuration error of a server that uses it is reported by `httpd -t`
# (check_config, which configtest runs), naming the directive and the use; its lines carry the module tag and obey
# `LogLevel trpcauth:LEVEL`; and a virtual host with a mod_dbd group of its own gets the prepared statements.
# Runs the configured httpd binary on small configurations of its own, and the suite's server for the last part.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use TrpcT;
use TrpcHttpd;

plan tests => 20;

my $h = TrpcHttpd->new;
my $dir = $h->dir;
my $PORT = $h->port;
*spit = \&TrpcHttpd::spit;
*slurp = \&TrpcHttpd::slurp;

spit("$dir/a.key", ('a' x 48) . "\n");
spit("$dir/r.key", ('r' x 48) . "\n");
spit("$dir/htdocs/index.html", "static\n");
chmod 0644, "$dir/htdocs/index.html";
# A directory whose .htaccess names the handler: invisible to check_config.
mkdir "$dir/htdocs/api"; chmod 0755, "$dir/htdocs/api";
spit("$dir/htdocs/api/.htaccess", "SetHandler trpcauth\n");
chmod 0644, "$dir/htdocs/api/.htaccess";

sub configtest { $h->configtest(@_) }
sub with_server { my $code = shift; $h->with_server($code, @_) }

# Threads of the server's children (the listener thread of a session cache would add one per child), counted once
# the count has settled (the MPM starts its worker threads after the child itself; slower under ASan).
sub count_threads {
    my $pid = slurp("$dir/httpd.pid"); chomp $pid;
    my @kids = grep { slurp("/proc/$_/stat") =~ /^\d+ \([^)]*\) \S (\d+)/ && $1 == $pid } map { m{/proc/(\d+)$} ? $1 : () } glob '/proc/[0-9]*';
    my $n = 0;
    for my $k (@kids) { $n += () = glob "/proc/$k/task/*" }
    return (scalar @kids, $n);
}
sub child_threads {
    my ($kids, $n) = count_threads();
    my $same = 0;
    for (1 .. 50) {
        select undef, undef, undef, 0.2;
        my ($k2, $n2) = count_threads();
        $same = ($k2 == $kids && $n2 == $n) ? $same + 1 : 0;
        ($kids, $n) = ($k2, $n2);
        last if $same >= 3 && $kids;
    }
    return ($kids, $n);
}

# Shared anonymous mappings of the parent (apr_shm without a file: the scoreboard, the module's metrics, ...).
sub shared_segments {
    my $pid = $h->pid;
    return scalar(grep { /^\S+ rw-s .*\/dev\/zero \(deleted\)$/ } split /\n/, slurp("/proc/$pid/maps"));
}

sub http_get {
    my ($path, @h) = @_;
    my $ua = bare_ua();
    return $ua->get("http://127.0.0.1:$PORT$path", @h);
}

# ---- loaded but used nowhere: inert ------------------------------------------------------------------------------

my ($rc, $out) = configtest();
is($rc, 0, 'loaded, no TrpcAuth configuration: configtest passes') or diag $out;
like($out, qr/Syntax OK/, '... Syntax OK');

my ($threads_with, $threads_without, $kids, $shm_unused, $shm_without, $shm_used);
my $log = with_server(sub {
    is(http_get('/index.html')->code, 200, 'loaded and unused: Apache starts and serves');
    ($kids, $threads_with) = child_threads();
    $shm_unused = shared_segments();
}, loglevel => 'warn trpcauth:trace8');
unlike($log, qr/trpcauth|TRPCAUTH/, '... and the module writes nothing to the log, even at trace8') or diag $log;
with_server(sub { (undef, $threads_without) = child_threads(); $shm_without = shared_segments() }, no_module => 1);
ok($kids && $threads_with == $threads_without,
   "... and its children run no thread of the module ($threads_with threads, $threads_without without it)");

# ---- used without keys: configtest says so ----------------------------------------------------------------------

($rc, $out) = configtest(extra => "<Location /trpc>\n    SetHandler trpcauth\n</Location>\n");
isnt($rc, 0, 'SetHandler trpcauth without keys: configtest fails');
like($out, qr/TrpcAuthAccessKey is required/, '... naming TrpcAuthAccessKey') or diag $out;
like($out, qr/SetHandler trpcauth at \Q$dir\E\/httpd\.conf:\d+/, '... and the use, with its file and line') or diag $out;

($rc, $out) = configtest(extra => <<"X");
Listen 127.0.0.1:1
<VirtualHost 127.0.0.1:1>
    <Location /app>
        AuthType trpcauth
        Require valid-user
    </Location>
</VirtualHost>
X
ok($rc != 0 && $out =~ /TrpcAuthAccessKey is required/ && $out =~ /AuthType trpcauth/,
   'AuthType trpcauth in a virtual host without keys: configtest fails, naming the directive and the use')
    or diag $out;

($rc, $out) = configtest(extra => <<"X");
Listen 127.0.0.1:1
<VirtualHost 127.0.0.1:1>
    TrpcAuthAccessKey HS256 file:$dir/a.key
    TrpcAuthRefreshKey HS256 file:$dir/r.key
    <Location /trpc>
        SetHandler trpcauth
    </Location>
</VirtualHost>
X
is($rc, 0, 'a virtual host that uses it with its keys, a main server that does not: configtest passes') or diag $out;

($rc, $out) = configtest(extra => "TrpcAuthRedis redis://127.0.0.1:6379/0\n");
ok($rc != 0 && $out =~ /TrpcAuthAccessKey is required/, 'a TrpcAuth directive alone counts as a use: keys required')
    or diag $out;

($rc, $out) = configtest(no_dbd => 1, extra => "TrpcAuthAccessKey HS256 file:$dir/a.key\nTrpcAuthRefreshKey HS256 file:$dir/r.key\n");
ok($rc != 0 && $out =~ /mod_dbd must be loaded/, 'used without mod_dbd: configtest fails, saying so') or diag $out;

# ---- LogLevel trpcauth:debug --------------------------------------------------------------------------------------

my $used = "TrpcAuthAccessKey HS256 file:$dir/a.key\nTrpcAuthRefreshKey HS256 file:$dir/r.key\n"
         . "TrpcAuthRedis redis://127.0.0.1:1/0\n<Location /trpc>\n    SetHandler trpcauth\n</Location>\n";
$log = with_server(sub {
    is(http_get('/trpc/auth.me', Cookie => 'accessToken=forged.token.value')->code, 401,
       'a forged access cookie -> 401');
}, loglevel => 'warn trpcauth:debug', extra => $used);
like($log, qr/\[trpcauth:debug\].*TRPCAUTH301: access token rejected/,
     'LogLevel warn trpcauth:debug: the debug line appears, with the module tag') or diag $log;
$log = with_server(sub { http_get('/trpc/auth.me', Cookie => 'accessToken=forged.token.value'); $shm_used = shared_segments() },
                   loglevel => 'debug trpcauth:warn', extra => $used);
unlike($log, qr/TRPCAUTH301/, 'LogLevel debug trpcauth:warn: the module\'s debug line is left out') or diag $log;
# The metrics' shared memory (src/store/metrics.c) exists only where the module is used.
ok($shm_unused == $shm_without && $shm_used == $shm_without + 1,
   "shared memory: none of the module's when it is unused ($shm_unused segments, $shm_without without it), "
   . "one when used ($shm_used)");

# ---- a .htaccess-style use on a server without keys --------------------------------------------------------------

$log = with_server(sub {
    my $r = http_get('/api/auth.me');
    is($r->code, 500, 'the handler named by a .htaccess on a server without keys -> 500, no crash');
}, loglevel => 'warn');
like($log, qr/TRPCAUTH305: mod_trpcauth is used here but not configured/, '... logged, naming what is missing')
    or diag $log;

# ---- a virtual host with its own mod_dbd group --------------------------------------------------------------------

Apache::TestRequest::module('trpc_owndbd');
my $ua = ua();
my $email = uniq_email('owndbd');
my $r = register($ua, $email, 'owndbd-password-1');
is($r->code, 200, 'a virtual host with DBDParams of its own: register works (its statements are prepared)')
    or diag show($r);
$r = login($ua, $email, 'owndbd-password-1');
is($r->code, 200, '... and login') or diag show($r);
Apache::TestRequest::module('default');
