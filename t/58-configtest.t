# Weak or missing keys stop Apache before it serves (CONTRACT §4, §9, issue #3): `apache2 -t` with a 10-byte
# HS256 secret fails with a message that names TrpcAuthAccessKey; the same configuration with a 48-byte secret
# passes. Runs the configured httpd binary on small configuration files of its own.
# Issue #11: PEM text as an HS256 secret, a public key as the signing (first) key, lifetimes that do not fit int
# seconds, a clock skew or reuse grace above 5m, Redis URLs (bad ones refused without showing the password, IPv6
# and ACL users accepted), __Host-/__Secure- cookie names that browsers would drop, and missing keys all fail
# `apache2 -t`, each with a message that names the directive.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use TrpcT;

my $MODDIR = moddir();

plan tests => 59;

my $httpd = Apache::Test::vars('httpd');
my $top = Apache::Test::vars('top_dir');
my $dir = tempdir(CLEANUP => 1);

sub spit { my ($f, $d) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $d; close $fh }

# (exit status, output) of `httpd -t` on a configuration with the given access-key line (and lines after it), and
# the given refresh-key line (default: a good HS256 secret).
sub configtest {
    my ($key_line, $refresh_line) = @_;
    $refresh_line //= "TrpcAuthRefreshKey HS256 file:$dir/good.key";
    my $conf = "$dir/httpd.conf";
    spit($conf, <<"CONF");
ServerRoot "$dir"
LoadModule mpm_prefork_module $MODDIR/mod_mpm_prefork.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule dbd_module $MODDIR/mod_dbd.so
LoadModule trpcauth_module "$top/.libs/mod_trpcauth.so"
Listen 127.0.0.1:1
ErrorLog "$dir/error_log"
PidFile "$dir/httpd.pid"
$key_line
$refresh_line
CONF
    my $out = qx{'$httpd' -t -f '$conf' 2>&1};
    return ($? >> 8, $out);
}

spit("$dir/weak.key", "0123456789\n");
spit("$dir/good.key", ('k' x 48) . "\n");

my ($rc, $out) = configtest("TrpcAuthAccessKey HS256 file:$dir/weak.key");
isnt($rc, 0, 'configtest with a 10-byte HS256 secret fails') or diag $out;
like($out, qr/TrpcAuthAccessKey/, '... with a message naming TrpcAuthAccessKey') or diag $out;
like($out, qr/10 bytes.*at least 32/, '... and saying why (10 bytes, at least 32)') or diag $out;
unlike($out, qr/0123456789/, '... without printing the secret') or diag $out;

($rc, $out) = configtest("TrpcAuthAccessKey HS256 file:$dir/missing.key");
ok($rc != 0 && $out =~ /TrpcAuthAccessKey.*missing\.key/, 'a missing key file fails too, naming directive and file')
    or diag $out;

($rc, $out) = configtest("TrpcAuthAccessKey HS256 file:$dir/good.key");
is($rc, 0, 'the same configuration with a 48-byte secret passes') or diag $out;
like($out, qr/Syntax OK/, '... Syntax OK') or diag $out;

