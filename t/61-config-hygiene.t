# Configuration hygiene at run time (issue #11, findings 2, 6 and 8; the configtest half is in t/58-configtest.t):
#  - a Redis password never reaches the error log: a server whose TrpcAuthRedis names a password and a closed port
#    answers 503, and its log lines show the URL with the password as *** (the pool's and the session-cache
#    listener's);
#  - a Redis 6 ACL user logs in with AUTH user password (the test creates the user and removes it again);
#  - a Redis whose maxmemory-policy may evict keys gets a warning at (re)start naming maxmemory-policy noeviction,
#    and one with noeviction none (the test restores the policy in every case);
#  - TrpcAuthCookieSameSite None without TrpcAuthCookieSecure On gets a warning at start, once.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;
use TrpcSess;

plan tests => 16;

my $ACL_USER = 'trpcauth_acl';             # as in t/conf/extra.conf.in, vhost trpc_acl
my $ACL_PASS = 'Acl-Pass-61';
my $SECRET   = 'SecretXYZ';                # vhost trpc_secret_redis
my $port     = Apache::Test::vars('trpc_redis_port');

# Redis is shared with the rest of the suite: whatever this test changes is put back, failing or not.
my ($old_policy) = (redis('CONFIG', 'GET', 'maxmemory-policy'))[1];
die "cannot read maxmemory-policy of the test Redis\n" unless defined $old_policy && length $old_policy;
END {
    redis('ACL', 'DELUSER', $ACL_USER);
    redis('CONFIG', 'SET', 'maxmemory-policy', $old_policy) if defined $old_policy;
}

# ---- the password of TrpcAuthRedis is never logged ----------------------------------------------------------------

vhost('trpc_secret_redis');
my $r = login(bare_ua(), uniq_email('secret'), 'some password');
is($r->code, 503, 'Redis unreachable (closed port, URL with a password): 503') or diag show($r);
my $log = error_log();
unlike($log, qr/\Q$SECRET\E/, 'the error log never shows the Redis password');
like($log, qr{TRPCAUTH101: Redis redis://:\*\*\*\@127\.0\.0\.1:1/0: cannot connect},
     '... but the URL, with the password as ***');

# ---- a Redis 6 ACL user: AUTH user password ---------------------------------------------------------------------

is(join(' ', redis('ACL', 'SETUSER', $ACL_USER, 'on', ">$ACL_PASS", '~*', '&*', '+@all')), 'OK',
   "ACL user $ACL_USER created in the test Redis");
vhost('trpc_acl');
my ($ua, undef, undef, $uid) = login_ua('acl');
ok(defined $uid && length(jar_cookie($ua, 'accessToken') // ''),
   'register and login through redis://user:password@ (rate limiter, session creation)');
$r = tget($ua, '/trpc/auth.me');
ok($r->code == 200 && defined $uid && (oget(dec($r), qw(result data id)) // '') eq $uid,
   '... and auth.me (the session check) works') or diag show($r);
my @clients = grep { /\buser=\Q$ACL_USER\E\b/ } redis('CLIENT', 'LIST');
ok(scalar @clients, "... on connections authenticated as $ACL_USER (CLIENT LIST)");
unlike(error_log(), qr/\Q$ACL_PASS\E/, '... and its password is not in the error log either');
redis('ACL', 'DELUSER', $ACL_USER);

# ---- warnings at start ----------------------------------------------------------------------------------------------

my $WARN_SAMESITE = qr/TRPCAUTH901: TrpcAuthCookieSameSite None without TrpcAuthCookieSecure On \(server [^,]+, \S*extra\.conf:\d+\)/;
my $WARN_EVICT = qr{TRPCAUTH109: Redis redis://127\.0\.0\.1:\Q$port\E/0 has maxmemory-policy (\S+): .*set maxmemory-policy noeviction};

like(error_log(), $WARN_SAMESITE, 'SameSite=None without Secure (vhost trpc_samesite_none): a warning at start');

my $pidfile = Apache::Test::vars('t_pid_file');
open my $pf, '<', $pidfile or die "$pidfile: $!";
chomp(my $httpd = <$pf> // '');
close $pf;

# A graceful restart (post_config runs again in the parent); returns the error log it wrote, up to the line that
# says the new generation is running.
sub restart {
    my $from = length error_log();
    kill 'USR1', $httpd or die "cannot signal httpd $httpd: $!";
    for (1 .. 300) {
        my $new = substr(error_log(), $from);
        return $new if $new =~ /resuming normal operations/;
        select undef, undef, undef, 0.1;
    }
    return substr(error_log(), $from);
}

is(join(' ', redis('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru')), 'OK', 'test Redis set to allkeys-lru');
$log = restart();
like($log, qr/resuming normal operations/, 'graceful restart done') or diag $log;
my @evict = $log =~ /$WARN_EVICT/g;
is("@evict", 'allkeys-lru', 'an evicting Redis: one warning at restart, naming the policy and the fix') or diag $log;
my @samesite = $log =~ /$WARN_SAMESITE/g;
is(scalar @samesite, 1, 'the SameSite warning once per start (the vhosts that only inherit settings are quiet)')
    or diag $log;
unlike($log, qr/\Q$SECRET\E|\Q$ACL_PASS\E/, 'the start-up checks log no password');

redis('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
$log = restart();
ok($log =~ /resuming normal operations/ && $log !~ /TRPCAUTH109/, 'with noeviction: no eviction warning')
    or diag $log;
redis('CONFIG', 'SET', 'maxmemory-policy', $old_policy);

vhost('default');
$r = tget(bare_ua(), '/trpc/auth.me');
is($r->code, 401, 'after the restarts the server answers as before') or diag show($r);
