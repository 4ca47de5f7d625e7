# Mail delivery through a relay that needs STARTTLS and AUTH (issue 14), with real mail: the delivery process
# (src/hooks/maild.c, libcurl) sends a password-reset mail through scripts/smtp-sink started with STARTTLS required
# and AUTH, trusting the relay's certificate through TrpcAuthMailCAFile; and it sends nothing when it should not:
# a wrong password (the row stays pending and is retried, the password in no log), a certificate that no trusted CA
# signed (no TrpcAuthMailCAFile), a relay that offers no STARTTLS to a client with a password (the password never
# goes in the clear). A CA file only root can read works (Apache reads it at start, as the keys); a
# TrpcAuthMailCAFile that names no readable PEM file fails configtest. Virtual hosts on one database with other mail
# settings are warned at start (their mail goes out with the first one's).
#
# The CA and the relay's certificate (for localhost and 127.0.0.1) are made with openssl at run time in the test's
# temporary folder. Runs an httpd of its own (t/lib/TrpcHttpd.pm, the MPM of this run of the suite) per case, and
# its own relays. Its outbox is a table of its own (schema mail68_PID through DBDParams' search_path, as t/67), so
# no other server's delivery process on the test database takes its rows.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(time sleep);
use TrpcT;
use TrpcHttpd;
use TrpcMail qw(wait_for);

plan tests => 42;

my $top = Apache::Test::vars('top_dir');
my $mpm = TrpcHttpd::suite_mpm();     # the MPM of this run of the suite (event, then prefork)
my $pg_port = Apache::Test::vars('trpc_pg_port') || $ENV{TRPCAUTH_TEST_PG_PORT} || 55432;
my $redis_port = Apache::Test::vars('trpc_redis_port') || $ENV{TRPCAUTH_TEST_REDIS_PORT} || 56379;

my $h = TrpcHttpd->new(mpm => $mpm);
my $dir = $h->dir;                 # 0755: the delivery process (User nobody) reads the CA file below it
my $PORT = $h->port;
*spit = \&TrpcHttpd::spit;
*slurp = \&TrpcHttpd::slurp;
my $SCHEMA = "mail68_$$";

# ---- PostgreSQL --------------------------------------------------------------------------------------------------

sub psql { TrpcMail::psql_at($pg_port, shift) }
TrpcMail::own_outbox($pg_port, $SCHEMA);

# The outbox row of the mail to $to: { id, attempts, sent, sealed_null, error }, or undef before it exists.
sub row_of {
    my $to = shift;
    my $out = psql("SELECT id, attempts, sent_at IS NOT NULL, sealed_link IS NULL, coalesce(last_error, '') "
                 . "FROM $SCHEMA.mail_outbox WHERE recipient = '$to' ORDER BY id DESC LIMIT 1");
    return undef if $out eq '';
    my ($id, $attempts, $sent, $sealed_null, $err) = split /\|/, $out, 5;
    return { id => $id, attempts => $attempts, sent => $sent eq 't', sealed_null => $sealed_null eq 't',
             error => $err };
}

# ---- a throwaway CA and the relay's certificate ------------------------------------------------------------------

my $pki = "$dir/pki";
mkdir $pki; chmod 0755, $pki;
spit("$pki/openssl.cnf", <<'CNF');
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[relay]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
sub openssl {
    my @args = @_;
    my $out = qx{openssl @args 2>&1};
    die "openssl @args failed: $out" if $?;
}
my $EC = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
openssl("req -x509 -new -config $pki/openssl.cnf -extensions ca $EC -keyout $pki/ca.key -out $pki/ca.pem "
      . "-days 2 -subj '/CN=mod_trpcauth t68 throwaway CA $$'");
openssl("req -new -config $pki/openssl.cnf $EC -keyout $pki/relay.key -out $pki/relay.csr -subj '/CN=localhost'");
openssl("x509 -req -in $pki/relay.csr -CA $pki/ca.pem -CAkey $pki/ca.key -set_serial 0x" . sprintf('%x', time)
      . " -days 2 -extfile $pki/openssl.cnf -extensions relay -out $pki/relay.pem");
