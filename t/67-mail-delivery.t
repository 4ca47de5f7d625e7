# Mail delivery (issue 14): the delivery process that the Apache parent starts (src/hooks/maild.c) sends the rows of
# mail_outbox over real SMTP (scripts/smtp-sink, which writes every message it accepts to <dir>/<seq>.eml), with
# correct headers and the link intact; keeps a mail while the relay is down and sends it when the relay is back
# (the delay is measured); loses and duplicates nothing across a graceful restart; is restarted by the parent after
# kill -9; runs as the Apache user; and never writes a token to the error log. Configuration errors of the mail
# directives show at configtest.
#
# Runs an httpd of its own (the MPM of this run of the suite), as t/05-lifecycle.t does, so that it can stop and
# start the relay and restart the server. Its outbox is a table of its own (schema mail67, reached through
# DBDParams' search_path), so no other server on the test database (the test stack's own delivery process) takes its
# rows. Rows are put in the outbox directly, sealed as the request side seals them (t/lib/seal-link).
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Encode ();
use File::Temp qw(tempdir);
use HTTP::Date ();
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(time sleep);
use TrpcT;
use TrpcHttpd ();
use TrpcMail qw(wait_for);

plan tests => 53;

my $httpd = Apache::Test::vars('httpd');
my $top = Apache::Test::vars('top_dir');
my $mpm = TrpcHttpd::suite_mpm();     # the MPM of this run of the suite (event, then prefork)
my $pg_port = Apache::Test::vars('trpc_pg_port') || $ENV{TRPCAUTH_TEST_PG_PORT} || 55432;
my $redis_port = Apache::Test::vars('trpc_redis_port') || $ENV{TRPCAUTH_TEST_REDIS_PORT} || 56379;
my $dir = tempdir(CLEANUP => !$ENV{TRPCAUTH_TEST_KEEP});
chmod 0755, $dir;
# A schema of this run's own: a delivery process of another server (even one left over from an interrupted run) on
# the same database never sees its table.
my $SCHEMA = "mail67_$$";
my $started;     # our httpd runs

sub spit { my ($f, $d) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $d; close $fh }
sub slurp { my $f = shift; open my $fh, '<:raw', $f or return ''; local $/; return scalar <$fh> }

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp') or die;
    my $p = $s->sockport; close $s; return $p;
}
my $PORT = free_port();
my $SMTP = free_port();

# ---- PostgreSQL ------------------------------------------------------------------------------------------------

sub psql { TrpcMail::psql_at($pg_port, shift) }
TrpcMail::own_outbox($pg_port, $SCHEMA);

spit("$dir/a.key", join('', map { chr(65 + int rand 26) } 1 .. 48) . "\n");
spit("$dir/r.key", join('', map { chr(65 + int rand 26) } 1 .. 48) . "\n");

# Puts a row in the outbox with its link sealed under $dir/r.key; returns its id.
sub enqueue {
    my (%o) = @_;
    my $sealed = qx{'$top/t/lib/seal-link' '$dir/r.key' '$o{link}' '$o{to}'};
    chomp $sealed;
    die "seal-link failed" unless $sealed =~ /^[A-Za-z0-9_-]+\z/;
    my $ttl = $o{ttl} // '1 hour';
    # As the request side does: the row, and a NOTIFY that wakes the delivery process at commit.
    my $out = psql("BEGIN; INSERT INTO $SCHEMA.mail_outbox (kind, recipient, sealed_link, expires_at) VALUES "
                 . "('$o{kind}', '$o{to}', '$sealed', now() + interval '$ttl') RETURNING id; "
                 . "NOTIFY trpcauth_outbox; COMMIT");
    return $out =~ /^(\d+)$/m ? $1 : die "no id from the insert: $out";
}

sub row {
    my $id = shift;
    my $out = psql("SELECT attempts, sent_at IS NOT NULL, sealed_link IS NULL, coalesce(last_error, '') "
                 . "FROM $SCHEMA.mail_outbox WHERE id = $id");
    $out =~ s/\A\s+|\s+\z//g;
    my ($attempts, $sent, $sealed_null, $err) = split /\|/, $out, 4;
    return { attempts => $attempts, sent => $sent eq 't', sealed_null => $sealed_null eq 't', error => $err };
}

