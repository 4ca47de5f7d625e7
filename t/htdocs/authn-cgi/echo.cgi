#!/usr/bin/perl
# echo.cgi - test helper of t/70-authn.t: what a backend behind AuthType trpcauth sees (REMOTE_USER, AUTH_TYPE,
# the TRPCAUTH_* environment, the request headers as HTTP_*), as one JSON object. Cookies are left out.
# It answers loopback clients only (the test server listens on every interface); t/conf/extra.conf.in also limits
# its directory to `Require local` and maps it with ScriptAliasMatch under /authn/<case>/env.
use strict;
use warnings;
use JSON::PP ();

my $addr = $ENV{REMOTE_ADDR} // '';
if ($addr !~ /^(?:127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)\z/) {
    print "Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nlocal clients only\n";
    exit 0;
}
my %seen = map { $_ => $ENV{$_} }
           grep { /^(?:REMOTE_USER|AUTH_TYPE|(?:REDIRECT_)?TRPCAUTH_\w+|HTTP_\w+)\z/ && $_ ne 'HTTP_COOKIE' } keys %ENV;
$seen{cookie} = $ENV{HTTP_COOKIE};
print "Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n",
      JSON::PP->new->canonical->encode(\%seen), "\n";