# Wrong values of other directives fail configtest too, each with a message that names the directive.
for my $case (['TrpcAuthMaxBatchSize 12x', qr/TrpcAuthMaxBatchSize: '12x' must be a number/],
              ['TrpcAuthBcryptCost 99999999999999999999', qr/TrpcAuthBcryptCost: .* must be a bcrypt cost/],
              ['TrpcAuthRateLimit login-ip 0 1m', qr/TrpcAuthRateLimit: '0' must be a count/],
              ['TrpcAuthRateLimit login-email 5 1m',
               qr/TrpcAuthRateLimit: unknown scope 'login-email' \(login-account, login-account-ip, login-ip, register-ip, refresh-session, password-user, password-session, mail-address, mail-ip\)/],
              ['TrpcAuthAccessTokenTTL 15x', qr/TrpcAuthAccessTokenTTL: '15x' is not a lifetime/],
              ['TrpcAuthCORSOrigin *', qr/TrpcAuthCORSOrigin: '\*' is not allowed/],
              ['TrpcAuthSessionCache 1x', qr/TrpcAuthSessionCache: '1x' is not a duration/],
              ['TrpcAuthTokenCache -1', qr/TrpcAuthTokenCache: '-1' must be a number of entries/],
              ['TrpcAuthTokenCache 2000000', qr/TrpcAuthTokenCache: '2000000' must be a number of entries/],
              # issue 14: mail links
              ['TrpcAuthPublicURL ftp://app.example.com', qr{TrpcAuthPublicURL: 'ftp://app.example.com' must start with http:// or https://}],
              ['TrpcAuthPublicURL https://app.example.com/?x#y', qr/TrpcAuthPublicURL: .* without query, fragment/],
              ['TrpcAuthMailPage reset /x', qr/TrpcAuthMailPage: unknown kind 'reset' \(verify-email, reset-password\)/],
              ['TrpcAuthMailPage verify-email //evil.example', qr/TrpcAuthMailPage: '\/\/evil.example' must be a path/],
              ['TrpcAuthVerifyEmailTTL 0', qr/TrpcAuthVerifyEmailTTL: '0' is not a lifetime/]) {
    ($rc, $out) = configtest("TrpcAuthAccessKey HS256 file:$dir/good.key\n$case->[0]");
    ok($rc != 0 && $out =~ $case->[1], "configtest refuses '$case->[0]', naming the directive") or diag $out;
}
# TrpcAuthSessionCache is on by default (issue 15); Off and 0 turn it off.
for my $v ('Off', 'off', '0', '30s') {
    ($rc, $out) = configtest("TrpcAuthAccessKey HS256 file:$dir/good.key\nTrpcAuthSessionCache $v");
    is($rc, 0, "configtest accepts 'TrpcAuthSessionCache $v'") or diag $out;
}

# ---- issue #11 ------------------------------------------------------------------------------------------------------

my $keys = Apache::Test::vars('trpc_keys');
my $good = "TrpcAuthAccessKey HS256 file:$dir/good.key";

# Keys: PEM text is not an HS256 secret (a public key there would let anyone sign); the first key of a set signs.
($rc, $out) = configtest("TrpcAuthAccessKey HS256 file:$keys/es256-a.pub.pem");
ok($rc != 0 && $out =~ /TrpcAuthAccessKey: HS256 secret from \S+es256-a\.pub\.pem is PEM text/,
   'a public key PEM as HS256 secret is refused, naming the directive') or diag $out;
unlike($out, qr/BEGIN|MFkw/, '... without printing the key') or diag $out;
($rc, $out) = configtest("TrpcAuthAccessKey HS256 file:$keys/rs256-a.pem");
ok($rc != 0 && $out =~ /TrpcAuthAccessKey: .*PEM text/, 'a private key PEM as HS256 secret too') or diag $out;
($rc, $out) = configtest("TrpcAuthAccessKey ES256 file:$keys/es256-a.pub.pem");
ok($rc != 0 && $out =~ /TrpcAuthAccessKey: \S+es256-a\.pub\.pem is a public key, but the first key of a set signs/,
   'a public key as the first (signing) access key fails configtest, naming the directive') or diag $out;
($rc, $out) = configtest($good, "TrpcAuthRefreshKey EdDSA file:$keys/eddsa-r.pub.pem");
ok($rc != 0 && $out =~ /TrpcAuthRefreshKey: .*is a public key, but the first key of a set signs/,
   '... and as the first refresh key') or diag $out;
($rc, $out) = configtest("TrpcAuthAccessKey ES256 file:$keys/es256-a.pem new\n"
                         . "TrpcAuthAccessKey ES256 file:$keys/es256-r.pub.pem old");
is($rc, 0, 'a public key after a private one (verify only) passes') or diag $out;

# Keys missing altogether where the module is used: configtest says so (it used to say Syntax OK and the start
# failed). Loaded and used nowhere, it is inert (t/05-lifecycle.t).
($rc, $out) = configtest("<Location /trpc>\n    SetHandler trpcauth\n</Location>", '');
ok($rc != 0 && $out =~ /TrpcAuthAccessKey is required/, 'no keys at all: configtest fails, naming TrpcAuthAccessKey')
    or diag $out;

# Lifetimes travel as int seconds: more than 2147483647 s is refused; tolerances are at most 5m.
for my $case (['TrpcAuthAccessTokenTTL 24856d', qr/TrpcAuthAccessTokenTTL: '24856d' is not a lifetime from 1s to 2147483647s/],
              ['TrpcAuthRefreshTokenTTL 2147483648', qr/TrpcAuthRefreshTokenTTL: '2147483648' is not a lifetime/],
              ['TrpcAuthRefreshTokenTTL 999999999999d', qr/TrpcAuthRefreshTokenTTL: .* is not a lifetime/],
              ['TrpcAuthClockSkew 6m', qr/TrpcAuthClockSkew: '6m' is not a duration from 0 to 5m/],
              ['TrpcAuthClockSkew 301', qr/TrpcAuthClockSkew: '301' is not a duration from 0 to 5m/],
              ['TrpcAuthRefreshReuseGrace 1h', qr/TrpcAuthRefreshReuseGrace: '1h' is not a duration from 0 to 5m/]) {
    ($rc, $out) = configtest("$good\n$case->[0]");
    ok($rc != 0 && $out =~ $case->[1], "configtest refuses '$case->[0]', naming the directive") or diag $out;
}
($rc, $out) = configtest("$good\nTrpcAuthRefreshTokenTTL 2147483647\nTrpcAuthAccessTokenTTL 24855d\n"
                         . "TrpcAuthClockSkew 5m\nTrpcAuthRefreshReuseGrace 300s");
is($rc, 0, 'the largest values allowed pass (2147483647 s, 24855d, 5m, 300s)') or diag $out;

# Redis URLs: a bad one is refused without showing its password; IPv6 literals and ACL users are accepted.
for my $case (['redis://app:Secret61@127.0.0.1:99999/0', qr{TrpcAuthRedis: 'redis://app:\*\*\*\@127\.0\.0\.1:99999/0' has a bad port}],
              ['redis://:Secret61@127.0.0.1/x', qr{TrpcAuthRedis: 'redis://:\*\*\*\@127\.0\.0\.1/x' has a bad database number}],
              ['redis://Secret61@127.0.0.1', qr{TrpcAuthRedis: 'redis://\*\*\*\@127\.0\.0\.1' names a user without a password}],
              ['redis://:Secret61', qr{TrpcAuthRedis: 'redis://:\*\*\*' is not a valid URL}],
              ['rediss://:Secret61@127.0.0.1', qr{TrpcAuthRedis: 'rediss://:\*\*\*\@127\.0\.0\.1' is not a redis:// or unix:// URL}]) {
    ($rc, $out) = configtest("$good\nTrpcAuthRedis $case->[0]");
    ok($rc != 0 && $out =~ $case->[1], "configtest refuses TrpcAuthRedis $case->[0] with a redacted message")
        or diag $out;
    unlike($out, qr/Secret61/, '... that does not show the password') or diag $out;
}
for my $url ('redis://[::1]:6379/1', 'redis://app:pw%40x@[::1]/2', 'redis://app:pw@127.0.0.1:6380/0',
             'unix://:pw@/run/redis.sock?db=3') {
    ($rc, $out) = configtest("$good\nTrpcAuthRedis $url");
    is($rc, 0, "TrpcAuthRedis $url passes") or diag $out;
}

# Cookie prefixes: browsers drop a __Host- cookie with a Domain or without Secure, a __Secure- one without Secure.
($rc, $out) = configtest("$good\nTrpcAuthCookieNames __Host-at __Host-rt li\nTrpcAuthCookieDomain example.test");
ok($rc != 0 && $out =~ /TrpcAuthCookieNames: cookie __Host-at may not have a Domain.*TrpcAuthCookieDomain/,
   '__Host- cookie names with TrpcAuthCookieDomain fail configtest') or diag $out;
($rc, $out) = configtest("$good\nTrpcAuthCookieDomain example.test\n<VirtualHost 127.0.0.1:1>\n"
                         . "TrpcAuthCookieNames at __Host-rt li\n</VirtualHost>");
ok($rc != 0 && $out =~ /cookie __Host-rt may not have a Domain/,
   '... also when the Domain is inherited from the main server') or diag $out;
($rc, $out) = configtest("$good\nTrpcAuthCookieNames __Host-at rt li\nTrpcAuthCookieSecure Off");
ok($rc != 0 && $out =~ /cookie __Host-at needs TrpcAuthCookieSecure On/, '__Host- without Secure fails') or diag $out;
($rc, $out) = configtest("$good\nTrpcAuthCookieNames at rt __Secure-li\nTrpcAuthCookieSecure Off");
ok($rc != 0 && $out =~ /cookie __Secure-li needs TrpcAuthCookieSecure On/, '__Secure- without Secure fails')
    or diag $out;
($rc, $out) = configtest("$good\nTrpcAuthCookieNames __Host-at __Host-rt __Host-li");
is($rc, 0, '__Host- names with Secure (the default) and no Domain pass') or diag $out;

# Every scope of TrpcAuthRateLimit is accepted (README's rate-limit table).
($rc, $out) = configtest(join("\n", "TrpcAuthAccessKey HS256 file:$dir/good.key",
                              map { "TrpcAuthRateLimit $_ 3 10m" }
                              qw(login-account login-account-ip login-ip register-ip refresh-session
                                 password-user password-session)));
is($rc, 0, 'configtest accepts every rate-limit scope') or diag $out;