# ---- the SMTP relay (scripts/smtp-sink) -------------------------------------------------------------------------

my $sink_pid;
sub sink_start {
    $sink_pid = fork // die "fork: $!";
    if ($sink_pid == 0) {
        open STDOUT, '>', '/dev/null'; open STDERR, '>>', "$dir/smtp.log";
        exec "$top/scripts/smtp-sink", '--port', $SMTP, '--dir', "$dir/mail" or POSIX::_exit(127);
    }
    wait_for(15, sub { IO::Socket::INET->new("127.0.0.1:$SMTP") }) or die "smtp-sink does not start";
}
sub sink_stop {
    return unless $sink_pid;
    kill 'TERM', $sink_pid;
    waitpid $sink_pid, 0;
    undef $sink_pid;
}

# The messages the relay received: [{ file, head => {lc name => value}, raw_head, body, raw }].
sub mails {
    my @out;
    for my $f (sort glob "$dir/mail/*.eml") {
        my $raw = slurp($f);
        my ($head, $body) = split /\r\n\r\n/, $raw, 2;
        (my $unfolded = $head) =~ s/\r\n[ \t]+/ /g;
        my %h = map { /^([^:]+):\s*(.*)\z/ ? (lc $1 => $2) : () } split /\r\n/, $unfolded;
        push @out, { file => $f, head => \%h, raw_head => $head, body => $body // '', raw => $raw };
    }
    return @out;
}
sub mails_to { my $to = shift; return grep { ($_->{head}{to} // '') eq $to } mails() }

# ---- the server -------------------------------------------------------------------------------------------------

spit("$dir/verify.txt", "Subject: Bestätigen Sie {{email}} – Grüße\r\n\r\nHallo {{email}},\r\n\r\n"
                      . "öffnen Sie {{link}}\r\n\r\nGültig bis {{expires}}.\r\n");
mkdir "$dir/htdocs"; chmod 0755, "$dir/htdocs";
my $USER = 'www-data';
my $uid = getpwnam($USER) // die "no user $USER";

sub conf {
    my ($mail) = @_;
    my $conf = "$dir/httpd.conf";
    my $mpm_conf = $mpm eq 'prefork'
        ? "StartServers 1\nMinSpareServers 1\nMaxSpareServers 2\nMaxRequestWorkers 4"
        : "StartServers 1\nServerLimit 1\nThreadsPerChild 4\nMinSpareThreads 1\nMaxSpareThreads 4\nMaxRequestWorkers 4";
    spit($conf, <<"CONF");
ServerRoot "$dir"
ServerName localhost
LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_${mpm}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule trpcauth_module "$top/.libs/mod_trpcauth.so"
User $USER
Group $USER
Listen 127.0.0.1:$PORT
$mpm_conf
ErrorLog "$dir/error_log"
LogLevel warn trpcauth:debug
PidFile "$dir/httpd.pid"
DocumentRoot "$dir/htdocs"
DBDriver pgsql
DBDParams "host=127.0.0.1 port=$pg_port dbname=trpcauth user=trpcauth connect_timeout=2 options='-c search_path=$SCHEMA,public'"
DBDMin 0
TrpcAuthRedis redis://127.0.0.1:$redis_port/0
TrpcAuthKeyPrefix "trpcauth-test67:"
TrpcAuthAccessKey HS256 file:$dir/a.key
TrpcAuthRefreshKey HS256 file:$dir/r.key
<Location /trpc>
    SetHandler trpcauth
</Location>
<Location /trpcauth-metrics>
    SetHandler trpcauth-metrics
</Location>
$mail
CONF
    return $conf;
}
my $MAIL = <<"MAIL";
TrpcAuthMailRelay smtp://127.0.0.1:$SMTP
TrpcAuthMailFrom "Test Sender <noreply\@mail67.test>"
TrpcAuthMailTemplate verify-email $dir/verify.txt
TrpcAuthMailRetry 500ms 2s
TrpcAuthPublicURL http://app.test
TrpcAuthBcryptCost 4
MAIL

# With an AddressSanitizer build (scripts/test --asan), httpd runs with the runtime preloaded; reports go to
# $dir/asan/ (the delivery process and the children write as www-data).
mkdir "$dir/asan"; chmod 01777, "$dir/asan";
sub with_asan {
    my $code = shift;
    local $ENV{LD_PRELOAD} = $ENV{TRPCAUTH_ASAN_RUNTIME} if $ENV{TRPCAUTH_ASAN_RUNTIME};
    local $ENV{ASAN_OPTIONS} = "detect_leaks=0:abort_on_error=0:log_path=$dir/asan/asan"
        if $ENV{TRPCAUTH_ASAN_RUNTIME};
    return $code->();
}
sub httpd { my @args = @_; return with_asan(sub { system($httpd, @args) }) }
sub configtest {
    my $conf = conf(shift);
    my $out = with_asan(sub { qx{'$httpd' -t -f '$conf' 2>&1} });
    return ($? >> 8, $out);
}
sub parent_pid { my $p = slurp("$dir/httpd.pid"); chomp $p; return $p }
# The delivery process: the child of the parent named trpcauth-maild.
sub daemon_pid {
    my $parent = parent_pid() or return;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my ($pid, $comm, $ppid) = slurp($stat) =~ /^(\d+) \(([^)]*)\) \S (\d+)/ or next;
        return $pid if $ppid == $parent && $comm eq 'trpcauth-maild';
    }
    return;
}
# A mail counter of the metrics page, once it has reached at least $min (the delivery process counts a mail just after
# the relay took it): its value, or the last one read.
sub mail_counter {
    my ($name, $min) = @_;
    my $v = -1;
    wait_for(10, sub { my ($m) = metrics("http://127.0.0.1:$PORT/trpcauth-metrics");
                       $v = $m->{"trpcauth_mail_${name}_total"} // -1; $v >= $min });
    return $v;
}
sub uid_of { my $s = slurp("/proc/$_[0]/status"); return $s =~ /^Uid:\s+(\d+)\s+(\d+)/m ? [$1, $2] : [] }

# ---- configuration errors at configtest -------------------------------------------------------------------------

my ($rc, $out) = configtest("TrpcAuthMailRelay smtp://127.0.0.1:$SMTP\n");
ok($rc != 0 && $out =~ /TrpcAuthMailRelay needs TrpcAuthMailFrom/, 'a relay without TrpcAuthMailFrom: configtest fails')
    or diag $out;
($rc, $out) = configtest("TrpcAuthMailRelay smtp://mailer:Sekr3tPw\@127.0.0.1:$SMTP/a/b\nTrpcAuthMailFrom a\@b.c\n");
ok($rc != 0 && $out =~ /TrpcAuthMailRelay/ && $out !~ /Sekr3tPw/,
   'a bad relay URL: configtest fails without showing its password') or diag $out;
spit("$dir/bad.txt", "Hello\n{{link}} {{token}}\n");
($rc, $out) = configtest("TrpcAuthMailTemplate reset-password $dir/bad.txt\n");
ok($rc != 0 && $out =~ /TrpcAuthMailTemplate reset-password: \Q$dir\E\/bad\.txt: unknown placeholder \{\{token\}\}/,
   'a template with an unknown placeholder: configtest names the file and the placeholder') or diag $out;
($rc, $out) = configtest("TrpcAuthMailRetry 5s 1s\n");
ok($rc != 0 && $out =~ /TrpcAuthMailRetry/, 'TrpcAuthMailRetry with a maximum below the first wait: refused')
    or diag $out;
($rc, $out) = configtest($MAIL);
is($rc, 0, 'the mail configuration of this test passes configtest') or diag $out;

# ---- start: the delivery process ---------------------------------------------------------------------------------

mkdir "$dir/mail";
sink_start();
my $conf = conf($MAIL);
httpd('-f', $conf, '-k', 'start') == 0 or die "httpd does not start";
$started = 1;
wait_for(20, sub { -s "$dir/httpd.pid" && IO::Socket::INET->new("127.0.0.1:$PORT") });
my $d1 = wait_for(10, \&daemon_pid);
ok($d1, "the parent ($mpm MPM) runs the delivery process (pid " . ($d1 // '-') . ')');
my $ids = uid_of($d1 // 0);
ok(@$ids && $ids->[0] == $uid && $ids->[1] == $uid && $uid != 0,
   "... as $USER (uid $uid), not root (real/effective @{$ids})");

# ---- a mail with the test's UTF-8 template -------------------------------------------------------------------------

my @tokens;
my $tok = 'tok' . join('', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 40);
push @tokens, $tok;
my $to = uniq_email('mail67');
my $link = "http://app.test/verify-email#token=$tok";
my $t0 = time;
my $id = enqueue(kind => 'verify-email', to => $to, link => $link);
my $m = wait_for(15, sub { (mails_to($to))[0] });
ok($m, sprintf('a verify-email row is delivered to the relay (%.2f s after the insert)', time - $t0));
$m //= { head => {}, body => '', raw => '', raw_head => '' };
my $h = $m->{head};
my $date = HTTP::Date::str2time($h->{date} // '');
ok($date && abs($date - time) < 300 && ($h->{date} // '') =~ /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\z/,
   "Date is RFC 5322 and now ($h->{date})");
like($h->{'message-id'} // '', qr/^<outbox\.\Q$id\E\.\d+\@mail67\.test>\z/, 'Message-ID names the outbox row');
is($h->{from}, 'Test Sender <noreply@mail67.test>', 'From is TrpcAuthMailFrom');
like($m->{raw}, qr/^X-Sink-Mail-From: <noreply\@mail67\.test>\r\nX-Sink-Rcpt-To: <\Q$to\E>\r\n/,
     '... the envelope sender and recipient are the addresses');
like($h->{subject} // '', qr/^=\?UTF-8\?B\?[A-Za-z0-9+\/=]+\?=( =\?UTF-8\?B\?[A-Za-z0-9+\/=]+\?=)*\z/,
     'the non-ASCII Subject is sent as RFC 2047 encoded-words');
is(Encode::decode('MIME-Header', $h->{subject} // ''), Encode::decode('UTF-8', "Bestätigen Sie $to – Grüße"),
   '... that decode to the template\'s first line, {{email}} filled in');
is($h->{'content-type'}, 'text/plain; charset=UTF-8', 'Content-Type text/plain; charset=UTF-8');
is($h->{'content-transfer-encoding'}, '8bit', 'Content-Transfer-Encoding 8bit (UTF-8 text, short lines)');
is($h->{'mime-version'}, '1.0', 'MIME-Version 1.0');
ok($m->{raw} !~ /(?<!\r)\n/, 'every line ends with CRLF');
like($m->{body}, qr/^Hallo \Q$to\E,\r\n\r\nöffnen Sie \Q$link\E\r\n\r\nGültig bis \w{3}, \d\d \w{3} \d{4} \d\d:\d\d UTC\.\r\n\z/,
     'the body is the template with the link intact and the expiry') or diag $m->{body};
my $r = row($id);
ok($r->{sent} && $r->{sealed_null} && $r->{attempts} == 1 && $r->{error} eq '',
   'the row is marked sent, its sealed link dropped, one attempt');

# The shipped reset-password text.
$tok = 'tok' . join('', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 40);
push @tokens, $tok;
my $to2 = uniq_email('mail67r');
enqueue(kind => 'reset-password', to => $to2, link => "http://app.test/reset-password#token=$tok");
$m = wait_for(15, sub { (mails_to($to2))[0] });
ok($m && $m->{head}{subject} eq 'Reset your password' && $m->{head}{'content-transfer-encoding'} eq '7bit'
   && $m->{body} =~ /\r\n\Qhttp:\/\/app.test\/reset-password#token=$tok\E\r\n/,
   'a reset-password row gets the shipped template (ASCII Subject, 7bit, the link on its own line)');

# An expired row is not sent.
my $to3 = uniq_email('mail67x');
my $xid = enqueue(kind => 'verify-email', to => $to3, link => 'http://app.test/x#token=expired', ttl => '-1 second');
my $xr = wait_for(10, sub { my $r = row($xid); $r->{error} eq 'expired' ? $r : undef });
ok($xr && !$xr->{sent} && $xr->{sealed_null} && !mails_to($to3), 'an expired row is not sent: last_error expired, link dropped');
is(join(' ', map { mail_counter(@$_) } [sent => 2], [given_up => 1], [failures => 0]), '2 1 0',
   'metrics (the delivery process counts into the node\'s page): 2 mails sent, 1 given up, no failure');

# ---- the relay down, then back --------------------------------------------------------------------------------

sink_stop();
$tok = 'tok' . join('', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 40);
push @tokens, $tok;
my $to4 = uniq_email('mail67d');
my $link4 = "http://app.test/verify-email#token=$tok";
$id = enqueue(kind => 'verify-email', to => $to4, link => $link4);
$r = wait_for(15, sub { my $r = row($id); $r->{attempts} >= 2 ? $r : undef });
ok($r && !$r->{sent} && !$r->{sealed_null}, 'relay down: the row stays pending, sealed, and is tried again ('
   . ($r ? $r->{attempts} : 0) . ' attempts)');
ok($r && $r->{error} =~ /connect/i && index($r->{error}, $tok) < 0 && index($r->{error}, $link4) < 0,
   'last_error says why, without the link or its token: ' . ($r ? $r->{error} : ''));
sink_start();
my $back = time;
$m = wait_for(30, sub { (mails_to($to4))[0] });
my $delay = time - $back;
ok($m && $m->{body} =~ /\Q$link4\E/, sprintf('relay back: the mail is delivered, link intact (%.2f s after the relay '
   . 'came back; TrpcAuthMailRetry 500ms 2s)', $delay));
diag(sprintf('%s: delivery delay after the relay outage: %.2f s', $mpm, $delay));
$r = row($id);
ok($r->{sent} && $r->{attempts} >= 3, "the row is marked sent after $r->{attempts} attempts");
is(join(' ', mail_counter(sent => 3), mail_counter(failures => $r->{attempts} - 1)), '3 ' . ($r->{attempts} - 1),
   'metrics: trpcauth_mail_failures_total counts the ' . ($r->{attempts} - 1) . ' failed attempts, then 3 sent');
my $log = slurp("$dir/error_log");
like($log, qr/TRPCAUTH1455: mail relay smtp:\/\/127\.0\.0\.1:$SMTP: .*tries again/, 'the outage is logged (TRPCAUTH1455)');
like($log, qr/TRPCAUTH1454: mail relay smtp:\/\/127\.0\.0\.1:$SMTP accepts mail again/, '... and the recovery (TRPCAUTH1454)');

# ---- the relay down during requests: the calls answer at once, the mail follows --------------------------------

sub call {
    my ($proc, $input) = @_;
    my $t = time;
    my $res = bare_ua()->post("http://127.0.0.1:$PORT/trpc/$proc", 'Content-Type' => 'application/json',
                              Content => enc($input));
    return ($res, time - $t);
}
sink_stop();
my $who = uniq_email('mail67e2e');
my ($res1, $t1) = call('auth.register', { email => $who, password => 'mail67-password-1' });
my ($res2, $t2) = call('auth.requestPasswordReset', { email => $who });
ok($res1->code == 200 && $res2->code == 200 && (oget(dec($res2), qw(result data success)) // 0),
   sprintf('relay down: auth.register and auth.requestPasswordReset succeed (%.0f ms, %.0f ms)', $t1 * 1000, $t2 * 1000))
    or diag show($res1), show($res2);
diag(sprintf('%s: with the relay down, auth.register took %.0f ms, auth.requestPasswordReset %.0f ms', $mpm,
             $t1 * 1000, $t2 * 1000));
my $pending = wait_for(15, sub {
    psql("SELECT count(*) FROM $SCHEMA.mail_outbox WHERE recipient = '$who' AND sent_at IS NULL AND attempts > 0") == 2 });
ok($pending, '... their two mails wait in the outbox, tried and failed');
sink_start();
$back = time;
my @got = @{ wait_for(30, sub { my @m = mails_to($who); @m == 2 ? \@m : undef }) // [] };
diag(sprintf('%s: the two mails arrived %.2f s after the relay came back', $mpm, time - $back));
# (verify-email has this test's UTF-8 template)
my ($vmail) = grep { Encode::decode('MIME-Header', $_->{head}{subject} // '') =~ /^Best\x{e4}tigen/ } @got;
my ($rmail) = grep { ($_->{head}{subject} // '') eq 'Reset your password' } @got;
ok($vmail && $rmail, 'relay back: both mails arrive (verification and reset)');
my ($vtok) = ($vmail ? $vmail->{body} : '') =~ m{http://app\.test/[^\s]*[#&]token=([0-9a-f]+)\r\n};
push @tokens, $vtok if $vtok;
my ($res3) = call('auth.verifyEmail', { token => $vtok // 'none' });
ok($vtok && $res3->code == 200, 'the link in the verification mail works: auth.verifyEmail accepts its token')
    or diag show($res3);

# ---- a graceful restart with mail pending ----------------------------------------------------------------------

# 20 rows queued in one transaction, the server restarted gracefully at once: the old process finishes the mail in
# hand and exits; the new one sends the rest. Each mail arrives exactly once.
sub seal { my ($link, $to) = @_; my $s = qx{'$top/t/lib/seal-link' '$dir/r.key' '$link' '$to'}; chomp $s; return $s }
my (@batch, @values);
for my $i (1 .. 20) {
    my $t = 'tok' . join('', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 40);
    push @tokens, $t;
    my $addr = uniq_email("mail67g$i");
    push @batch, $addr;
    push @values, "('verify-email', '$addr', '" . seal("http://app.test/g#token=$t", $addr) . "', now() + interval '1 hour')";
}
psql("BEGIN; INSERT INTO $SCHEMA.mail_outbox (kind, recipient, sealed_link, expires_at) VALUES "
   . join(', ', @values) . "; NOTIFY trpcauth_outbox; COMMIT");
my $before = daemon_pid();
kill 'USR1', parent_pid();
my $d2 = wait_for(20, sub { my $p = daemon_pid(); $p && $p != $before ? $p : undef });
ok($d2, "graceful restart: a new delivery process (pid $before -> " . ($d2 // '-') . ')');
ok(wait_for(5, sub { !kill 0, $before }), "... and the old one ($before) is gone");
my $in = join(', ', map { "'$_'" } @batch);
my $all = wait_for(30, sub {
    psql("SELECT count(*) FROM $SCHEMA.mail_outbox WHERE recipient IN ($in) AND sent_at IS NOT NULL") == 20 });
ok($all, 'every one of the 20 mails is marked sent');
sleep 1.5;     # a duplicate would come within a retry
my @counts = map { scalar mails_to($_) } @batch;
is(join(',', @counts), join(',', (1) x 20), 'each arrived exactly once');
my $by_new = () = slurp("$dir/error_log") =~ /\[pid \Q$d2\E:[^]]*\] \S+ TRPCAUTH1453: /g if $d2;
ok($by_new, "mail was pending at the restart: the new process sent " . ($by_new // 0) . " of them");
is(uid_of($d2 // 0)->[1], $uid, "the new process runs as $USER too");

# ---- kill -9: the parent starts it again -------------------------------------------------------------------------

kill 'KILL', $d2 if $d2;
my $d3 = wait_for(15, sub { my $p = daemon_pid(); $p && $p != ($d2 // 0) ? $p : undef });
ok($d3, 'after kill -9 of the delivery process, the parent starts a new one (pid ' . ($d3 // '-') . ')');
like(slurp("$dir/error_log"), qr/TRPCAUTH1467: the mail delivery process \Q$d2\E died/, '... and logs it (TRPCAUTH1467)');
my $to5 = uniq_email('mail67k');
enqueue(kind => 'verify-email', to => $to5, link => 'http://app.test/k#token=afterkill');
push @tokens, 'afterkill';
ok(wait_for(15, sub { scalar mails_to($to5) }), '... which delivers new mail');

# ---- the server's requests are not held up ----------------------------------------------------------------------

my $res = bare_ua()->get("http://127.0.0.1:$PORT/trpc/auth.me");
is($res->code, 401, 'the tRPC endpoint of the same server answers meanwhile');

# ---- stop ---------------------------------------------------------------------------------------------------------

my $last = daemon_pid();
httpd('-f', $conf, '-k', 'stop');
wait_for(20, sub { !-e "$dir/httpd.pid" });
ok($last && wait_for(10, sub { !kill 0, $last }), 'apache2 -k stop ends the delivery process');
sink_stop();

$log = slurp("$dir/error_log");
my @leaks = grep { index($log, $_) >= 0 } @tokens;
is(scalar @leaks, 0, 'no token of any link is in the error log (' . scalar(@tokens) . ' checked)');
unlike($log, qr/#token=/, '... nor any link');
like($log, qr/TRPCAUTH1453: mail outbox row \d+ \(verify-email\) sent through smtp:\/\/127\.0\.0\.1:$SMTP/,
     'LogLevel trpcauth:debug: each sent row is logged by id and kind');
my @asan = grep { slurp($_) =~ /ERROR: AddressSanitizer/ } glob "$dir/asan/asan*";
ok($log !~ /Segmentation fault|AH00052|double free|corrupted/ && !@asan,
   'no crash' . ($ENV{TRPCAUTH_ASAN_RUNTIME} ? ' and no AddressSanitizer report' : '')) or diag map { slurp($_) } @asan;

# ---- used nowhere with a relay: no process --------------------------------------------------------------------

$conf = conf('');
unlink "$dir/httpd.pid";
httpd('-f', $conf, '-k', 'start') == 0 or die "httpd does not start";
wait_for(20, sub { -s "$dir/httpd.pid" && IO::Socket::INET->new("127.0.0.1:$PORT") });
sleep 1;
ok(parent_pid() && !daemon_pid(), 'without TrpcAuthMailRelay the parent starts no delivery process');
httpd('-f', $conf, '-k', 'stop');
wait_for(20, sub { !-e "$dir/httpd.pid" });

my $left = psql("SELECT count(*) FROM $SCHEMA.mail_outbox WHERE sent_at IS NULL AND coalesce(last_error, '') <> 'expired'");
is($left, 0, 'nothing is left unsent in the outbox');

# ---- a relay with a password: never in the clear, never in the log ------------------------------------------------

# The sink offers neither STARTTLS nor AUTH: with a password in the relay URL the module must refuse to send
# rather than log in in the clear, and say so without the password.
sink_start();
truncate "$dir/error_log", 0;
$conf = conf(<<"AUTH");
TrpcAuthMailRelay smtp://mailer:Sekr3t%40Pw\@127.0.0.1:$SMTP
TrpcAuthMailFrom noreply\@mail67.test
TrpcAuthMailRetry 500ms 2s
AUTH
httpd('-f', $conf, '-k', 'start') == 0 or die "httpd does not start";
wait_for(20, sub { -s "$dir/httpd.pid" && IO::Socket::INET->new("127.0.0.1:$PORT") });
my $to6 = uniq_email('mail67a');
my $aid = enqueue(kind => 'reset-password', to => $to6, link => 'http://app.test/a#token=withauth');
push @tokens, 'withauth';
my $ar = wait_for(15, sub { my $r = row($aid); $r->{attempts} >= 1 ? $r : undef });
ok($ar && !$ar->{sent} && !mails_to($to6) && $ar->{error} =~ /TLS|SSL/i,
   'a relay URL with a password but no STARTTLS offered: nothing is sent (' . ($ar ? $ar->{error} : '') . ')');
httpd('-f', $conf, '-k', 'stop');
wait_for(20, sub { !-e "$dir/httpd.pid" });
sink_stop();
$log = slurp("$dir/error_log");
ok($log =~ m{smtp://mailer:\*\*\*\@127\.0\.0\.1:$SMTP} && $log !~ /Sekr3t/ && $ar && $ar->{error} !~ /Sekr3t/,
   '... the log shows the relay as mailer:***@, the password is in neither the log nor last_error') or diag $log;
psql("DROP SCHEMA IF EXISTS $SCHEMA CASCADE");

# An interrupted run leaves no server, no relay and no schema behind.
END {
    if ($started && -s "$dir/httpd.pid") {
        httpd('-f', "$dir/httpd.conf", '-k', 'stop');
        wait_for(20, sub { !-e "$dir/httpd.pid" });
    }
    sink_stop() if $sink_pid;
    eval { psql("DROP SCHEMA IF EXISTS $SCHEMA CASCADE") };
}
