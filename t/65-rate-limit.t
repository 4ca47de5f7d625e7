# Rate limits of password checks (README "Abuse, bad input and failures"; issue 11), on <VirtualHost trpc_ratelimit>
# of t/conf/extra.conf.in: login-account-ip 5 15m, login-account 8 15m, password-session 3 15m, password-user 5 15m,
# and <VirtualHost trpc_ratelimit_ip>: login-ip 6 15m. Clients bind loopback source addresses (127.0.0.2, ...), so the
# server sees several client addresses.
#   - only failures count: successful logins and changes do not, nor the calls of a batch that the one-bcrypt gate
#     refuses;
#   - failures from one address never lock the owner out at another; past the per-account budget logins slow down
#     (a short Retry-After), they are not locked for the window; an address the account logged in from skips that;
#   - auth.changePassword: wrong currentPassword limited per session and per user;
#   - a stored hash of another cost than TrpcAuthBcryptCost is rehashed at the next successful login.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;
use TrpcSess;

plan tests => 50;

my ($PAIR, $ACCOUNT, $PW_SESSION, $PW_USER, $IP) = (5, 8, 3, 5, 6);
my ($r, $d, @codes);

# A client whose connections come from $addr (any 127.x.y.z is local on Linux loopback).
sub ua_from {
    my $ua = ua();
    $ua->local_address(shift);
    return $ua;
}

# A fresh random loopback address, so that reruns within a window never meet their own counters.
sub rand_addr { sprintf '127.%d.%d.%d', 1 + int(rand 254), int(rand 256), 1 + int(rand 254) }

sub retry_after_ok {
    my ($r, $max, $name) = @_;
    my $ra = $r->header('Retry-After') // '';
    ok($r->code == 429 && $ra =~ /^\d+\z/ && $ra >= 1 && $ra <= $max, "$name (429, Retry-After $ra <= $max)")
        or diag show($r);
    return $ra =~ /^\d+\z/ ? $ra : 0;
}

sub new_account {
    my ($tag, $pw) = @_;
    my $email = uniq_email($tag);
    my $r = register(ua(), $email, $pw);
    diag('register failed: ' . show($r)) unless $r->code == 200;
    return $email;
}

sub count_of { my ($code, @c) = @_; return scalar grep { $_ == $code } @c }

vhost('trpc_ratelimit');
my $pw = 'rate-limit-password';

# ---- failures from one address do not lock the owner out at another ---------------------------------------------
my $victim = new_account('rl-victim', $pw);
my $attacker = ua_from('127.0.0.2');
@codes = map { login($attacker, $victim, "wrong-password-$_")->code } 1 .. 50;
is_deeply([ @codes[0 .. $PAIR - 1] ], [ (401) x $PAIR ], "50 wrong passwords from 127.0.0.2: the first $PAIR -> 401");
is(count_of(429, @codes[$PAIR .. 49]), 50 - $PAIR, '... the ' . (50 - $PAIR) . ' others -> 429 (login-account-ip)')
    or diag "@codes";
$r = login($attacker, $victim, 'wrong-password-x');
err_is(dec($r), 'TOO_MANY_REQUESTS', 'auth.login', '... TOO_MANY_REQUESTS');
retry_after_ok($r, 900, '... with Retry-After up to the window');
$r = login($attacker, $victim, $pw);
ok($r->code == 429 && !defined set_cookie($r, 'accessToken'),
   'the right password from that address is refused too (checked before bcrypt)') or diag show($r);
$r = login(ua_from('127.0.0.1'), $victim, $pw);
ok($r->code == 200 && defined set_cookie($r, 'accessToken'), 'the owner logs in from 127.0.0.1 -> 200')
    or diag show($r);

# unknown emails are limited the same way (no hint whether the account exists)
my $ghost = uniq_email('rl-ghost');
my $ghost_ua = ua_from(rand_addr());
@codes = map { login($ghost_ua, $ghost, "pw-$_")->code } 1 .. $PAIR + 1;
is_deeply(\@codes, [ (401) x $PAIR, 429 ], "an unknown email: 401 x $PAIR, then 429");

# ---- one batch of 33 wrong logins locks nobody out ----------------------------------------------------------------
my $b = new_account('rl-batch', $pw);
my $batcher = ua_from('127.0.0.2');
$r = tpost($batcher, '/trpc-batch/' . join(',', ('auth.login') x 33) . '?batch=1',
           { map { ($_ => { email => $b, password => "wrong-$_" }) } 0 .. 32 });