chmod 0644, "$pki/ca.pem";
my $CA = "$pki/ca.pem";

# ---- the relays (scripts/smtp-sink) ------------------------------------------------------------------------------

my $USER = 'mailer68';
my $PASS = 'S3cr:t68&pw';                  # ':' and '&': percent-encoded in the relay URL
my $PASS_URL = 'S3cr%3At68%26pw';
my $WRONG = 'Wr0ngPw68x';

my %sinks;    # name => { pid, port, mail, transcript }
sub sink_start {
    my ($name, @opts) = @_;
    my ($host) = map { $opts[$_ + 1] } grep { $opts[$_] eq '--host' } 0 .. $#opts - 1;
    $host //= '127.0.0.1';
    my $s = { port => TrpcHttpd::free_port(), mail => "$dir/mail-$name", transcript => "$dir/transcript-$name" };
    $s->{pid} = fork // die "fork: $!";
    if ($s->{pid} == 0) {
        open STDOUT, '>', '/dev/null'; open STDERR, '>>', "$dir/smtp-$name.log";
        exec "$top/scripts/smtp-sink", '--port', $s->{port}, '--dir', $s->{mail}, '--transcript', $s->{transcript},
            @opts or POSIX::_exit(127);
    }
    wait_for(15, sub { IO::Socket::INET->new("$host:$s->{port}") }) or die "smtp-sink $name does not start";
    return $sinks{$name} = $s;
}
sub sink_stop {
    my $s = delete $sinks{$_[0]} or return;
    kill 'TERM', $s->{pid};
    waitpid $s->{pid}, 0;
}

