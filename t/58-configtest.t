# Weak or missing keys stop Apache before it serves (CONTRACT §4, §9, issue #3): `apache2 -t` with a 10-byte
# HS256 secret fails with a message that names TrpcAuthAccessKey; the same configuration with a 48-byte secret
# passes. Runs the configured httpd binary on small configuration files of its own.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use TrpcT;

plan tests => 17;

my $httpd = Apache::Test::vars('httpd');
my $top = Apache::Test::vars('top_dir');
my $dir = tempdir(CLEANUP => 1);

sub spit { my ($f, $d) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $d; close $fh }

# (exit status, output) of `httpd -t` on a configuration with the given access-key line.
sub configtest {
    my $key_line = shift;
    my $conf = "$dir/httpd.conf";
    spit($conf, <<"CONF");
ServerRoot "$dir"
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule trpcauth_module "$top/.libs/mod_trpcauth.so"
Listen 127.0.0.1:1
ErrorLog "$dir/error_log"
PidFile "$dir/httpd.pid"
$key_line
TrpcAuthRefreshKey HS256 file:$dir/good.key
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
               qr/TrpcAuthRateLimit: unknown scope 'login-email' \(login-account, login-account-ip, login-ip, register-ip, refresh-session, password-user, password-session\)/],
              ['TrpcAuthAccessTokenTTL 15x', qr/TrpcAuthAccessTokenTTL: '15x' is not a lifetime/],
              ['TrpcAuthCORSOrigin *', qr/TrpcAuthCORSOrigin: '\*' is not allowed/],
              ['TrpcAuthSessionCache 1x', qr/TrpcAuthSessionCache: '1x' is not a duration/],
              ['TrpcAuthTokenCache -1', qr/TrpcAuthTokenCache: '-1' must be a number of entries/],
              ['TrpcAuthTokenCache 2000000', qr/TrpcAuthTokenCache: '2000000' must be a number of entries/]) {
    ($rc, $out) = configtest("TrpcAuthAccessKey HS256 file:$dir/good.key\n$case->[0]");
    ok($rc != 0 && $out =~ $case->[1], "configtest refuses '$case->[0]', naming the directive") or diag $out;
}

# Every scope of TrpcAuthRateLimit is accepted (README's rate-limit table).
($rc, $out) = configtest(join("\n", "TrpcAuthAccessKey HS256 file:$dir/good.key",
                              map { "TrpcAuthRateLimit $_ 3 10m" }
                              qw(login-account login-account-ip login-ip register-ip refresh-session
                                 password-user password-session)));
is($rc, 0, 'configtest accepts every rate-limit scope') or diag $out;
