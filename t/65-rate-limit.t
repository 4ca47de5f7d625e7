# Login attempts are rate-limited per account in Redis (CONTRACT §3, §6; TrpcAuthRateLimit login-account 8 15m in
# t/conf/extra.conf.in): TOO_MANY_REQUESTS with Retry-After, counted per call so a batch cannot multiply attempts,
# the same for unknown emails, and other accounts unaffected.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 12;

my $LIMIT = 8;
my ($r, $d);
my $ua = ua();

my $email = uniq_email('rl');
$r = register($ua, $email, 'rate-limit-password');
is($r->code, 200, 'register') or diag show($r);

my @codes = map { login($ua, $email, "wrong-password-$_")->code } 1 .. $LIMIT;
is_deeply(\@codes, [ (401) x $LIMIT ], "$LIMIT wrong passwords -> 401 each");

$r = login($ua, $email, 'wrong-password-x');
is($r->code, 429, 'attempt ' . ($LIMIT + 1) . ' -> 429') or diag show($r);
err_is(dec($r), 'TOO_MANY_REQUESTS', 'auth.login', '... TOO_MANY_REQUESTS');
my $ra = $r->header('Retry-After') // '';
ok($ra =~ /^\d+\z/ && $ra >= 1 && $ra <= 900, "... with Retry-After in seconds ($ra)");

$r = login($ua, $email, 'rate-limit-password');
ok($r->code == 429 && !defined set_cookie($r, 'accessToken'), 'the right password is refused too while limited')
    or diag show($r);

$r = login(ua(), uniq_email('rl-unknown'), 'whatever-password');
is($r->code, 401, 'another account is not affected') or diag show($r);

my $other = uniq_email('rl-ok');
register($ua, $other, 'rate-limit-password');
$r = login(ua(), $other, 'rate-limit-password');
is($r->code, 200, 'another existing account logs in') or diag show($r);

# a batch of 10 attempts on one account counts as 10, and only its first call reaches bcrypt: the others are
# TOO_MANY_REQUESTS (one password check per request), so a batch can neither multiply attempts nor CPU
my $b = uniq_email('rl-batch');
register($ua, $b, 'rate-limit-password');
my $n = $LIMIT + 2;
$r = tpost(ua(), '/trpc/' . join(',', ('auth.login') x $n) . '?batch=1',
           { map { ($_ => { email => $b, password => "wrong-$_" }) } 0 .. $n - 1 });
is($r->code, 207, "batch of $n wrong logins for one account -> 207") or diag show($r);
$d = dec($r);
my %seen;
$seen{ oget($_, qw(error data httpStatus)) // 'ok' }++ for (ref $d eq 'ARRAY' ? @$d : ());
is_deeply(\%seen, { 401 => 1, 429 => $n - 1 }, "... one 401 (one bcrypt), then " . ($n - 1) . " x 429")
    or diag show($r);

# unknown emails are limited the same way (no hint whether the account exists)
my $ghost = uniq_email('rl-ghost');
@codes = map { login(ua(), $ghost, "pw-$_")->code } 1 .. $LIMIT + 1;
is_deeply(\@codes, [ (401) x $LIMIT, 429 ], 'an unknown email: 401 x 8, then 429');

$r = login(ua(), $b, 'rate-limit-password');
is($r->code, 429, 'the batch used up the account\'s attempts') or diag show($r);