# The messages a relay stored for $to: [{ head => {lc name => value}, body }].
sub mails_to {
    my ($s, $to) = @_;
    my @out;
    for my $f (sort glob "$s->{mail}/*.eml") {
        my ($head, $body) = split /\r\n\r\n/, slurp($f), 2;
        (my $unfolded = $head) =~ s/\r\n[ \t]+/ /g;
        my %hd = map { /^([^:]+):\s*(.*)\z/ ? (lc $1 => $2) : () } split /\r\n/, $unfolded;
        push @out, { head => \%hd, body => $body // '' } if ($hd{to} // '') eq $to;
    }
    return @out;
}
# The relay's transcript since the last clear: one [connection, tls|plain, command, reply] per command handled
# (command "AUTH PLAIN"; reply "220 handshake-failed" for a STARTTLS whose handshake failed).
sub transcript {
    my $s = shift;
    my @out;
    for (grep { /\S/ } split /\n/, slurp($s->{transcript})) {
        my @f = split / /;
        my $flag = $f[-1] =~ /^\d{3}\z|^-\z/ ? '' : ' ' . pop @f;
        my $code = pop @f;
        push @out, [$f[0], $f[1], join(' ', @f[2 .. $#f]), $code . $flag];
    }
    return @out;
}
sub transcript_clear { truncate $_[0]{transcript}, 0 if -e $_[0]{transcript} }
sub commands { my ($s, $re) = @_; return grep { $_->[2] =~ $re } transcript($s) }

# ---- the server --------------------------------------------------------------------------------------------------

spit("$dir/a.key", join('', map { chr(65 + int rand 26) } 1 .. 48) . "\n");
spit("$dir/r.key", join('', map { chr(65 + int rand 26) } 1 .. 48) . "\n");

sub extra {
    my ($mail) = @_;
    return <<"CONF";
DBDriver pgsql
DBDParams "host=127.0.0.1 port=$pg_port dbname=trpcauth user=trpcauth connect_timeout=2 options='-c search_path=$SCHEMA,public'"
DBDMin 0
TrpcAuthRedis redis://127.0.0.1:$redis_port/0
TrpcAuthKeyPrefix "trpcauth-test68-$$:"
TrpcAuthAccessKey HS256 file:$dir/a.key
TrpcAuthRefreshKey HS256 file:$dir/r.key
TrpcAuthBcryptCost 4
TrpcAuthPublicURL http://app.test
TrpcAuthVerifyOnRegister Off
<Location /trpc>
    SetHandler trpcauth
</Location>
TrpcAuthMailFrom "Test Sender <noreply\@mail68.test>"
TrpcAuthMailRetry 500ms 2s
$mail
CONF
}
sub configtest { $h->configtest(extra => extra($_[0])) }
# Runs the server with $mail, calls $code->(), stops it; the run's error log (each is kept in @logs).
my @logs;
sub with_server {
    my ($mail, $code) = @_;
    my $log = $h->with_server($code, extra => extra($mail), loglevel => 'warn trpcauth:debug');
    push @logs, $log;
    return $log;
}

# Asks for a password reset of a new account, as a user would; the account's address.
sub reset_requested {
    my $tag = shift;
    my $who = uniq_email($tag);
    for my $call (['auth.register', { email => $who, password => 'mail68-password-1' }],
                  ['auth.requestPasswordReset', { email => $who }]) {
        my $res = bare_ua()->post($h->url("/trpc/$call->[0]"), 'Content-Type' => 'application/json',
                                  Content => enc($call->[1]));
        die "$call->[0]: " . show($res) unless $res->code == 200;
    }
    return $who;
}

my $secure = sink_start('secure', '--tls-cert', "$pki/relay.pem", '--tls-key', "$pki/relay.key", '--require-tls',
                        '--auth', "$USER:$PASS");
my $RELAY = "smtp://$USER:$PASS_URL\@localhost:$secure->{port}";
my $SHOWN = "smtp://$USER:***\@localhost:$secure->{port}";
my @secrets = ($PASS, $PASS_URL, $WRONG);
sub no_secret { my $text = shift; return !grep { index($text, $_) >= 0 } @secrets }

# ---- 1. STARTTLS and AUTH, the relay's CA trusted through TrpcAuthMailCAFile ----------------------------------

my $GOOD = "TrpcAuthMailRelay $RELAY\nTrpcAuthMailCAFile $CA\n";
my ($rc, $out) = configtest($GOOD);
is($rc, 0, 'TrpcAuthMailCAFile naming the test CA passes configtest') or diag $out;

my ($who, $m, $r, @t);
my $log = with_server($GOOD, sub {
    $who = reset_requested('mail68ok');
    $m = wait_for(20, sub { (mails_to($secure, $who))[0] });
});
ok($m, "$mpm: a password reset mail went through the relay that requires STARTTLS and AUTH");
$m //= { head => {}, body => '' };
is($m->{head}{subject}, 'Reset your password', '... the reset mail');
like($m->{body}, qr{\r\nhttp://app\.test/\S*reset-password\S*token=[A-Za-z0-9_-]+\r\n}, '... with its link')
    or diag $m->{body};
is($m->{head}{'x-sink-tls'}, 'yes', '... the relay received it over TLS (STARTTLS)');
is($m->{head}{'x-sink-auth'}, $USER, "... from the client that logged in as $USER (the percent-encoded password)");
$r = row_of($who);
ok($r && $r->{sent} && $r->{sealed_null} && $r->{attempts} == 1 && $r->{error} eq '',
   '... the row is marked sent at the first attempt');
@t = transcript($secure);
my ($auth) = grep { $_->[2] =~ /^AUTH/ } @t;
ok($auth && $auth->[1] eq 'tls' && $auth->[3] eq '235', "the relay saw AUTH over TLS, accepted ($auth->[2])")
    or diag explain \@t;
ok(!grep({ $_->[1] eq 'plain' && $_->[2] !~ /^(EHLO|STARTTLS)\z/ } @t),
   '... and nothing but EHLO and STARTTLS in the clear') or diag explain \@t;
like($log, qr/TRPCAUTH1462: mail delivery process \d+ \(uid \d+\) sends the outbox through \Q$SHOWN\E, trusting the CAs of \Q$CA\E/,
     'the delivery process names the relay (password as ***) and the CA file (TRPCAUTH1462)');
ok(no_secret($log), '... and the password is nowhere in the error log');
psql("DELETE FROM $SCHEMA.mail_outbox");
transcript_clear($secure);

# ---- 2. a wrong password: nothing stored, the row pending and retried --------------------------------------------

my $BADPW = "TrpcAuthMailRelay smtp://$USER:$WRONG\@localhost:$secure->{port}\nTrpcAuthMailCAFile $CA\n";
$log = with_server($BADPW, sub {
    $who = reset_requested('mail68pw');
    $r = wait_for(20, sub { my $r = row_of($who); $r && $r->{attempts} >= 2 ? $r : undef });
});
ok($r && !$r->{sent} && !$r->{sealed_null},
   'wrong password: the row stays pending with its sealed link, and is tried again (' . ($r ? $r->{attempts} : 0)
   . ' attempts)');
ok(!mails_to($secure, $who) && !commands($secure, qr/^(MAIL|RCPT|DATA)\z/),
   '... the relay stored no mail and saw no MAIL, RCPT or DATA');
@t = commands($secure, qr/^AUTH/);
ok(@t >= 2 && !grep({ $_->[1] ne 'tls' || $_->[3] ne '535' } @t),
   '... it refused each AUTH (535), every one over TLS (' . scalar(@t) . ' tries)') or diag explain [transcript($secure)];
like($r ? $r->{error} : '', qr/login denied|535|auth/i, '... last_error says why: ' . ($r ? $r->{error} : ''));
like($log, qr/TRPCAUTH1455: mail relay \Q$SHOWN\E: [^\n]*(?i:login denied|535)[^\n]*tries again/,
     '... the error log says the relay refused the login and that the mail is tried again (TRPCAUTH1455)')
    or diag $log;
ok(no_secret($log) && no_secret($r ? $r->{error} : ''), '... the password is in neither the error log nor last_error');
psql("DELETE FROM $SCHEMA.mail_outbox");
transcript_clear($secure);

# ---- 3. no TrpcAuthMailCAFile: the throwaway CA is not trusted ---------------------------------------------------

my $NOCA = "TrpcAuthMailRelay $RELAY\n";
$log = with_server($NOCA, sub {
    $who = reset_requested('mail68ca');
    $r = wait_for(20, sub { my $r = row_of($who); $r && $r->{attempts} >= 2 ? $r : undef });
});
ok($r && !$r->{sent} && !$r->{sealed_null}, 'certificate of an untrusted CA: the row stays pending, tried again ('
   . ($r ? $r->{attempts} : 0) . ' attempts)');
like($r ? $r->{error} : '', qr/certificate/i, '... last_error names the certificate problem: ' . ($r ? $r->{error} : ''));
like($log, qr/TRPCAUTH1455: mail relay \Q$SHOWN\E: [^\n]*certificate/i, '... and so does the error log (TRPCAUTH1455)')
    or diag $log;
@t = transcript($secure);
ok(@t && !mails_to($secure, $who) && !grep({ $_->[2] !~ /^(EHLO|STARTTLS)\z/ } @t),
   '... nothing was sent: the relay saw EHLO and STARTTLS only, no AUTH, no MAIL') or diag explain \@t;
ok(grep({ $_->[2] eq 'STARTTLS' && $_->[3] =~ /handshake-failed/ } @t), '... the client broke off the TLS handshake')
    or diag explain \@t;
ok(no_secret($log), '... the password is not in the error log');
psql("DELETE FROM $SCHEMA.mail_outbox");
transcript_clear($secure);

# ---- 4. a relay that offers no STARTTLS, only AUTH in the clear ------------------------------------------------

my $clear = sink_start('clear', '--auth', "$USER:$PASS", '--auth-in-clear');
# The relay would take the password in the clear: it offers AUTH on a plain connection.
my $ehlo = '';
if (my $sock = IO::Socket::INET->new("127.0.0.1:$clear->{port}")) {
    local $/ = "\r\n";
    my $line = <$sock>;
    print $sock "EHLO t68.test\r\n";
    while (defined($line = <$sock>)) { $ehlo .= $line; last if $line =~ /^\d{3} / }
    print $sock "QUIT\r\n";
    close $sock;
}
ok($ehlo =~ /^250-AUTH /m && $ehlo !~ /STARTTLS/, 'the plain relay offers AUTH without STARTTLS') or diag $ehlo;
transcript_clear($clear);
my $PLAIN = "TrpcAuthMailRelay smtp://$USER:$PASS_URL\@localhost:$clear->{port}\nTrpcAuthMailCAFile $CA\n";
$log = with_server($PLAIN, sub {
    $who = reset_requested('mail68clear');
    $r = wait_for(20, sub { my $r = row_of($who); $r && $r->{attempts} >= 2 ? $r : undef });
});
@t = transcript($clear);
ok($r && !$r->{sent} && !$r->{sealed_null} && !mails_to($clear, $who),
   'a password and a relay without STARTTLS: nothing is sent, the row waits (' . ($r ? $r->{attempts} : 0)
   . ' attempts)');
ok(@t && !grep({ $_->[2] ne 'EHLO' && $_->[2] ne 'QUIT' } @t),
   '... the relay saw no AUTH command (nor MAIL): the password never went in the clear') or diag explain \@t;
like($r ? $r->{error} : '', qr/TLS|SSL/, '... last_error says TLS was required: ' . ($r ? $r->{error} : ''));
like($log, qr/TRPCAUTH1455: mail relay smtp:\/\/\Q$USER\E:\*\*\*\@localhost:$clear->{port}: [^\n]*(TLS|SSL)/,
     '... and so does the error log (TRPCAUTH1455)') or diag $log;
ok(no_secret($log), '... without the password');
sink_stop('clear');
psql("DELETE FROM $SCHEMA.mail_outbox");
transcript_clear($secure);

# ---- 5. a CA file only root can read (next to the keys): read at start, as root, so mail goes out ---------------

spit("$pki/ca-root-only.pem", slurp($CA));
chmod 0600, "$pki/ca-root-only.pem";
my $ROOTCA = "TrpcAuthMailRelay $RELAY\nTrpcAuthMailCAFile $pki/ca-root-only.pem\n";
($rc, $out) = configtest($ROOTCA);
is($rc, 0, 'a CA file only root can read passes configtest') or diag $out;
$log = with_server($ROOTCA, sub {
    $who = reset_requested('mail68root');
    $m = wait_for(20, sub { (mails_to($secure, $who))[0] });
});
ok($m && ($m->{head}{'x-sink-tls'} // '') eq 'yes',
   '... and the delivery process (Apache\'s User) sends through the relay it signs: the file was read at start');
psql("DELETE FROM $SCHEMA.mail_outbox");
transcript_clear($secure);

# ---- 6. configtest: TrpcAuthMailCAFile that names no PEM file ----------------------------------------------------

($rc, $out) = configtest("TrpcAuthMailRelay $RELAY\nTrpcAuthMailCAFile $pki/missing.pem\n");
ok($rc != 0, 'TrpcAuthMailCAFile naming a missing file: httpd -t fails');
like($out, qr/TrpcAuthMailCAFile: cannot open \Q$pki\E\/missing\.pem: No such file/,
     '... with a message that names the directive and the file') or diag $out;
ok(no_secret($out), '... and not the relay\'s password');
spit("$pki/not-pem.txt", "this is no certificate\n");
($rc, $out) = configtest("TrpcAuthMailCAFile $pki/not-pem.txt\n");
ok($rc != 0 && $out =~ /TrpcAuthMailCAFile: \Q$pki\E\/not-pem\.txt holds no PEM certificate/,
   'a file without a PEM certificate: httpd -t fails and says so') or diag $out;
($rc, $out) = configtest("TrpcAuthMailCAFile $pki\n");
ok($rc != 0 && $out =~ /TrpcAuthMailCAFile: \Q$pki\E is not a file of CA certificates/,
   'a folder: httpd -t fails and says so') or diag $out;
($rc, $out) = configtest("TrpcAuthMailCAFile $pki/relay.key\n");
ok($rc != 0 && $out =~ /holds no PEM certificate/, 'a PEM file with a key but no certificate: refused') or diag $out;

# ---- 7. the relay's name must match its certificate --------------------------------------------------------------

# The same relay and CA, but named by an address the certificate does not hold (127.0.0.2 reaches the loopback
# too; the sink listens on 127.0.0.1 only, so a second one on 127.0.0.2 with the same certificate).
my $other = sink_start('other', '--host', '127.0.0.2', '--tls-cert', "$pki/relay.pem", '--tls-key', "$pki/relay.key",
                       '--require-tls', '--auth', "$USER:$PASS");
my $WRONGNAME = "TrpcAuthMailRelay smtp://$USER:$PASS_URL\@127.0.0.2:$other->{port}\nTrpcAuthMailCAFile $CA\n";
$log = with_server($WRONGNAME, sub {
    $who = reset_requested('mail68name');
    $r = wait_for(20, sub { my $r = row_of($who); $r && $r->{attempts} >= 1 ? $r : undef });
});
@t = transcript($other);
ok($r && !$r->{sent} && !mails_to($other, $who) && !grep({ $_->[2] =~ /^(AUTH|MAIL)/ } @t),
   'a certificate that does not name the relay\'s host (127.0.0.2): nothing is sent, no AUTH');
like($r ? $r->{error} : '', qr/certificate|subject|name|match/i, '... last_error says why: ' . ($r ? $r->{error} : ''));
sink_stop('other');

# ---- 8. virtual hosts on one database with other mail settings ---------------------------------------------------

# The outbox rows do not say which server queued them: every server on one database has its mail sent with the
# first one's settings. A server with other settings is told so at start (TRPCAUTH1481); one with the same is not.
my ($P_OTHER, $P_SAME) = (TrpcHttpd::free_port(), TrpcHttpd::free_port());
my $VHOSTS = $GOOD . <<"CONF";
Listen 127.0.0.1:$P_OTHER
<VirtualHost 127.0.0.1:$P_OTHER>
    TrpcAuthMailFrom "Another Sender <other\@mail68.test>"
</VirtualHost>
Listen 127.0.0.1:$P_SAME
<VirtualHost 127.0.0.1:$P_SAME>
    TrpcAuthMailFrom "Test Sender <noreply\@mail68.test>"
</VirtualHost>
CONF
$log = with_server($VHOSTS, sub { wait_for(5, sub { IO::Socket::INET->new("127.0.0.1:$P_SAME") }) });
my @warned = $log =~ /TRPCAUTH1481: server \S+:(\d+) \([^)]*\) uses the same database as \S+ \([^)]*\) but other TrpcAuthMail\* settings/g;
is("@warned", $P_OTHER, 'a virtual host on the same database with another TrpcAuthMailFrom is warned at start '
   . '(TRPCAUTH1481), one with the same settings is not') or diag $log;
psql("DELETE FROM $SCHEMA.mail_outbox");

sink_stop('secure');
my $all = join '', @logs;
ok(@logs == 7 && no_secret($all) && no_secret(join '', map { slurp($_) } glob "$dir/smtp-*.log"),
   'the relay\'s password is in no log of this test (' . scalar(@logs) . ' server runs, the relays\' logs)');
ok($all !~ /Segmentation fault|AH00052|double free|corrupted/, 'no crash');

psql("DROP SCHEMA IF EXISTS $SCHEMA CASCADE");

# An interrupted run leaves no relay and no schema behind (TrpcHttpd::with_server stops its httpd).
END {
    sink_stop($_) for keys %sinks;
    eval { psql("DROP SCHEMA IF EXISTS $SCHEMA CASCADE") };
}
