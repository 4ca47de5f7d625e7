# Refresh-token rotation (CONTRACT §4, issue #3): auth.refreshAccessToken authenticates by the refresh cookie alone,
# each refresh rotates the refresh token, the token just replaced is answered with the pair already issued inside
# the grace window, and presented after the window it revokes the whole session. 20 parallel refreshes with one
# cookie never trip reuse detection. Rotation Off keeps the refresh token; TrpcAuthAutoRefresh refreshes in place.
# Virtual hosts (t/conf/extra.conf.in): trpc_short (access TTL 2 s, no clock skew, grace 2 s, accessToken in the
# output), trpc_norot (rotation Off).
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use TrpcT;
use TrpcSess;

plan tests => 43;

my ($r, $d);
my $bare = bare_ua();
sub refresh_with { tpost($bare, '/trpc/auth.refreshAccessToken', undef, Cookie => 'refreshToken=' . shift) }
sub me_with      { tget($bare, '/trpc/auth.me', undef, Cookie => 'accessToken=' . shift) }

# ---- an expired access token, refreshed by the refresh cookie alone (trpc_short) ------------------------------------

vhost('trpc_short');
my ($ua, $email, $pw, $uid) = login_ua('rot');
my $at = jar_cookie($ua, 'accessToken') // '';
my $rt = jar_cookie($ua, 'refreshToken') // '';
my $sid = sid_of($at);
ok(length $rt && length $sid, 'logged in on the short-lived server');
sleep 3;
$r = me_with($at);
is($r->code, 401, 'the access token has expired after 2 s') or diag show($r);

$r = refresh_with($rt);
is($r->code, 200, 'refresh with the refresh cookie alone -> 200') or diag show($r);
$d = oget(dec($r), qw(result data)) || {};
my $rt2 = cookie_value($r, 'refreshToken') // '';
my $at2 = cookie_value($r, 'accessToken') // '';
is_deeply([ sort keys %$d ], [qw(accessToken success)], 'TrpcAuthRefreshReturnsAccessToken: {success, accessToken}');
is($d->{accessToken}, $at2, '... accessToken is the token of the access cookie');
ok(defined cookie_value($r, 'logged_in'), '... sets the three cookies');
ok(length $rt2 && $rt2 ne $rt, 'rotation: a new refresh token');
isnt(jti_of($rt2), jti_of($rt), '... with a new jti');
is(sid_of($rt2), $sid, '... of the same session');
is(me_with($at2)->code, 200, 'the new access token works');

my $h = session_hash($uid, $sid);
is($h->{rt}, sha256_hex(jti_of($rt2)), 'Redis keeps SHA-256 of the current jti');
is($h->{prev}, sha256_hex(jti_of($rt)), '... and of the one just replaced');
ok(!grep({ index($_, 'eyJ') >= 0 || $_ eq jti_of($rt2) || $_ eq jti_of($rt) } values %$h),
   'no token and no jti in clear in the session hash') or diag explain $h;

# ---- grace window ------------------------------------------------------------------------------------------------------

