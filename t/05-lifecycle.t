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
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use TrpcT;

my $MODDIR = moddir();

plan tests => 19;

my $httpd = Apache::Test::vars('httpd');
my $top = Apache::Test::vars('top_dir');
my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;

sub spit { my ($f, $d) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $d; close $fh }
sub slurp { my $f = shift; open my $fh, '<:raw', $f or return ''; local $/; return scalar <$fh> }

spit("$dir/a.key", ('a' x 48) . "\n");
spit("$dir/r.key", ('r' x 48) . "\n");
mkdir "$dir/htdocs"; chmod 0755, "$dir/htdocs";
spit("$dir/htdocs/index.html", "static\n");
chmod 0644, "$dir/htdocs/index.html";
# A directory whose .htaccess names the handler: invisible to check_config.
mkdir "$dir/htdocs/api"; chmod 0755, "$dir/htdocs/api";
spit("$dir/htdocs/api/.htaccess", "SetHandler trpcauth\n");
chmod 0644, "$dir/htdocs/api/.htaccess";

# A free loopback port.
sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp') or die;
    my $p = $s->sockport; close $s; return $p;
}
my $PORT = free_port();

# A configuration: the event MPM, mod_dbd, optionally the module, plus $extra.
sub conf {
    my (%o) = @_;
    my $load = $o{no_module} ? '' : qq{LoadModule trpcauth_module "$top/.libs/mod_trpcauth.so"};
    my $dbd = $o{no_dbd} ? '' : "LoadModule dbd_module $MODDIR/mod_dbd.so";
    my $conf = "$dir/httpd.conf";
    spit($conf, <<"CONF");
ServerRoot "$dir"
ServerName localhost
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
$dbd
$load
User nobody
Group nogroup
Listen 127.0.0.1:$PORT
StartServers 1
ServerLimit 1
ThreadsPerChild 8
MinSpareThreads 1
MaxSpareThreads 8
MaxRequestWorkers 8
ErrorLog "$dir/error_log"
LogLevel $o{loglevel}
PidFile "$dir/httpd.pid"
DocumentRoot "$dir/htdocs"
<Directory "$dir/htdocs">
    Require all granted
    AllowOverride FileInfo
</Directory>
$o{extra}
CONF
    return $conf;
}
sub configtest {
    my $conf = conf(loglevel => 'warn', extra => '', @_);
    my $out = qx{'$httpd' -t -f '$conf' 2>&1};
    return ($? >> 8, $out);
}

# Starts httpd on conf(%o), runs $code->(), stops it; returns the error log of that run.
sub with_server {
    my ($code, %o) = @_;
    my $conf = conf(loglevel => 'warn', extra => '', %o);
    unlink "$dir/error_log", "$dir/httpd.pid";
    system($httpd, '-f', $conf, '-k', 'start') == 0 or return "start failed";
    for (1 .. 100) { last if -s "$dir/httpd.pid" && IO::Socket::INET->new("127.0.0.1:$PORT"); select undef, undef, undef, 0.05 }
    eval { $code->() };
    my $err = $@;
    system($httpd, '-f', $conf, '-k', 'stop');
    for (1 .. 100) { last unless -e "$dir/httpd.pid"; select undef, undef, undef, 0.05 }
    Test::More::diag("server code died: $err") if $err;
    return slurp("$dir/error_log");
}

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

sub http_get {
    my ($path, @h) = @_;
    my $ua = bare_ua();
    return $ua->get("http://127.0.0.1:$PORT$path", @h);
}

# ---- loaded but used nowhere: inert ------------------------------------------------------------------------------

my ($rc, $out) = configtest();
is($rc, 0, 'loaded, no TrpcAuth configuration: configtest passes') or diag $out;
like($out, qr/Syntax OK/, '... Syntax OK');

my ($threads_with, $threads_without, $kids);
my $log = with_server(sub {
    is(http_get('/index.html')->code, 200, 'loaded and unused: Apache starts and serves');
    ($kids, $threads_with) = child_threads();
}, loglevel => 'warn trpcauth:trace8');
unlike($log, qr/trpcauth|TRPCAUTH/, '... and the module writes nothing to the log, even at trace8') or diag $log;
with_server(sub { (undef, $threads_without) = child_threads() }, no_module => 1);
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
$log = with_server(sub { http_get('/trpc/auth.me', Cookie => 'accessToken=forged.token.value') },
                   loglevel => 'debug trpcauth:warn', extra => $used);
unlike($log, qr/TRPCAUTH301/, 'LogLevel debug trpcauth:warn: the module\'s debug line is left out') or diag $log;

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
