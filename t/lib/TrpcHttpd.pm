# TrpcHttpd -- a standalone httpd of a test's own, beside the suite's server: for what the suite's configuration
# cannot show (start-up, configtest, module loaded but unused, mod_dbd settings, extra Redis topologies).
#
#   my $h = TrpcHttpd->new;                        # a temporary ServerRoot, a free loopback port
#   my $h = TrpcHttpd->new(mpm => 'prefork');      # event (the default), worker or prefork
#   my $h = TrpcHttpd->new(mpm => TrpcHttpd::suite_mpm());   # the MPM of this run of the suite
#   my $conf = $h->conf(extra => "...", loglevel => 'warn trpcauth:debug', no_module => 1, no_dbd => 1);
#   my ($rc, $out) = $h->configtest(extra => "...");
#   my $log = $h->with_server(sub { ... $h->url('/trpc/auth.me') ... }, extra => "...");   # the run's error log
#
# The server is the event MPM with one child of 8 threads (or prefork, at most 4 children); modules come from
# `apxs -q LIBEXECDIR` (Apache::Test's apxs), the module from the build tree.
package TrpcHttpd;
use strict;
use warnings;
use Apache::Test ();
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use Time::HiRes qw(sleep);

sub spit { my ($f, $d) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $d; close $fh }
sub slurp { my $f = shift; open my $fh, '<:raw', $f or return ''; local $/; return scalar <$fh> }

# A free loopback port.
sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp') or die;
    my $p = $s->sockport; close $s; return $p;
}

# The MPM of this run of the suite (t/run-apache-test runs it with event, then prefork): the one the suite's server
# loaded, as Apache::Test found it; else the name of the configuration it inherited; event when neither says.
sub suite_mpm {
    my $mpm = eval { Apache::Test::config()->{server}{mpm} } || eval { Apache::Test::config()->{mpm} }
              || ((Apache::Test::vars('httpd_conf') // '') =~ /prefork/ ? 'prefork' : 'event');
    return $mpm =~ /^(event|prefork|worker)\z/ ? $mpm : 'event';
}

# Apache's modules directory, as apxs knows it.
sub modules_dir {
    my $apxs = Apache::Test::vars('apxs') || 'apxs';
    my $d = qx{'$apxs' -q LIBEXECDIR 2>/dev/null};
    chomp $d;
    return $d || '/usr/lib/apache2/modules';
}

sub new {
    my ($class, %o) = @_;
    my $dir = tempdir(CLEANUP => 1);
    chmod 0755, $dir;
    mkdir "$dir/htdocs"; chmod 0755, "$dir/htdocs";
    return bless {
        dir => $dir, port => $o{port} || free_port(), httpd => Apache::Test::vars('httpd'),
        mpm => $o{mpm} || 'event',
        top => Apache::Test::vars('top_dir'), mods => modules_dir(),
    }, $class;
}

sub dir  { $_[0]{dir} }
sub port { $_[0]{port} }
sub url  { my ($self, $path) = @_; "http://127.0.0.1:$self->{port}$path" }
sub pid  { my $p = slurp("$_[0]{dir}/httpd.pid"); chomp $p; $p }
sub error_log { slurp("$_[0]{dir}/error_log") }

# Writes the configuration and returns its path. Options: extra (appended), loglevel [warn], no_module, no_dbd,
# modules (more LoadModule names, e.g. ['include_module mod_include.so']).
sub conf {
    my ($self, %o) = @_;
    my ($dir, $mods) = @$self{qw(dir mods)};
    my $load = $o{no_module} ? '' : qq{LoadModule trpcauth_module "$self->{top}/.libs/mod_trpcauth.so"};
    my $dbd = $o{no_dbd} ? '' : "LoadModule dbd_module $mods/mod_dbd.so";
    my $more = join '', map { my ($n, $f) = split ' '; "LoadModule $n $mods/$f\n" } @{ $o{modules} || [] };
    my $loglevel = $o{loglevel} || 'warn';
    my $extra = defined $o{extra} ? $o{extra} : '';
    my $conf = "$dir/httpd.conf";
    my $mpm = $self->{mpm};
    my $mpm_conf = $mpm eq 'prefork'
        ? "StartServers 1\nMinSpareServers 1\nMaxSpareServers 2\nMaxRequestWorkers 4"
        : "StartServers 1\nServerLimit 1\nThreadsPerChild 8\nMinSpareThreads 1\nMaxSpareThreads 8\nMaxRequestWorkers 8";
    spit($conf, <<"CONF");
ServerRoot "$dir"
ServerName localhost
LoadModule mpm_${mpm}_module $mods/mod_mpm_${mpm}.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
$dbd
$more$load
User nobody
Group nogroup
Listen 127.0.0.1:$self->{port}
$mpm_conf
ErrorLog "$dir/error_log"
LogLevel $loglevel
PidFile "$dir/httpd.pid"
DocumentRoot "$dir/htdocs"
<Directory "$dir/htdocs">
    Require all granted
    AllowOverride FileInfo
</Directory>
$extra
CONF
    return $conf;
}

# `httpd -t` on conf(%o): (exit status, output).
sub configtest {
    my ($self, %o) = @_;
    my $conf = $self->conf(%o);
    my $out = qx{'$self->{httpd}' -t -f '$conf' 2>&1};
    return ($? >> 8, $out);
}

# Starts httpd on conf(%o), waits until it answers, runs $code->(), stops it; returns the run's error log.
sub with_server {
    my ($self, $code, %o) = @_;
    my ($dir, $httpd) = @$self{qw(dir httpd)};
    my $conf = $self->conf(%o);
    unlink "$dir/error_log", "$dir/httpd.pid";
    system($httpd, '-f', $conf, '-k', 'start') == 0 or return "start failed";
    for (1 .. 100) { last if -s "$dir/httpd.pid" && IO::Socket::INET->new("127.0.0.1:$self->{port}"); sleep 0.05 }
    eval { $code->() };
    my $err = $@;
    system($httpd, '-f', $conf, '-k', 'stop');
    for (1 .. 100) { last unless -e "$dir/httpd.pid"; sleep 0.05 }
    Test::More::diag("server code died: $err") if $err;
    return $self->error_log;
}

1;
