# E-mail verification and password reset, the request side (issue 14; CONTRACT §3): auth.requestEmailVerification,
# auth.verifyEmail, auth.requestPasswordReset, auth.resetPassword, the verification mail of auth.register, and
# TrpcAuthRequireVerifiedEmail, on the <VirtualHost trpc_mail*> servers of t/conf/extra.conf.in.
#
# The links are read where the request side leaves them: the mail_outbox row, its sealed_link opened with the key
# derived from the refresh key (t/lib/unseal.mjs, a second implementation of src/jose/seal.c).
#   - every procedure, every refusal (unknown, used, expired, replaced token; a token of the other kind; a weak new
#     password; no session), TrpcAuthVerifyOnRegister, TrpcAuthRequireVerifiedEmail, TrpcAuthMailPage and the TTLs;
#   - enumeration safety: a registered and an unknown address get the same answer, and their server times (%D of
#     the access log, 20 requests each) have medians within 25 ms;
#   - the mail-address and mail-ip rate limits (the same for registered and unknown addresses);
#   - a reset ends every session (and refresh token) of the user; a queued mail wakes the sender (NOTIFY at commit);
#   - no token in clear in email_tokens, mail_outbox, auth_events, Redis or the logs.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Digest::SHA qw(sha256_hex);
use TrpcT;
use TrpcSess;
use TrpcMail ();

plan tests => 102;

my (@TOKENS, $r, $d);
my $OK = '{"result":{"data":{"success":true}}}';
my $HEX64 = qr/^[0-9a-f]{64}\z/;