$r = refresh_with($rt);
is($r->code, 200, 'the replaced token inside the grace window -> 200') or diag show($r);
is(cookie_value($r, 'refreshToken'), $rt2, '... answered with the refresh token already issued');
is(me_with(cookie_value($r, 'accessToken') // '')->code, 200, '... and a working access token');

$r = refresh_with($rt2);
is($r->code, 200, 'refresh with the current token rotates again') or diag show($r);
my $rt3 = cookie_value($r, 'refreshToken') // '';
ok(length $rt3 && $rt3 ne $rt2, '... a third refresh token');
$r = refresh_with($rt);
is($r->code, 401, 'a token two rotations old is reuse even inside the window') or diag show($r);
ok(expired_all($r), '... and the cookies are expired');
is(refresh_with($rt3)->code, 401, '... the whole session is revoked: the newest refresh token stops working');
is(scalar(grep { index($_, $sid) >= 0 } user_keys($uid)), 0, '... and its Redis key is gone');

# ---- after the grace window -----------------------------------------------------------------------------------------------

my ($ub) = login_ua('rot-window');
my $brt = jar_cookie($ub, 'refreshToken') // '';
$r = refresh_with($brt);
my $brt2 = cookie_value($r, 'refreshToken') // '';
is($r->code, 200, 'another session refreshes') or diag show($r);
sleep 3;
$r = refresh_with($brt);
is($r->code, 401, 'the replaced token after the 2 s window -> 401 (reuse detected)') or diag show($r);
err_is(dec($r), 'UNAUTHORIZED', 'auth.refreshAccessToken', '... UNAUTHORIZED');
is(refresh_with($brt2)->code, 401, '... the session is revoked: the newest refresh token stops working too');

# ---- TrpcAuthAutoRefresh at the tRPC endpoint (/trpc-auto) --------------------------------------------------------------

my ($uc) = login_ua('rot-auto');
my $crt = jar_cookie($uc, 'refreshToken') // '';
my $cat = jar_cookie($uc, 'accessToken') // '';
sleep 3;
$r = tget($bare, '/trpc/transaction.getAll', undef, Cookie => "accessToken=$cat; refreshToken=$crt");
is($r->code, 401, 'expired access cookie at /trpc (no auto refresh) -> 401') or diag show($r);
$r = tget($bare, '/trpc-auto/transaction.getAll', undef, Cookie => "accessToken=$cat; refreshToken=$crt");
is($r->code, 200, 'at /trpc-auto (TrpcAuthAutoRefresh On) the same request succeeds') or diag show($r);
my $crt2 = cookie_value($r, 'refreshToken') // '';
ok(length $crt2 && $crt2 ne $crt && length(cookie_value($r, 'accessToken') // ''),
   '... and sets the new cookies on the response');
$r = tget($bare, '/trpc-auto/auth.me,transaction.getAll?batch=1', undef, Cookie => "refreshToken=$crt2");
is($r->code, 200, 'no access cookie at all, a batch of two protected calls -> 200') or diag show($r);
is(scalar(grep { /^refreshToken=/ } $r->header('Set-Cookie')), 1, '... refreshed once for the whole batch');
$r = tget($bare, '/trpc-auto/auth.me', undef, Cookie => 'refreshToken=garbage');
is($r->code, 401, 'an invalid refresh cookie does not authenticate at /trpc-auto') or diag show($r);

# ---- rotation Off (trpc_norot) -------------------------------------------------------------------------------------------

vhost('trpc_norot');
my ($un) = login_ua('norot');
my $nrt = jar_cookie($un, 'refreshToken') // '';
$r = refresh_with($nrt);
is($r->code, 200, 'rotation Off: refresh -> 200') or diag show($r);
is(cookie_value($r, 'refreshToken'), $nrt, '... the refresh token stays as issued');
is_deeply(oget(dec($r), qw(result data)), { success => true }, '... output {success:true} (no accessToken by default)');
$r = refresh_with($nrt);
is($r->code, 200, '... and can be used again and again') or diag show($r);
is(me_with(cookie_value($r, 'accessToken') // '')->code, 200, '... with working access tokens');

# ---- 20 parallel refreshes with the same cookie (main server, grace 10 s) ---------------------------------------------

vhost('default');
my ($up, undef, undef, $puid) = login_ua('rot-parallel');
my $prt = jar_cookie($up, 'refreshToken') // '';
my $dir = tempdir(CLEANUP => 1);
my @pids;
for my $i (1 .. 20) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        my $res = tpost(bare_ua(), '/trpc/auth.refreshAccessToken', undef, Cookie => "refreshToken=$prt");
        open my $fh, '>', "$dir/$i" or exit 1;
        print $fh join("\n", $res->code, cookie_value($res, 'refreshToken') // '',
                       cookie_value($res, 'accessToken') // ''), "\n";
        close $fh;
        exit 0;
    }
    push @pids, $pid;
}
waitpid $_, 0 for @pids;
my @res = map { open my $fh, '<', "$dir/$_" or die; my @l = <$fh>; chomp @l; \@l } 1 .. 20;
is_deeply([ map { $_->[0] } @res ], [ (200) x 20 ], '20 parallel refreshes with the same cookie all succeed');
my %rts = map { $_->[1] => 1 } @res;
is(scalar keys %rts, 1, '... and all set the same new refresh token') or diag explain [ keys %rts ];
my ($new_rt) = keys %rts;
ok(!grep({ me_with($_->[2])->code != 200 } @res), '... every access token they set works');
$r = refresh_with($new_rt);
is($r->code, 200, 'the user is still logged in: the refresh token the client keeps works') or diag show($r);

# ---- Redis hygiene ------------------------------------------------------------------------------------------------------

my @keys = user_keys($puid);
ok(@keys >= 2 && !grep({ !/^trpcauth-test:\{u:$puid\}:/ } @keys), "the user's keys share the hash tag {u:$puid}")
    or diag explain \@keys;
is_deeply([ all_keys_have_ttl() ], [], 'every key of the suite has a TTL');
