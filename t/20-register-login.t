# auth.register and auth.login (CONTRACT §3, §4): output shapes without secrets, email normalisation, duplicates,
# password length in bytes, field errors, identical answers for unknown email and wrong password, and the three
# cookies with their attributes and the access JWT's header and claims.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 65;

my $ua = ua();
my ($r, $d);

# ---- register: success ----------------------------------------------------------------------------------------------

my $email = uniq_email('reg');
my $pw = 'correct horse battery';
$r = register($ua, $email, $pw);
is($r->code, 200, 'auth.register -> 200') or diag show($r);
$d = dec($r);
is_deeply([ sort keys %{ oget($d, 'result', 'data') || {} } ], [qw(success user)], 'data = {success, user}');
is(oget($d, qw(result data success)), true, 'success: true');
is(ref oget($d, qw(result data user)), 'ARRAY', 'user is an array (as the tutorial)');
is(scalar @{ oget($d, qw(result data user)) || [] }, 1, '... of one row');
my $u = oget($d, qw(result data user 0)) || {};
is_deeply([ sort keys %$u ], [qw(createdAt email emailVerified id updatedAt)],
          'user row keys: id, email, emailVerified, createdAt, updatedAt (no password)');
like($u->{id} // '', qr/^[1-9]\d*\z/, 'id is a positive integer');
ok(defined $u->{id} && !ref $u->{id} && J()->encode([$u->{id}]) =~ /^\[\d+\]\z/, 'id is a JSON number');
is($u->{email}, $email, 'email');
is($u->{emailVerified}, false, 'emailVerified: false');
like($u->{createdAt} // '', ISO_RE, 'createdAt is an ISO-8601 UTC string with milliseconds');
like($u->{updatedAt} // '', ISO_RE, 'updatedAt likewise');
unlike($r->content, qr/password|\$2[abyx]\$/i, 'no password or bcrypt hash anywhere in the answer');
ok(!defined set_cookie($r, 'accessToken'), 'register does not log in (no cookie)');
my $uid = $u->{id};

# ---- register: normalisation and duplicates ---------------------------------------------------------------------------

my $mixed = uniq_email('MiXeD');
$mixed =~ s/\@example\.com\z/\@Example.COM/;
$r = register($ua, "  $mixed\t ", 'another-password');
is($r->code, 200, 'register with spaces and capitals') or diag show($r);
is(oget(dec($r), qw(result data user 0 email)), lc $mixed, 'email stored trimmed and lower-cased');

$r = register($ua, $email, 'yet-another-password');
is($r->code, 409, 'duplicate email -> 409') or diag show($r);
err_is(dec($r), 'CONFLICT', 'auth.register', '... CONFLICT');

$r = register($ua, uc $email, 'yet-another-password');
is($r->code, 409, 'duplicate differing only in case -> 409') or diag show($r);

$r = register($ua, " $mixed ", 'yet-another-password');
is($r->code, 409, 'duplicate of a normalised email given in its original spelling -> 409') or diag show($r);

# ---- register: passwords (8..72 bytes) --------------------------------------------------------------------------------

$r = register($ua, uniq_email('pw7'), '1234567');
is($r->code, 400, 'password of 7 bytes -> 400') or diag show($r);
$d = dec($r);
err_is($d, 'BAD_REQUEST', 'auth.register', '... BAD_REQUEST');
ok(ref oget($d, qw(error data zodError fieldErrors password)) eq 'ARRAY'
   && @{ oget($d, qw(error data zodError fieldErrors password)) }, '... zodError.fieldErrors.password') or diag show($r);
ok(!defined oget($d, qw(error data zodError fieldErrors email)), '... and nothing on email');

$r = register($ua, uniq_email('pw8'), '12345678');
is($r->code, 200, 'password of 8 bytes -> 200') or diag show($r);

my $e72 = uniq_email('pw72');
$r = register($ua, $e72, 'p' x 72);
is($r->code, 200, 'password of 72 bytes -> 200') or diag show($r);

$r = register($ua, uniq_email('pw73'), 'p' x 73);
is($r->code, 400, 'password of 73 bytes -> 400') or diag show($r);
ok(ref oget(dec($r), qw(error data zodError fieldErrors password)) eq 'ARRAY', '... fieldErrors.password');

# 37 x U+00E9 is 37 characters but 74 bytes: bcrypt's limit is in bytes
$r = tpost($ua, '/trpc/auth.register', \('{"email":"' . uniq_email('pwutf8') . '","password":"' . ("\xc3\xa9" x 37) . '"}'));
is($r->code, 400, 'password of 37 two-byte characters (74 bytes) -> 400') or diag show($r);
$r = tpost($ua, '/trpc/auth.register', \('{"email":"' . uniq_email('pwutf8') . '","password":"' . ("\xc3\xa9" x 36) . '"}'));
is($r->code, 200, 'password of 36 two-byte characters (72 bytes) -> 200') or diag show($r);

# ---- register: missing, wrong-typed and invalid fields -----------------------------------------------------------------

$r = tpost($ua, '/trpc/auth.register', {});
is($r->code, 400, 'register {} -> 400') or diag show($r);
$d = dec($r);
ok(ref oget($d, qw(error data zodError fieldErrors email)) eq 'ARRAY', '... fieldErrors.email (missing)');
ok(ref oget($d, qw(error data zodError fieldErrors password)) eq 'ARRAY', '... fieldErrors.password (missing)');

$r = tpost($ua, '/trpc/auth.register', { email => 5, password => true });
is($r->code, 400, 'register with wrong types -> 400') or diag show($r);
$d = dec($r);
ok(ref oget($d, qw(error data zodError fieldErrors email)) eq 'ARRAY', '... fieldErrors.email (number)');
ok(ref oget($d, qw(error data zodError fieldErrors password)) eq 'ARRAY', '... fieldErrors.password (boolean)');

$r = tpost($ua, '/trpc/auth.register', { email => undef, password => 'long-enough-password' });
ok($r->code == 400 && ref oget(dec($r), qw(error data zodError fieldErrors email)) eq 'ARRAY',
   'email null -> 400 with fieldErrors.email') or diag show($r);

$r = tpost($ua, '/trpc/auth.register', undef);
is($r->code, 400, 'register without input (empty body) -> 400') or diag show($r);
err_is(dec($r), 'BAD_REQUEST', 'auth.register', '... BAD_REQUEST');

$r = tpost($ua, '/trpc/auth.register', [ $email, $pw ]);
is($r->code, 400, 'register with an array as input -> 400') or diag show($r);

for my $bad ('not-an-email', 'a@', '@example.com', 'a b@example.com') {
    $r = register($ua, $bad, 'long-enough-password');
    ok($r->code == 400 && ref oget(dec($r), qw(error data zodError fieldErrors email)) eq 'ARRAY',
       "invalid email '$bad' -> 400 with fieldErrors.email") or diag show($r);
}

# ---- login: failures -------------------------------------------------------------------------------------------------

my $lua = ua();
$r = login($lua, uniq_email('nobody'), $pw);
is($r->code, 401, 'login with an unknown email -> 401') or diag show($r);
my $unknown = dec($r);
err_is($unknown, 'UNAUTHORIZED', 'auth.login', '... UNAUTHORIZED', 'Invalid email or password');

$r = login($lua, $email, 'wrong password!');
is($r->code, 401, 'login with a wrong password -> 401') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', 'auth.login', '... the same error', 'Invalid email or password');
is_deeply(dec($r), $unknown, 'unknown email and wrong password get identical answers');
ok(!grep({ /^(accessToken|refreshToken|logged_in)=[^;]/ } $r->header('Set-Cookie')), 'no cookies on failure');

$r = login($lua, $email, '');
ok($r->code == 400 || $r->code == 401, 'login with an empty password -> 400 or 401') or diag show($r);

# ---- login: success, cookies, JWT -------------------------------------------------------------------------------------

$r = login($lua, "  \U$email\E ", $pw);
is($r->code, 200, 'login (email matched trimmed and case-insensitively) -> 200') or diag show($r);
is_deeply(dec($r), { result => { data => { success => true } } }, 'output {"success":true}');
unlike($r->content, qr/eyJ/, 'no token in the body');

my %c = map { $_ => cookie_attrs(set_cookie($r, $_)) } qw(accessToken refreshToken logged_in);
my @names = sort grep { defined set_cookie($r, $_) } qw(accessToken refreshToken logged_in);
is_deeply(\@names, [qw(accessToken logged_in refreshToken)], 'three Set-Cookie headers') or diag show($r);

my $ac = $c{accessToken};
is_deeply([ @{$ac}{qw(path max-age httponly samesite)} ], ['/', 900, 1, 'Strict'],
          'accessToken: Path=/; Max-Age=900; HttpOnly; SameSite=Strict') or diag set_cookie($r, 'accessToken');
my $rt = $c{refreshToken};
is_deeply([ @{$rt}{qw(path max-age httponly samesite)} ], ['/', 604800, 1, 'Strict'],
          'refreshToken: Path=/; Max-Age=604800; HttpOnly; SameSite=Strict') or diag set_cookie($r, 'refreshToken');
my $li = $c{logged_in};
is_deeply([ @{$li}{qw(value path max-age samesite)} ], ['true', '/', 900, 'Strict'],
          'logged_in=true; Path=/; Max-Age=900; SameSite=Strict') or diag set_cookie($r, 'logged_in');
ok(!grep({ exists $c{$_}{secure} } keys %c), 'no Secure attribute (TrpcAuthCookieSecure Off)');

my ($h, $p) = jwt_decode($ac->{value});
is_deeply($h && { alg => $h->{alg}, typ => $h->{typ} }, { alg => 'HS256', typ => 'at+jwt' },
          'access token header: alg HS256, typ at+jwt');
ok(ref $p eq 'HASH' && defined $p->{sub} && !ref $p->{sub} && J()->encode([$p->{sub}]) =~ /^\["\d+"\]\z/
   && $p->{sub} eq "$uid", 'claim sub is the user id as a string') or diag explain $p;
ok(ref $p eq 'HASH' && defined $p->{sid} && !ref $p->{sid} && length $p->{sid} >= 16, 'claim sid is a string');
ok(ref $p eq 'HASH' && ($p->{iat} // '') =~ /^\d+\z/ && abs($p->{iat} - time) < 120, 'claim iat is now');
ok(ref $p eq 'HASH' && ($p->{exp} // '') =~ /^\d+\z/ && ($p->{iat} // 0) && $p->{exp} - $p->{iat} == 900,
   'claim exp = iat + 900');

my ($rh, $rp) = jwt_decode($rt->{value});
ok(ref $rh eq 'HASH' && $rh->{alg} eq 'HS256' && defined $rh->{typ} && $rh->{typ} ne 'at+jwt'
   && ref $rp eq 'HASH' && $rp->{sid} eq ($p->{sid} // '') && length($rp->{jti} // '') >= 16,
   'refresh token: own typ, same sid, a jti') or diag explain [$rh, $rp];