# The first line of psql's answer (TrpcSess::psql returns the lines).
sub sql1 { my @l = psql(shift); return $l[0] }
sub q_ { my $s = shift; $s =~ s/'/''/g; return "'$s'" }

# The newest outbox rows of $email ([kind, sealed_link]), oldest first.
sub outbox {
    my ($email, $kind) = @_;
    my $and = $kind ? ' and kind = ' . q_($kind) : '';
    return map { [ split /\|/, $_, 2 ] }
        psql('select kind, coalesce(sealed_link, \'\') from mail_outbox where recipient = ' . q_($email)
             . "$and order by id");
}

sub unseal {
    my ($sealed, $aad) = @_;
    my $key = keyfile('refresh.key');
    # a seal that does not open is an expected outcome here: keep node's message out of the test output
    open my $saved, '>&', \*STDERR or die "dup: $!";
    open STDERR, '>', '/dev/null' or die "/dev/null: $!";
    open my $fh, '-|', 'node', "$FindBin::Bin/lib/unseal.mjs", $key, $aad, $sealed or die "node: $!";
    my $out = <$fh>;
    close $fh;
    open STDERR, '>&', $saved or die "restore: $!";
    return undef if $?;
    chomp $out;
    return $out;
}

# The link of the newest mail of $kind to $email, and its token (remembered for the "never in clear" checks). With
# the test stack's delivery process running (its SMTP server keeps every message in <state>/mail/), from the mail
# itself, after checking that the sent row kept no link; without it, from the outbox row, unsealed.
my $DELIVERED = -d TrpcMail::mail_dir();
my sub mail_link {
    my ($email, $kind) = @_;
    my @rows = outbox($email, $kind);
    return (undef, undef) unless @rows;
    my $link;
    if ($DELIVERED) {
        my $n = scalar @rows;
        for (my $end = time + 15; time < $end; select undef, undef, undef, 0.1) {
            my $subject = $kind eq 'verify-email' ? qr/confirm|verif/i : qr/reset|password/i;
            my @links = map { $_->{body} =~ m{(https?://\S+[#&?]token=[0-9a-f]{64})}g }
                        grep { ($_->{head}{subject} // '') =~ $subject } TrpcMail::delivered_mails($email);
            if (@links >= $n) { $link = $links[$n - 1]; last }
        }
        my $kept = sql1('select count(*) from mail_outbox where recipient = ' . q_($email) . ' and kind = ' . q_($kind)
                        . ' and sent_at is not null and sealed_link is not null');
        diag("a sent $kind row to $email kept its sealed link") if $kept;
        $link = undef if $kept;
    }
    else {
        $link = unseal($rows[-1][1], $email);
    }
    my ($token) = ($link // '') =~ /[#&]token=([0-9a-f]{64})\z/;
    push @TOKENS, $token if $token;
    return ($link, $token);
}

sub verify_email { my ($ua, $token) = @_; tpost($ua, '/trpc/auth.verifyEmail', { token => $token }) }
sub request_reset { my ($ua, $email, @h) = @_; tpost($ua, '/trpc/auth.requestPasswordReset', { email => $email }, @h) }
sub reset_password {
    my ($ua, $token, $pw) = @_;
    tpost($ua, '/trpc/auth.resetPassword', { token => $token, newPassword => $pw });
}
sub request_verification { tpost(shift, '/trpc/auth.requestEmailVerification') }
sub me { dec(tget(shift, '/trpc/auth.me')) }
sub ok_success { my ($r, $name) = @_; ok($r->code == 200 && $r->content eq $OK, $name) or diag show($r) }
sub bad_link {
    my ($r, $path, $name) = @_;
    err_is(dec($r), 'BAD_REQUEST', $path, $name, 'This link is invalid or has expired: ask for a new one');
}
sub ua_from { my $ua = ua(); $ua->local_address(shift); return $ua }
sub rand_addr { sprintf '127.%d.%d.%d', 1 + int(rand 254), int(rand 256), 1 + int(rand 254) }
sub new_user {
    my ($tag, $pw) = @_;
    my $email = uniq_email($tag);
    my $r = register(ua(), $email, $pw);
    diag('register failed: ' . show($r)) unless $r->code == 200;
    return ($email, oget(dec($r), qw(result data user 0 id)));
}

my $pw = 'mail-test-password';

# ---- no TrpcAuthPublicURL (the main server): no link is made, register still works -----------------------------
vhost('default');
my $plain = uniq_email('mail-nourl');
is(register(ua(), $plain, $pw)->code, 200, 'without TrpcAuthPublicURL auth.register still answers 200');
is(scalar outbox($plain), 0, '... and queues no mail');
err_is(dec(request_reset(ua(), $plain)), 'INTERNAL_SERVER_ERROR', 'auth.requestPasswordReset',
       'auth.requestPasswordReset without TrpcAuthPublicURL -> INTERNAL_SERVER_ERROR (never a link from Host)');

# ---- auth.register mails a verification link; auth.verifyEmail ---------------------------------------------------
vhost('trpc_mail');
my ($ua, $email, undef, $uid) = login_ua('mail-verify');
my @rows = outbox($email);
is(scalar @rows, 1, 'auth.register queued one mail') or diag explain \@rows;
is($rows[0][0], 'verify-email', '... of kind verify-email');
my ($link, $token) = mail_link($email, 'verify-email');
like($link // '', qr{^http://app\.example\.test/finance/#verify-email&token=[0-9a-f]{64}\z},
     'the link is TrpcAuthPublicURL + /#verify-email + &token=<256 bits in hex>') or diag $link;
unlike($rows[0][1], qr/\Q$token\E/, 'the outbox holds the link sealed (or, once sent, not at all), never the token');
is(unseal($rows[0][1], 'someone-else@example.com'), undef, '... and a seal opens only for its recipient');
is(sql1('select count(*) from email_tokens where token_hash = ' . q_(sha256_hex($token))
        . " and kind = 'verify-email' and user_id = $uid and used_at is null"), 1,
   'email_tokens holds the SHA-256 of the token, for this user');
is(sql1("select extract(epoch from expires_at - created_at)::int from email_tokens where user_id = $uid"), 86400,
   'a verification link lives 24 h by default');
is(me($ua)->{result}{data}{emailVerified}, false, 'auth.me: emailVerified false before');
ok_success(verify_email(ua(), $token), 'auth.verifyEmail {token} -> {success:true} (no session needed)');
is(me($ua)->{result}{data}{emailVerified}, true, 'auth.me: emailVerified true after');
is(sql1("select email_verified from users where id = $uid"), 't', 'users.email_verified is set');
bad_link(verify_email(ua(), $token), 'auth.verifyEmail', 'the same token again -> BAD_REQUEST (single use)');
bad_link(verify_email(ua(), 'f' x 64), 'auth.verifyEmail', 'an unknown token -> BAD_REQUEST');
bad_link(verify_email(ua(), 'not-a-token'), 'auth.verifyEmail', 'a malformed token -> BAD_REQUEST');
$d = dec(tpost(ua(), '/trpc/auth.verifyEmail', {}));
ok(oget($d, qw(error data code)) eq 'BAD_REQUEST' && oget($d, qw(error data zodError fieldErrors token)),
   'no token -> BAD_REQUEST with a field error on token') or diag explain $d;

# ---- auth.requestEmailVerification -------------------------------------------------------------------------------
err_is(dec(request_verification(ua())), 'UNAUTHORIZED', 'auth.requestEmailVerification',
       'auth.requestEmailVerification without a session -> UNAUTHORIZED');
ok_success(request_verification($ua), 'auth.requestEmailVerification of a verified user -> {success:true}');
is(scalar outbox($email), 1, '... and no mail');
my ($ua2, $email2, undef, $uid2) = login_ua('mail-again');
ok_success(request_verification($ua2), 'auth.requestEmailVerification of an unverified user -> {success:true}');
@rows = outbox($email2, 'verify-email');
is(scalar @rows, 2, '... queues a second verification mail');
my (undef, $second) = mail_link($email2, 'verify-email');
my ($first) = $DELIVERED
    ? map { $_->{body} =~ /token=([0-9a-f]{64})/ } (TrpcMail::delivered_mails($email2))[0]
    : map { (unseal($_->[1], $email2) // '') =~ /token=(\w+)/ } $rows[0];
push @TOKENS, $first;
isnt($first, $second, '... with a new token');
ok_success(verify_email(ua(), $second), 'the new link verifies');

# ---- TrpcAuthVerifyOnRegister Off ----------------------------------------------------------------------------------
vhost('trpc_mail_noverify');
my ($quiet) = new_user('mail-noverify', $pw);
is(scalar outbox($quiet), 0, 'TrpcAuthVerifyOnRegister Off: auth.register queues no mail');

# ---- auth.requestPasswordReset and auth.resetPassword --------------------------------------------------------------
vhost('trpc_mail');
my ($reset_ua, $remail, $rpw, $ruid) = login_ua('mail-reset');
my $second_session = ua();
is(login($second_session, $remail, $rpw)->code, 200, 'the user has a second session');
my @sessions = grep { /:s:/ } redis('KEYS', "trpcauth-test:{u:$ruid}:*");
is(scalar @sessions, 2, '... two sessions in Redis');
$r = request_reset(ua(), $remail);
ok_success($r, 'auth.requestPasswordReset of a registered address -> {success:true}');
ok(!defined $r->header('Set-Cookie'), '... and sets no cookie');
my ($rlink, $rtoken) = mail_link($remail, 'reset-password');
like($rlink // '', qr{^http://app\.example\.test/finance/#reset-password&token=[0-9a-f]{64}\z},
     'the reset link: TrpcAuthPublicURL + /#reset-password + &token=') or diag $rlink;
is(sql1("select extract(epoch from expires_at - created_at)::int from email_tokens where user_id = $ruid"
        . " and kind = 'reset-password'"), 3600, 'a reset link lives 1 h by default');
is(sql1("select count(*) from auth_events where event = 'password_reset_requested' and user_id = $ruid"), 1,
   'auth_events: password_reset_requested with the user id');

# a second request replaces the first link
request_reset(ua(), $remail);
my ($rlink2, $rtoken2) = mail_link($remail, 'reset-password');
isnt($rtoken2, $rtoken, 'a second request sends a new token');
bad_link(reset_password(ua(), $rtoken, 'brand-new-password-1'), 'auth.resetPassword',
         'the replaced (first) token -> BAD_REQUEST');

# the wrong kind of token, both ways: refused, and not used up
bad_link(verify_email(ua(), $rtoken2), 'auth.verifyEmail', 'a reset token given to auth.verifyEmail -> BAD_REQUEST');
my ($vx_email, $vx_uid) = new_user('mail-kind', $pw);
my (undef, $vx_token) = mail_link($vx_email, 'verify-email');
bad_link(reset_password(ua(), $vx_token, 'brand-new-password-1'), 'auth.resetPassword',
         'a verification token given to auth.resetPassword -> BAD_REQUEST');
is(login(ua(), $vx_email, $pw)->code, 200, '... and the password is unchanged');
ok_success(verify_email(ua(), $vx_token), '... and the verification token still works');

# a weak new password: refused before the token is looked at, the token still works
$d = dec(reset_password(ua(), $rtoken2, 'short'));
ok(oget($d, qw(error data code)) eq 'BAD_REQUEST' && oget($d, qw(error data zodError fieldErrors newPassword)),
   'a new password of 5 characters -> BAD_REQUEST with a field error on newPassword') or diag explain $d;
$d = dec(reset_password(ua(), $rtoken2, 'x' x 73));
ok(oget($d, qw(error data zodError fieldErrors newPassword)), 'one of 73 bytes too') or diag explain $d;
is(sql1('select used_at is null from email_tokens where token_hash = ' . q_(sha256_hex($rtoken2))), 't',
   '... the token is not used up by them');

my $newpw = 'brand-new-password-2';
$r = reset_password(ua(), $rtoken2, $newpw);
ok_success($r, 'auth.resetPassword {token, newPassword} -> {success:true}');
is(login(ua(), $remail, $rpw)->code, 401, 'the old password no longer logs in');
is(login(ua(), $remail, $newpw)->code, 200, 'the new one does');
bad_link(reset_password(ua(), $rtoken2, 'another-password-3'), 'auth.resetPassword',
         'the used token again -> BAD_REQUEST');
is(login(ua(), $remail, $newpw)->code, 200, '... and the password stays');
is(sql1("select email_verified from users where id = $ruid"), 't',
   'a reset verifies the address too (the link reached its owner)');

# every session ended, every refresh token with it
err_is(me($reset_ua), 'UNAUTHORIZED', 'auth.me', 'the first session is over');
err_is(me($second_session), 'UNAUTHORIZED', 'auth.me', 'the second session is over');
err_is(dec(tpost($second_session, '/trpc/auth.refreshAccessToken')), 'UNAUTHORIZED', 'auth.refreshAccessToken',
       'its refresh token no longer refreshes');
is((redis('EXISTS', @sessions))[0], 0, 'both sessions are gone from Redis');
is(sql1("select count(*) from auth_events where event = 'password_reset' and user_id = $ruid"), 1,
   'auth_events: password_reset');

# ---- Redis down: the sessions cannot be ended, so the password does not change and the link stays good ----------
{
    my ($addr) = new_user('mail-noredis', $pw);
    request_reset(ua(), $addr);
    my (undef, $tok) = mail_link($addr, 'reset-password');
    vhost('trpc_mail_noredis');
    err_is(dec(reset_password(ua(), $tok, 'brand-new-password-5')), 'SERVICE_UNAVAILABLE', 'auth.resetPassword',
           'Redis unreachable: auth.resetPassword -> SERVICE_UNAVAILABLE');
    vhost('trpc_mail');
    is(login(ua(), $addr, $pw)->code, 200, '... the password is unchanged');
    ok_success(reset_password(ua(), $tok, 'brand-new-password-5'), '... and the link works once Redis is back');
}

# ---- the delivery process is woken at commit: NOTIFY trpcauth_outbox with the outbox row's id -------------------
sub notifications_during {
    my $code = shift;
    my $port = Apache::Test::vars('trpc_pg_port');
    open my $fh, '-|', 'psql', '-X', '-q', '-h', '127.0.0.1', '-p', $port, '-U', 'trpcauth', '-d', 'trpcauth',
        '-c', 'LISTEN trpcauth_outbox', '-c', 'select pg_sleep(1.5)' or die "psql: $!";
    select undef, undef, undef, 0.5;    # LISTEN is in place
    $code->();
    local $/;
    my $out = <$fh>;
    close $fh;
    return [ $out =~ /Asynchronous notification "trpcauth_outbox" with payload "(\d+)"/g ];
}
{
    my ($addr) = new_user('mail-notify', $pw);
    my $got = notifications_during(sub { request_reset(ua(), $addr) });
    my $id = sql1('select max(id) from mail_outbox where recipient = ' . q_($addr));
    is_deeply($got, [$id], 'a queued mail notifies trpcauth_outbox once, with its outbox id');
    $got = notifications_during(sub { request_reset(ua(), uniq_email('mail-notify-ghost')) });
    is_deeply($got, [], 'an unknown address notifies nothing');
}

# ---- an unknown address: the same answer, nothing written but the audit row -------------------------------------
my $ghost = uniq_email('mail-ghost');
$r = request_reset(ua(), $ghost);
ok_success($r, 'auth.requestPasswordReset of an unknown address -> {success:true}');
ok(!defined $r->header('Set-Cookie'), '... no cookie either');
is(scalar outbox($ghost), 0, '... no mail queued');
is(sql1('select count(*) from email_tokens where email = ' . q_($ghost)), 0, '... no token');
is(sql1("select count(*) from auth_events where event = 'password_reset_requested' and user_id is null"
        . ' and detail->>\'email\' = ' . q_($ghost)), 1, '... the audit row, without a user');
$d = dec(request_reset(ua(), 'not an address'));
ok(oget($d, qw(error data zodError fieldErrors email)), 'an invalid address -> BAD_REQUEST on email')
    or diag explain $d;

# ---- enumeration safety: same answer, time within a bound ---------------------------------------------------------
{
    my $n = 20;
    my @known = map { (new_user("mail-time-$_", $pw))[0] } 1 .. $n;
    my @unknown = map { uniq_email("mail-time-ghost-$_") } 1 .. $n;
    my $tag = "t$$-" . int(rand 1e6);
    my (%body, %status);
    # one warm-up pair, not measured
    request_reset(ua(), uniq_email('mail-warm'));
    for my $i (0 .. $n - 1) {
        for my $which ([k => $known[$i]], [u => $unknown[$i]]) {
            my $r = request_reset(ua(), $which->[1], 'X-Mail-Timing' => "$tag-$which->[0]-$i");
            $body{ $r->content }++;
            $status{ $r->code }++;
        }
    }
    is_deeply([ keys %body ], [$OK], "$n registered and $n unknown addresses: one and the same body");
    is_deeply(\%status, { 200 => 2 * $n }, '... and status 200 for all');
    my $line = qr/^\Q$tag\E-([ku])-\d+ (\d+) 200$/m;
    my $text = log_until('mail_timing_log', sub { (() = $_[0] =~ /$line/g) >= 2 * $n });
    my %t;
    push @{ $t{$1} }, $2 while $text =~ /$line/g;
    my $median = sub { my @s = sort { $a <=> $b } @{ shift() }; return ($s[$#s / 2] + $s[@s / 2]) / 2 };
    my ($mk, $mu) = map { $median->($t{$_} || [0]) } qw(k u);
    diag(sprintf 'requestPasswordReset server time (%%D), medians of %d: registered %.2f ms, unknown %.2f ms, '
         . 'difference %.2f ms', $n, $mk / 1000, $mu / 1000, ($mk - $mu) / 1000);
    is(scalar(@{ $t{k} || [] }) + scalar(@{ $t{u} || [] }), 2 * $n, 'all requests timed in the access log');
    ok(abs($mk - $mu) < 25_000, 'the medians differ by less than 25 ms');
}

# ---- expiry, and pages of the app's own (TrpcAuthMailPage) ------------------------------------------------------
vhost('trpc_mail_short');
my ($semail, $suid) = new_user('mail-short', $pw);
my ($slink, $stoken) = mail_link($semail, 'verify-email');
like($slink // '', qr{^https://mail\.example\.test/verify\?from=mail#token=[0-9a-f]{64}\z},
     'TrpcAuthMailPage verify-email /verify?from=mail: the token opens the fragment') or diag $slink;
request_reset(ua(), $semail);
my ($srlink, $srtoken) = mail_link($semail, 'reset-password');
like($srlink // '', qr{^https://mail\.example\.test/account#reset&token=[0-9a-f]{64}\z},
     'TrpcAuthMailPage reset-password /account#reset: the token joins the fragment') or diag $srlink;
is_deeply([ psql("select kind || ' ' || extract(epoch from expires_at - created_at)::int from email_tokens"
                 . " where user_id = $suid order by kind") ], ['reset-password 1', 'verify-email 1'],
          'TrpcAuthVerifyEmailTTL 1s, TrpcAuthResetPasswordTTL 1: both links live 1 s');
select undef, undef, undef, 2.2;
bad_link(verify_email(ua(), $stoken), 'auth.verifyEmail', 'an expired verification token -> BAD_REQUEST');
bad_link(reset_password(ua(), $srtoken, 'brand-new-password-4'), 'auth.resetPassword',
         'an expired reset token -> BAD_REQUEST');
is(login(ua(), $semail, $pw)->code, 200, '... the password is unchanged');

# ---- TrpcAuthRequireVerifiedEmail On -------------------------------------------------------------------------------
vhost('trpc_mail_verified');
my ($vemail, $vuid) = new_user('mail-required', $pw);
my $before = scalar outbox($vemail);
$r = login(ua(), $vemail, $pw);
err_is(dec($r), 'FORBIDDEN', 'auth.login', 'an unverified account with the right password -> FORBIDDEN');
like(oget(dec($r), qw(error message)) // '', qr/not verified/, '... with a message that says so');
ok(!defined set_cookie($r, 'accessToken'), '... and no session');
is(scalar outbox($vemail), $before + 1, '... and a fresh verification link is mailed');
err_is(dec(login(ua(), $vemail, 'wrong-password')), 'UNAUTHORIZED', 'auth.login',
       'a wrong password stays UNAUTHORIZED (the refusal tells nothing without the password)');
is(scalar outbox($vemail), $before + 1, '... and mails nothing');
is(sql1("select count(*) from auth_events where event = 'login_unverified' and user_id = $vuid"), 1,
   'auth_events: login_unverified');
my (undef, $vtoken) = mail_link($vemail, 'verify-email');
ok_success(verify_email(ua(), $vtoken), 'the mailed link verifies the address');
my $vua = ua();
$r = login($vua, $vemail, $pw);
ok($r->code == 200 && defined set_cookie($r, 'accessToken'), 'then the login succeeds') or diag show($r);
is(me($vua)->{result}{data}{emailVerified}, true, 'auth.me shows emailVerified true');

# ---- rate limits: mail-address 3 1h, mail-ip 5 1h -----------------------------------------------------------------
vhost('trpc_mail_rl');
{
    my ($known) = new_user('mail-rl', $pw);
    my $unknown = uniq_email('mail-rl-ghost');
    for my $case ([registered => $known], [unknown => $unknown]) {
        my ($what, $addr) = @$case;
        my $from = ua_from(rand_addr());
        my @codes = map { request_reset($from, $addr)->code } 1 .. 4;
        is_deeply(\@codes, [200, 200, 200, 429], "mail-address: a $what address, 4 requests -> 200 x 3, 429");
        my $r = request_reset(ua_from(rand_addr()), $addr);
        my $ra = $r->header('Retry-After') // '';
        ok($r->code == 429 && $ra =~ /^\d+\z/ && $ra >= 1 && $ra <= 3600,
           "... from another client address too (429, Retry-After $ra)") or diag show($r);
        err_is(dec($r), 'TOO_MANY_REQUESTS', 'auth.requestPasswordReset', '... TOO_MANY_REQUESTS');
    }
    is(scalar outbox($known, 'reset-password'), 3, 'the refused requests queued nothing');
    my $from = ua_from(rand_addr());
    my @codes = map { request_reset($from, uniq_email('mail-rl-ip'))->code } 1 .. 6;
    is_deeply(\@codes, [200, 200, 200, 200, 200, 429], 'mail-ip: 6 addresses from one client -> 200 x 5, 429');
    my @keys = redis('KEYS', 'trpcauth-test:rl:mail-*');
    ok(@keys >= 3 && !grep({ /@|example/ } @keys), 'the counters are keyed by hashes, never the address')
        or diag "@keys";
    my ($rua) = login_ua('mail-rl-session');
    $rua->local_address(rand_addr());
    @codes = map { request_verification($rua)->code } 1 .. 4;
    is_deeply(\@codes, [200, 200, 200, 429], 'auth.requestEmailVerification: mail-address applies too');
}

# ---- no token in clear, anywhere -----------------------------------------------------------------------------------
{
    my @t = grep { defined && /$HEX64/ } @TOKENS;
    ok(@t >= 8, scalar(@t) . ' tokens seen in this test');
    my $list = join(',', map { q_($_) } @t);
    for my $table (qw(email_tokens mail_outbox auth_events users)) {
        is(sql1("select count(*) from $table x, unnest(array[$list]) tok where x::text like '%' || tok || '%'"), 0,
           "no token in clear in $table");
    }
    is(sql1("select count(*) from email_tokens where token_hash in (" . join(',', map { q_(sha256_hex($_)) } @t)
            . ')'), scalar @t, 'email_tokens holds their SHA-256 instead');
    my $scan = <<'LUA';
local hits, cur = {}, '0'
repeat
  local r = redis.call('SCAN', cur, 'COUNT', 1000)
  cur = r[1]
  for _, k in ipairs(r[2]) do
    local t, vals = redis.call('TYPE', k).ok, {}
    if t == 'string' then vals = {redis.call('GET', k)}
    elseif t == 'hash' then vals = redis.call('HGETALL', k)
    elseif t == 'zset' then vals = redis.call('ZRANGE', k, 0, -1)
    elseif t == 'set' then vals = redis.call('SMEMBERS', k)
    elseif t == 'list' then vals = redis.call('LRANGE', k, 0, -1) end
    table.insert(vals, k)
    for _, v in ipairs(vals) do
      for i = 1, #ARGV do
        if string.find(v, ARGV[i], 1, true) then table.insert(hits, k) end
      end
    end
  end
until cur == '0'
return hits
LUA
    my @hits = grep { length } redis('EVAL', $scan, 0, @t);
    is(scalar @hits, 0, 'no token in any Redis key or value') or diag "@hits";
    my $logs = error_log();
    for my $f (qw(access_log mail_timing_log)) {
        open my $fh, '<', Apache::Test::vars('t_logs') . "/$f" or next;
        local $/;
        $logs .= <$fh>;
    }
    is(scalar(grep { index($logs, $_) >= 0 } @t), 0, 'no token in the error or access logs');
}
