# The session cache (TrpcAuthSessionCache, issue #6): with it on, a session Redis has confirmed is answered
# without a round trip, yet a revocation still takes effect at once on every child. Each child's listener holds a
# Redis connection with CLIENT TRACKING (broadcast, on the session-key prefix) subscribed to __redis__:invalidate;
# Redis names every session key that changes, and the children drop it. Entries may live 60 s here
# (vhost trpc_scache), so nothing but those messages can explain the refusals below.
# Issue 15: the cache is on by default (the main server has no TrpcAuthSessionCache); `TrpcAuthSessionCache Off`
# (vhost trpc_nosesscache) and a Redis that refuses client tracking (vhost trpc_notrack, an ACL user without
# CLIENT: logged once) ask Redis on every request.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TrpcT;
use TrpcSess;

plan tests => 31;

my $bare = bare_ua();
my $N = 24;

sub me_with { tget($bare, '/trpc/auth.me', undef, Cookie => 'accessToken=' . shift) }
sub codes_of { me_codes(shift, $N) }
# HGETs Redis has served so far (the session check's command).
sub hgets {
    my ($line) = grep { /^cmdstat_hget:/ } redis('INFO', 'commandstats');
    return ($line // '') =~ /calls=(\d+)/ ? $1 : 0;
}
sub session_key { my ($uid, $at) = @_; "trpcauth-test:{u:$uid}:s:" . sid_of($at) }
# A logged-in user on the cached server: (ua, uid, access token, email, password), its session answered 200 $N
# times (so it is in the cache of every child that served one of those).
sub warm_login {
    my $tag = shift;
    my ($ua, $email, $pw, $uid) = login_ua($tag);
    my $at = jar_cookie($ua, 'accessToken') // '';
    my $codes = codes_of($at);
    Test::More::diag("warm-up answered $codes") unless $codes eq '200';
    return ($ua, $uid, $at, $email, $pw);
}

vhost('trpc_scache');
sleep 1.5;      # the children's listeners subscribe within a second of start

# ---- hits ------------------------------------------------------------------------------------------------------------
my ($ua, $uid, $at) = warm_login('sc1');
is(codes_of($at), '200', "a session found in Redis: $N calls, all 200");
my $before = hgets();
is(codes_of($at), '200', "$N more calls, all 200");
my $asked = hgets() - $before;
cmp_ok($asked, '<', $N / 2, "... of which at most a few asked Redis ($asked HGETs for $N calls)");

# ---- revocations take effect at once ---------------------------------------------------------------------------------
redis('DEL', session_key($uid, $at));
# no pause: Redis writes the invalidation in the same pass of its event loop as its answer to DEL, and the cache
# answers nothing while one waits unread (cache/sesscache.h), however late the listener thread runs
is(codes_of($at), '401', 'the session key deleted in Redis (as another server would): refused on every call');

($ua, $uid, $at) = warm_login('sc2');
my $r = tpost($bare, '/trpc/auth.logout', undef, Cookie => "accessToken=$at");
is($r->code, 200, 'logout') or diag show($r);
is(codes_of($at), '401', '... refused at once on every call');

# logoutAll from one session ends another one that every child has cached
my ($email, $pw);
($ua, $uid, $at, $email, $pw) = warm_login('sc3');
my $ua2 = ua();
login($ua2, $email, $pw);
my $other = jar_cookie($ua2, 'accessToken') // '';
isnt(sid_of($other), sid_of($at), 'a second session of the same user');
is(codes_of($other), '200', '... cached');
$r = tpost($ua, '/trpc/auth.logoutAll');
is($r->code, 200, 'logoutAll from the first session') or diag show($r);
is(codes_of($other), '401', '... the second session is refused at once on every call');

# a session that expires in Redis is dropped too
($ua, $uid, $at) = warm_login('sc4');
redis('PEXPIRE', session_key($uid, $at), 300);
sleep 0.6;
is(codes_of($at), '401', 'a session that expired in Redis: refused');

# ---- the listener's connection lost and back ---------------------------------------------------------------------
($ua, $uid, $at) = warm_login('sc5');
redis('CLIENT', 'KILL', 'TYPE', 'pubsub');
sleep 0.2;
redis('DEL', session_key($uid, $at));
is(codes_of($at), '401', 'listeners disconnected: the caches were emptied, a deleted session is refused');
sleep 1.8;      # they subscribe again within a second
my @subs = grep { /^__redis__:invalidate$/ } redis('PUBSUB', 'CHANNELS');
is(scalar @subs, 1, '... and the listeners are subscribed again');
($ua, $uid, $at) = warm_login('sc6');
$before = hgets();
is(codes_of($at), '200', 'a new session after the reconnect: all 200');
$asked = hgets() - $before;
cmp_ok($asked, '<', $N / 2, "... answered from the cache again ($asked HGETs for $N calls)");
redis('DEL', session_key($uid, $at));
is(codes_of($at), '401', '... and invalidated again when Redis deletes it');

like(error_log(), qr/TRPCAUTH114: .*lost its Redis connection/, 'the listeners logged the lost connection');
like(error_log(), qr/TRPCAUTH112: .*tracking Redis .* again/, '... and the reconnect');

# ---- on by default (issue 15) ----------------------------------------------------------------------------------------
vhost('default');
($ua, $uid, $at) = warm_login('sc7');
$before = hgets();
is(codes_of($at), '200', 'the main server (no TrpcAuthSessionCache): all 200');
$asked = hgets() - $before;
cmp_ok($asked, '<', $N / 2, "... answered from the cache, which is on by default ($asked HGETs for $N calls)");
redis('DEL', session_key($uid, $at));
is(codes_of($at), '401', '... and a session deleted in Redis is refused on every call');

# ---- TrpcAuthSessionCache Off: every request asks Redis ---------------------------------------------------------------
vhost('trpc_nosesscache');
($ua, $uid, $at) = warm_login('sc8');
$before = hgets();
is(codes_of($at), '200', 'TrpcAuthSessionCache Off: all 200');
$asked = hgets() - $before;
cmp_ok($asked, '>=', $N, "... every call asked Redis ($asked HGETs for $N calls)");
redis('DEL', session_key($uid, $at));
is(codes_of($at), '401', '... so a session deleted in Redis is refused on the very next call');

# ---- Redis refuses client tracking: an ACL user without CLIENT ----------------------------------------------------------
my ($NT_USER, $NT_PASS) = ('trpcauth_notrack', 'NoTrack-54');      # as in t/conf/extra.conf.in, vhost trpc_notrack
END { redis('ACL', 'DELUSER', $NT_USER) }
is(join(' ', redis('ACL', 'SETUSER', $NT_USER, 'on', ">$NT_PASS", '~*', '&*', '+@all', '-client')), 'OK',
   "ACL user $NT_USER created without CLIENT");
vhost('trpc_notrack');
my $refusal = qr{TRPCAUTH110: TrpcAuthSessionCache: Redis redis://trpcauth_notrack:\*\*\*\@127\.0\.0\.1:\d+/0 refused client tracking};
my @refusals;
for (1 .. 60) {                 # the listeners, unable to log in until now, try again every second
    @refusals = error_log() =~ /$refusal/g;
    last if @refusals;
    sleep 0.1;
}
ok(scalar @refusals, 'the listener found client tracking refused, and said so (TRPCAUTH110)');
sleep 1.5;                      # every child's listener has tried by now
@refusals = error_log() =~ /$refusal/g;
($ua, $uid, $at) = warm_login('sc9');
$before = hgets();
is(codes_of($at), '200', '... requests still work: all 200');
$asked = hgets() - $before;
cmp_ok($asked, '>=', $N, "... every call asked Redis ($asked HGETs for $N calls)");
redis('DEL', session_key($uid, $at));
is(codes_of($at), '401', '... and a session deleted in Redis is refused on the very next call');
sleep 1.5;
my @again = error_log() =~ /$refusal/g;
ok(@again == @refusals, 'the refusal is logged once, not at every retry (' . scalar(@again) . ' lines, one per child)');
unlike(error_log(), qr/\Q$NT_PASS\E/, '... and the password never reaches the log');
redis('ACL', 'DELUSER', $NT_USER);
