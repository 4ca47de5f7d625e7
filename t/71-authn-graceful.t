# Graceful restarts under load (apache2 -k graceful = SIGUSR1 to the parent): requests to a location protected by
# AuthType trpcauth and to the tRPC endpoint keep being answered while the server restarts three times; no request
# fails, no child crashes. The per-child Redis pool and mod_dbd's pool are torn down with the old generation's
# child pools and made anew by the new ones.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;
use File::Temp ();
use POSIX ();

plan tests => 8;

my ($ua, undef, undef, $uid) = login_ua('graceful');
my $at = jar_cookie($ua, 'accessToken') // '';
ok(length $at, 'logged in');

my $pidfile = Apache::Test::vars('t_pid_file');
open my $pf, '<', $pidfile or die "$pidfile: $!";
my $httpd = <$pf>;
close $pf;
chomp $httpd;
ok($httpd =~ /^\d+\z/ && kill(0, $httpd), "httpd parent pid $httpd is alive");

my $log_before = length error_log();
my $out = File::Temp->new;

# The load: one client in a forked process, one request after the other for $SECONDS, each a new connection.
# A static page, not the echo CGI: mod_cgid's daemon restarts with the server and fails CGI requests in flight
# ("failed reading PID from cgi daemon"), which is not what this test is about.
my $SECONDS = 7;
my $kid = fork // die "fork: $!";
if ($kid == 0) {
    my ($n, @bad) = (0);
    my $end = time + $SECONDS;
    my @cases = (
        ['/authn/401/', 200, sub { $_[0]->content =~ /A static page behind AuthType trpcauth/ }],
        ['/trpc/auth.me', 200, sub { oget(dec($_[0]), qw(result data id)) // '' eq "$uid" }],
        ['/trpc/transaction.getAll', 200, sub { ref oget(dec($_[0]), qw(result data)) eq 'ARRAY' }],
        ['/authn/401/', 401, sub { 1 }, 1],
    );
    while (time < $end) {
        my ($path, $want, $check, $anon) = @{ $cases[$n % @cases] };
        my $r = req(bare_ua(), 'GET', $path, headers => [$anon ? () : (Cookie => "accessToken=$at")]);
        $n++;
        push @bad, "$path -> " . $r->status_line unless $r->code == $want && $check->($r);
    }
    open my $fh, '>', $out->filename or POSIX::_exit(2);
    print $fh join("\n", $n, @bad), "\n";
    close $fh;
    POSIX::_exit(0);
}

# Three graceful restarts while the client runs.
my $sent = 0;
for (1 .. 3) {
    select undef, undef, undef, 1.5;
    $sent++ if kill 'USR1', $httpd;
}
waitpid $kid, 0;
is($sent, 3, 'three graceful restarts requested (SIGUSR1)');

open my $res, '<', $out->filename or die "results: $!";
chomp(my @lines = <$res>);
my ($n, @bad) = @lines;
cmp_ok($n // 0, '>', 30, "the client kept sending requests ($n)");
is(scalar @bad, 0, 'no request failed during the restarts') or diag join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)];

# The server is still there, on a new generation.
my $r;
for (1 .. 50) {
    $r = req(bare_ua(), 'GET', '/authn/401/', headers => [Cookie => "accessToken=$at"]);
    last if $r->code == 200;
    select undef, undef, undef, 0.1;
}
is($r->code, 200, 'after the restarts the protected location answers') or diag show($r);

my $log = substr(error_log(), $log_before);
my $restarts = () = $log =~ /AH00493|Graceful restart requested/g;
cmp_ok($restarts, '>=', 1, "the error log shows the graceful restarts ($restarts)");
unlike($log, qr/Segmentation fault|exit signal|AH00052|AH00060|double free|corrupted/,
       'no child crashed') or diag join "\n", grep { /signal|Segmentation|AH0005|free|corrupt/ } split /\n/, $log;