is($r->code, 207, 'a batch of 33 wrong logins for one account -> 207') or diag show($r);
$d = dec($r);
my %seen;
$seen{ oget($_, qw(error data httpStatus)) // 'ok' }++ for (ref $d eq 'ARRAY' ? @$d : ());
is_deeply(\%seen, { 401 => 1, 429 => 32 }, '... one 401 (one bcrypt), 32 x 429 (one password check per request)')
    or diag show($r);
$r = login(ua(), $b, $pw);
is($r->code, 200, 'the owner logs in after the batch') or diag show($r);
@codes = map { login($batcher, $b, "wrong-again-$_")->code } 1 .. $PAIR;
is_deeply(\@codes, [ (401) x ($PAIR - 1), 429 ],
          'the batch counted once: the same address still has ' . ($PAIR - 1) . ' attempts');

# ---- successful logins do not count -------------------------------------------------------------------------------
my $ok = new_account('rl-success', $pw);
@codes = map { login(ua(), $ok, $pw)->code } 1 .. $ACCOUNT + 4;
is_deeply(\@codes, [ (200) x ($ACCOUNT + 4) ], ($ACCOUNT + 4) . ' successful logins -> 200 each');
@codes = map { login(ua(), $ok, "wrong-$_")->code } 1 .. $PAIR + 1;
is_deeply(\@codes, [ (401) x $PAIR, 429 ], "... and they used none of the failures: $PAIR x 401, then 429");

# ---- past the per-account budget, logins slow down ----------------------------------------------------------------
# $PAIR failures from one address and the rest of the account's budget from another: the account has had $ACCOUNT
# failures, so the next attempt, from any address, must wait a second (then 2, 4, ... at most 60 s).
my $slow = new_account('rl-slow', $pw);
my ($a1, $a2) = (ua_from('127.0.0.3'), ua_from('127.0.0.4'));
@codes = ((map { login($a1, $slow, "wrong-a-$_")->code } 1 .. $PAIR),
          (map { login($a2, $slow, "wrong-b-$_")->code } 1 .. $ACCOUNT - $PAIR));
is_deeply(\@codes, [ (401) x $ACCOUNT ], "$ACCOUNT failures of one account from two addresses -> 401 each");
$r = login(ua_from('127.0.0.5'), $slow, 'wrong-c');
err_is(dec($r), 'TOO_MANY_REQUESTS', 'auth.login', 'the next attempt, from a third address -> TOO_MANY_REQUESTS');
my $wait = retry_after_ok($r, 60, '... with a short Retry-After: a slow-down, not a lockout for the window');
sleep $wait if $wait && $wait <= 60;
$r = login(ua(), $slow, $pw);
ok($r->code == 200 && defined set_cookie($r, 'accessToken'), 'after that wait the owner logs in -> 200')
    or diag show($r);
$r = login(ua_from('127.0.0.5'), $slow, 'wrong-d');
retry_after_ok($r, 60, 'the next attempt waits again');

# an address from which the account logged in before does not wait
my $known = new_account('rl-known', $pw);
is(login(ua(), $known, $pw)->code, 200, 'the owner of another account logs in from 127.0.0.1');
($a1, $a2) = (ua_from('127.0.0.6'), ua_from('127.0.0.7'));
@codes = ((map { login($a1, $known, "wrong-a-$_")->code } 1 .. $PAIR),
          (map { login($a2, $known, "wrong-b-$_")->code } 1 .. $ACCOUNT - $PAIR));
is_deeply(\@codes, [ (401) x $ACCOUNT ], "... $ACCOUNT failures of that account from two other addresses");
is(login(ua_from('127.0.0.8'), $known, 'wrong-c')->code, 429, '... the next from a third address -> 429');
$r = login(ua(), $known, $pw);
is($r->code, 200, '... while the owner, from the address it logged in from, logs in at once') or diag show($r);

# ---- the per-address budget (login-ip 6 15m on trpc_ratelimit_ip) -------------------------------------------------
vhost('trpc_ratelimit_ip');
my $ip_owner = new_account('rl-ip', $pw);
my $addr = rand_addr();
my $from = ua_from($addr);
@codes = map { login($from, $ip_owner, $pw)->code } 1 .. $IP + 2;
is_deeply(\@codes, [ (200) x ($IP + 2) ], ($IP + 2) . " successful logins from $addr -> 200 each (not counted)");
@codes = map { login($from, uniq_email("rl-ip-$_"), 'wrong-password')->code } 1 .. $IP + 1;
is_deeply(\@codes, [ (401) x $IP, 429 ], "failures for $IP different emails -> 401 each, then 429 (login-ip)");
$r = login($from, $ip_owner, $pw);
retry_after_ok($r, 900, '... and the address is refused for any account, even with the right password');
is(login(ua_from(rand_addr()), $ip_owner, $pw)->code, 200, 'another address is not affected');

# ---- auth.changePassword: wrong currentPassword per session and per user -------------------------------------------
vhost('trpc_ratelimit');
sub change {
    my ($ua, $current, $new) = @_;
    return tpost($ua, '/trpc/auth.changePassword', { currentPassword => $current, newPassword => $new });
}
my ($s1, $pe, $ppw) = login_ua('rl-pw');
@codes = map { change($s1, "wrong-current-$_", 'new-password-1')->code } 1 .. $PW_SESSION;
is_deeply(\@codes, [ (400) x $PW_SESSION ], "$PW_SESSION wrong currentPassword in one session -> 400 each");
$r = change($s1, 'wrong-current-x', 'new-password-1');
err_is(dec($r), 'TOO_MANY_REQUESTS', 'auth.changePassword', 'the next one -> TOO_MANY_REQUESTS (password-session)');
retry_after_ok($r, 900, '... with Retry-After');
$r = change($s1, $ppw, 'new-password-1');
is($r->code, 429, '... and the right one is refused too in that session (checked before bcrypt)') or diag show($r);
my $s2 = ua();
is(login($s2, $pe, $ppw)->code, 200, 'a second session of the same user (the password is unchanged)');
@codes = map { change($s2, "wrong-current-2-$_", 'new-password-1')->code } 1 .. $PW_USER - $PW_SESSION + 1;
is_deeply(\@codes, [ (400) x ($PW_USER - $PW_SESSION), 429 ],
          'in it: ' . ($PW_USER - $PW_SESSION) . ' x 400, then 429 (password-user: ' . $PW_USER . ' for the user)');

my ($s3, undef, $qpw) = login_ua('rl-pw-ok');
@codes = map { change($s3, "wrong-current-$_", 'new-password-1')->code } 1 .. $PW_SESSION - 1;
is_deeply(\@codes, [ (400) x ($PW_SESSION - 1) ], ($PW_SESSION - 1) . ' wrong currentPassword -> 400');
is(change($s3, $qpw, 'new-password-0')->code, 200, '... then the right one within the budget -> 200');
my @pws = ('new-password-0', map { "new-password-$_" } 1 .. $PW_USER + 1);
@codes = map { change($s3, $pws[$_ - 1], $pws[$_])->code } 1 .. $PW_USER + 1;
is_deeply(\@codes, [ (200) x ($PW_USER + 1) ], ($PW_USER + 1) . ' more successful changes -> 200 each (not counted)');
is_deeply([ map { change($s3, "wrong-current-again-$_", 'new-password-x')->code } 1 .. 2 ], [ 400, 429 ],
          '... the session still had exactly one failure left');

# ---- a stored hash of another cost is rehashed at login (TrpcAuthBcryptCost 4) ------------------------------------
sub htpasswd_hash {
    my ($cost, $password) = @_;
    open my $fh, '-|', 'htpasswd', '-nbBC', $cost, 'x', $password or die "htpasswd: $!";
    my $line = <$fh>;
    close $fh;
    chomp $line;
    $line =~ s/^x://;
    return $line;
}
sub stored_hash { my ($email) = @_; my ($h) = psql("SELECT password FROM users WHERE email = '$email'"); $h // '' }

my $re = new_account('rl-rehash', $pw);
my $h5 = htpasswd_hash(5, $pw);
like($h5, qr/^\$2y\$05\$/, 'a cost-5 hash made by htpasswd');
psql("UPDATE users SET password = '$h5' WHERE email = '$re'");
is(stored_hash($re), $h5, '... stored for a user (as an import would)');
is(login(ua(), $re, $pw)->code, 200, 'the user logs in with it');
my $h = stored_hash($re);
like($h, qr/^\$2b\$04\$/, '... and the stored hash now has the configured cost 4');
isnt($h, $h5, '... (a new hash)');
is_deeply([ login(ua(), $re, $pw)->code, login(ua(), $re, 'not-the-password')->code ], [ 200, 401 ],
          'the password still works, a wrong one still does not');
my $h4 = htpasswd_hash(4, $pw);
psql("UPDATE users SET password = '$h4' WHERE email = '$re'");
is(login(ua(), $re, $pw)->code, 200, 'a $2y$ hash of the configured cost logs in');
is(stored_hash($re), $h4, '... and is left as it is (only the cost matters)');
my $wrong5 = htpasswd_hash(5, 'another-password');
psql("UPDATE users SET password = '$wrong5' WHERE email = '$re'");
is(login(ua(), $re, $pw)->code, 401, 'a failed login with a cost-5 hash -> 401');
is(stored_hash($re), $wrong5, '... rehashes nothing');

# ---- keys: hash-tagged, prefixed, no email or address in clear, every one with a TTL -----------------------------
my @keys = redis('--scan', '--pattern', 'trpcauth-test:rl:*');
ok(scalar(grep { /^trpcauth-test:rl:\{a:[0-9a-f]{32}\}:(login|login-ip:[0-9a-f]{32}|known:[0-9a-f]{32})\z/ } @keys),
   'login counters are trpcauth-test:rl:{a:<hash>}:...');
ok(scalar(grep { /^trpcauth-test:rl:\{u:\d+\}:password(-session:[0-9a-f]{32})?\z/ } @keys),
   'changePassword counters are trpcauth-test:rl:{u:<id>}:password...');
ok(!grep({ /example\.com|127\.0\.0/ } @keys), 'no email and no address in clear in any key');
my @no_ttl = grep { (redis('PTTL', $_))[0] == -1 } grep { /\{(a|u|ip):/ } @keys;
ok(!@no_ttl, 'every counter has a TTL') or diag "@no_ttl";
