# Metrics for operators (issue 13, part 5): counters summed over every child of the node, served in Prometheus's
# text format by `SetHandler trpcauth-metrics` and as a section of mod_status's server-status page (t/conf/extra.conf.in
# maps both, for local clients). The test scrapes, makes a known set of calls, scrapes again and checks the exact
# deltas: calls by procedure and code, failed and rate-limited logins, refresh-token reuse, sessions created and
# revoked, token and session cache lookups, Redis round trips and PostgreSQL statements (per call kind, as
# docs/capacity.md lists them). The calls go over two keep-alive connections at once, so under prefork two processes
# serve them (each connection holds its child): the pids are in t/logs/metrics_log, and the totals still add up.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LWP::UserAgent ();
use HTTP::Cookies ();
use Time::HiRes qw(sleep);
use TrpcT;
use TrpcHttpd ();

plan tests => 35;

my $B = '/trpc-m';
my $bare = bare_ua();

# ---- reading the two outputs ----------------------------------------------------------------------------------------

# The Prometheus page: { 'name{labels}' => value }, and the response.
sub scrape { metrics('/trpcauth-metrics') }
# server-status?auto: { Key => value }.
sub status {
    my $r = req($bare, 'GET', '/server-status?auto');
    my %s = map { /^([^:]+): (.*)$/ ? ($1 => $2) : () } split /\n/, $r->content;
    return (\%s, $r);
}
sub calls_key { my ($p, $c) = @_; qq{trpcauth_calls_total{procedure="$p",code="$c"}} }
sub delta { my ($a, $b, $k) = @_; ($b->{$k} // 0) - ($a->{$k} // 0) }

# A client that keeps its connection (and so, under prefork, its child) for the whole sequence.
sub ka_ua {
    my $ua = LWP::UserAgent->new(cookie_jar => HTTP::Cookies->new, requests_redirectable => [], timeout => 30,
                                 keep_alive => 4);
    $ua->agent('trpcauth-apache-test/1.0');
    return $ua;
}
# The lines of metrics_log once it has at least $n.
sub log_lines {
    my $n = shift // 0;
    return split /^/, log_until('metrics_log', sub { (() = $_[0] =~ /\n/g) >= $n });
}

# ---- the endpoint itself --------------------------------------------------------------------------------------------

my ($m0, $r) = scrape();
is($r->code, 200, 'GET /trpcauth-metrics -> 200') or diag show($r);
like($r->header('Content-Type') // '', qr{^text/plain; version=0\.0\.4}, '... text/plain; version=0.0.4');
like($r->content, qr/^# HELP trpcauth_calls_total .+\n# TYPE trpcauth_calls_total counter\n/m,
     '... with # HELP and # TYPE lines');
like($r->content, qr/^# TYPE trpcauth_redis_duration_seconds histogram\ntrpcauth_redis_duration_seconds_bucket\{le="0\.00025"\} \d+\n(?:.*\n)*?trpcauth_redis_duration_seconds_bucket\{le="\+Inf"\} \d+\ntrpcauth_redis_duration_seconds_sum \d+\.\d{6}\ntrpcauth_redis_duration_seconds_count \d+$/m,
     '... and a latency histogram of the Redis round trips');
is(tpost($bare, '/trpcauth-metrics', {})->code, 405, 'POST -> 405');

# ---- warm-up: Redis has the scripts, so every call below costs what it always does --------------------------------

{
    my $ua = ua();
    my $e = uniq_email('metrics-warm');
    register($ua, $e, 'warm-password-1', $B);
    login($ua, $e, 'warm-password-1', $B);
    tget($ua, "$B/auth.me");
    tpost($ua, "$B/auth.refreshAccessToken");
    tpost($ua, "$B/auth.logout");
}

# ---- a known set of calls -------------------------------------------------------------------------------------------

my $lines0 = () = log_lines();
($m0) = scrape();
my ($s0) = status();
my (%d, $n);

my ($ua_a, $ua_b) = (ka_ua(), ka_ua());
my ($ea, $eb) = (uniq_email('metrics-a'), uniq_email('metrics-b'));
my @seq;
sub call { my ($what, $r) = @_; push @seq, [$what, $r->code]; return $r }

# Interleaved, so both connections are open at once.
call('register a', register($ua_a, $ea, 'password-a-1', $B));
call('register b', register($ua_b, $eb, 'password-b-1', $B));
call('login a', login($ua_a, $ea, 'password-a-1', $B));
call('login b wrong', login($ua_b, $eb, 'not-the-password', $B));
call('login b', login($ua_b, $eb, 'password-b-1', $B));
my $rt0 = jar_cookie($ua_a, 'refreshToken');
call("me a", tget($ua_a, "$B/auth.me")) for 1 .. 2;
call("me b", tget($ua_b, "$B/auth.me")) for 1 .. 2;
call('create b', tpost($ua_b, "$B/transaction.create", { amount => 1234, txnType => 'Incoming', summary => 'm' }));
call('getAll b', tget($ua_b, "$B/transaction.getAll"));
call('refresh a', tpost($ua_a, "$B/auth.refreshAccessToken")) for 1 .. 2;     # generation 0 -> 1 -> 2
# Generation 0 again: neither the current token nor the one just replaced -> reuse, the session revoked.
call('reuse a', tpost(ka_ua(), "$B/auth.refreshAccessToken", undef, Cookie => "refreshToken=$rt0"));
call('logout b', tpost($ua_b, "$B/auth.logout"));
call('unknown', tget($ua_b, "$B/no.such"));

is(join(' ', map { $_->[1] } @seq), '200 200 200 401 200 200 200 200 200 200 200 200 200 401 200 404',
   'the calls answered as expected') or diag explain \@seq;

# A login refused by a rate limit: vhost trpc_ratelimit allows 5 failures per account and address.
Apache::TestRequest::module('trpc_ratelimit');
my $ec = uniq_email('metrics-rl');
my @rl = map { login(ua(), $ec, "wrong-$_")->code } 1 .. 6;
Apache::TestRequest::module('default');
is("@rl", '401 401 401 401 401 429', 'on trpc_ratelimit: 5 failed logins, then 429');

# A request refused as a whole, before any call: a batch that mixes a query and a mutation.
is(tpost($bare, "$B/auth.me,auth.logout?batch=1", { 0 => undef, 1 => undef })->code, 400,
   'a batch mixing a query and a mutation -> 400 (no call runs)');

my ($m1, $r1) = scrape();
my ($s1) = status();

# ---- calls by procedure and code ------------------------------------------------------------------------------------

my %want = (
    'auth.register OK' => 2, 'auth.login OK' => 2, 'auth.login UNAUTHORIZED' => 6, 'auth.login TOO_MANY_REQUESTS' => 1,
    'auth.me OK' => 4, 'transaction.create OK' => 1, 'transaction.getAll OK' => 1,
    'auth.refreshAccessToken OK' => 2, 'auth.refreshAccessToken UNAUTHORIZED' => 1, 'auth.logout OK' => 1,
    '(unknown) NOT_FOUND' => 1,
);
my %got = map { my ($p, $c) = split / /; ($_ => delta($m0, $m1, calls_key($p, $c))) } keys %want;
is_deeply(\%got, \%want, 'trpcauth_calls_total moved by exactly the calls made, by procedure and code');
my ($total0, $total1) = (0, 0);
for (keys %$m1) { $total1 += $m1->{$_} if /^trpcauth_calls_total\{/ }
for (keys %$m0) { $total0 += $m0->{$_} if /^trpcauth_calls_total\{/ }
is($total1 - $total0, 22, '... and by nothing else (22 calls in all)');
is(delta($m0, $m1, 'trpcauth_request_errors_total{code="BAD_REQUEST"}'), 1,
   'trpcauth_request_errors_total{code="BAD_REQUEST"}: +1');

# ---- the named counters ---------------------------------------------------------------------------------------------

is(delta($m0, $m1, 'trpcauth_logins_failed_total'), 6, 'trpcauth_logins_failed_total: +6 (1 wrong password, 5 unknown email)');
is(delta($m0, $m1, 'trpcauth_logins_rate_limited_total'), 1, 'trpcauth_logins_rate_limited_total: +1');
is(delta($m0, $m1, 'trpcauth_refresh_token_reuse_total'), 1, 'trpcauth_refresh_token_reuse_total: +1');
is(delta($m0, $m1, 'trpcauth_sessions_created_total'), 2, 'trpcauth_sessions_created_total: +2 (two logins)');
is(delta($m0, $m1, 'trpcauth_sessions_revoked_total'), 2, 'trpcauth_sessions_revoked_total: +2 (reuse, logout)');

# Token cache (per child; each connection stays with its child): each user's first use of an access token verifies
# it (miss), every later one is a hit: a: me, me; b: me, me, create, getAll, logout.
is(delta($m0, $m1, 'trpcauth_cache_misses_total{cache="token"}'), 2, 'token cache: 2 misses (first use per token)');
is(delta($m0, $m1, 'trpcauth_cache_hits_total{cache="token"}'), 5, 'token cache: 5 hits');

# Session cache: one lookup per session check (me x 4, create, getAll). Which of them hit depends on when Redis's
# invalidation of the login's write reaches the child (asynchronous), so only the sum is exact here.
my $sc_hits = delta($m0, $m1, 'trpcauth_cache_hits_total{cache="session"}');
my $sc_miss = delta($m0, $m1, 'trpcauth_cache_misses_total{cache="session"}');
is($sc_hits + $sc_miss, 6, "session cache: 6 lookups ($sc_hits hits, $sc_miss misses)");

# ---- Redis and PostgreSQL -------------------------------------------------------------------------------------------

# Round trips of each call (docs/capacity.md): register 1 (its rate limit); login 5 (the address's and the
# account's limits admitted, both refunded, the session created); a wrong login 2 (the two admissions); me, create,
# getAll 1 (HGET) unless the session cache answers; refresh 2 (its rate limit, the check-and-rotate script), the
# reused one too; logout 1 (revoke); an unknown path 0; on trpc_ratelimit 5 wrong logins x 2, and the refused one
# 3 (the address admitted, the account refused, the address refunded).
my $redis = delta($m0, $m1, 'trpcauth_redis_requests_total');
is($redis, 2 * 1 + 2 * 5 + 2 + $sc_miss + 2 * 2 + 2 + 1 + 5 * 2 + 3,
   "Redis round trips: exactly the sum per call ($redis, $sc_miss of them session checks)");
# Statements: register 2 (insert, audit), login 2 (credentials, audit), a wrong login 2 (credentials, audit),
# me 1 (the user) x 4, create 1, getAll 1, refresh 2 (the user still there, audit) x 2, the reused one 2 (user,
# audit), logout 1 (audit); on trpc_ratelimit 5 wrong logins x 2, and the refused one 1 (its audit).
my $pg = delta($m0, $m1, 'trpcauth_postgres_queries_total');
is($pg, 2 * 2 + 2 * 2 + 2 + 4 + 1 + 1 + 2 * 2 + 2 + 1 + 5 * 2 + 1, "PostgreSQL statements: exactly the sum per call ($pg)");
is(delta($m0, $m1, 'trpcauth_redis_errors_total'), 0, 'no Redis error');
is(delta($m0, $m1, 'trpcauth_postgres_errors_total'), 0, 'no PostgreSQL error');
is(delta($m0, $m1, 'trpcauth_redis_duration_seconds_count'), $redis, 'the Redis histogram counted every round trip');
is(delta($m0, $m1, 'trpcauth_postgres_duration_seconds_count'), $pg, '... the PostgreSQL one every statement');
ok(delta($m0, $m1, 'trpcauth_postgres_duration_seconds_sum') > 0, '... and their time adds up');

# ---- summed over the children ---------------------------------------------------------------------------------------

my @lines = (log_lines($lines0 + 17))[$lines0 .. $lines0 + 16];
my %pids = map { (split / /)[0] => 1 } grep { defined } @lines;
is(scalar(grep { defined } @lines), 17, 'the 17 requests to /trpc-m are in metrics_log');
my $mpm = TrpcHttpd::suite_mpm();
if ($mpm eq 'prefork') {
    cmp_ok(scalar(keys %pids), '>=', 2, 'prefork: they were served by ' . scalar(keys %pids) . ' processes')
        or diag @lines;
}
else {
    cmp_ok(scalar(keys %pids), '>=', 1, "$mpm: served by " . scalar(keys %pids) . ' process(es)');
}

# ---- the same numbers in server-status ------------------------------------------------------------------------------

my ($st, $sr) = status();
is($sr->code, 200, 'server-status?auto -> 200');
like($sr->content, qr/^TrpcAuthCalls: \d+$/m, '... has the module\'s section');
is($s1->{TrpcAuthCalls} - $s0->{TrpcAuthCalls}, 22, '... TrpcAuthCalls: +22');
is_deeply({ map { $_ => $s1->{$_} - $s0->{$_} } qw(TrpcAuthLoginsFailed TrpcAuthLoginsRateLimited TrpcAuthRefreshReuse
                                                    TrpcAuthSessionsCreated TrpcAuthSessionsRevoked) },
          { TrpcAuthLoginsFailed => 6, TrpcAuthLoginsRateLimited => 1, TrpcAuthRefreshReuse => 1,
            TrpcAuthSessionsCreated => 2, TrpcAuthSessionsRevoked => 2 },
          '... the same login, reuse and session counts');
is_deeply([ map { ($s1->{$_} // 0) - ($s0->{$_} // 0) } qw(TrpcAuthCalls_auth.login_UNAUTHORIZED TrpcAuthRedisRequests
                                                            TrpcAuthPostgresQueries) ],
          [ 6, $redis, $pg ], '... the same calls by code, Redis round trips and PostgreSQL statements');
# the Sentinel and mail counters (t/62 and t/67 count them; this server has no Sentinel) are on both pages
{
    my ($m) = scrape();
    my %pairs = (trpcauth_sentinel_queries_total => 'TrpcAuthSentinelQueries',
                 trpcauth_sentinel_failures_total => 'TrpcAuthSentinelFailures',
                 trpcauth_redis_master_switches_total => 'TrpcAuthRedisMasterSwitches',
                 trpcauth_mail_sent_total => 'TrpcAuthMailSent', trpcauth_mail_failures_total => 'TrpcAuthMailFailures',
                 trpcauth_mail_given_up_total => 'TrpcAuthMailGivenUp');
    my @missing = grep { ($m->{$_} // '') !~ /^\d+\z/ || ($st->{ $pairs{$_} } // '') !~ /^\d+\z/ } sort keys %pairs;
    is("@missing", '', 'the Sentinel and mail counters are on the Prometheus page and in server-status');
}
my $html = req($bare, 'GET', '/server-status')->content;
like($html, qr{<h2>mod_trpcauth</h2>.*<td>tRPC calls</td><td>\d+</td>}s, 'the HTML page has the section too');
