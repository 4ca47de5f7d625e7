package TrpcSess;
# Helpers of the session tests (t/51-t/58): switching between the suite's virtual hosts, PostgreSQL through psql,
# JWS signing and verification with the PEM keys of t/keys through openssl, and Redis/row counts for "nothing
# was written" checks.
use strict;
use warnings;

use Exporter 'import';
use Apache::Test ();
use Apache::TestRequest ();
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256_hex);
use TrpcT;

our @EXPORT = qw(vhost psql keyfile pem_sign pem_verify jwt_pem session_hash user_keys all_keys_have_ttl
                 cookie_value expired_all sid_of jti_of count_rows me_codes);

# vhost('trpc_short') makes base() (and so tget/tpost with relative paths) talk to that <VirtualHost>;
# vhost('default') goes back to the main server.
sub vhost { Apache::TestRequest::module(shift) }

# psql -c $sql on the suite's database; returns the output lines (tuples only, unaligned).
sub psql {
    my $sql = shift;
    my $port = Apache::Test::vars('trpc_pg_port');
    open my $fh, '-|', 'psql', '-X', '-q', '-tA', '-h', '127.0.0.1', '-p', $port, '-U', 'trpcauth',
        '-d', 'trpcauth', '-v', 'ON_ERROR_STOP=1', '-c', $sql or die "psql: $!";
    my @out = <$fh>;
    close $fh;
    chomp @out;
    return @out;
}

sub count_rows { my @r = psql(shift); return $r[0] }

sub keyfile { Apache::Test::vars('trpc_keys') . '/' . shift }

sub _slurp { my $f = shift; open my $fh, '<:raw', $f or die "$f: $!"; local $/; my $d = <$fh>; return $d }
sub _spit  { my ($f, $d) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $d; close $fh }

# ASN.1 DER ECDSA signature -> the JWS form r||s (32 bytes each) and back.
sub _der_to_raw {
    my $der = shift;
    my ($rlen) = unpack 'x3 C', $der;
    my $r = substr $der, 4, $rlen;
    my $slen = unpack 'C', substr $der, 5 + $rlen, 1;
    my $s = substr $der, 6 + $rlen, $slen;
    s/^\x00+// for $r, $s;
    return ("\x00" x (32 - length $r)) . $r . ("\x00" x (32 - length $s)) . $s;
}

sub _raw_to_der {
    my $raw = shift;
    my @int = map {
        my $v = $_;
        $v =~ s/^\x00+//;
        $v = "\x00$v" if !length $v || ord($v) & 0x80;
        "\x02" . chr(length $v) . $v;
    } substr($raw, 0, 32), substr($raw, 32, 32);
    my $body = join '', @int;
    return "\x30" . chr(length $body) . $body;
}

# The JWS signature of $input with the private key in $pem for $alg (ES256, EdDSA, RS256), via openssl.
sub pem_sign {
    my ($alg, $pem, $input) = @_;
    my $dir = tempdir(CLEANUP => 1);
    _spit("$dir/in", $input);
    my @cmd = $alg eq 'EdDSA'
        ? ('openssl', 'pkeyutl', '-sign', '-inkey', $pem, '-rawin', '-in', "$dir/in", '-out', "$dir/sig")
        : ('openssl', 'dgst', '-sha256', '-sign', $pem, '-out', "$dir/sig", "$dir/in");
    system(@cmd) == 0 or die "openssl sign failed: @cmd";
    my $sig = _slurp("$dir/sig");
    return $alg eq 'ES256' ? _der_to_raw($sig) : $sig;
}

# 1 when openssl verifies the compact JWS $token with the public key in $pub for $alg.
sub pem_verify {
    my ($alg, $pub, $token) = @_;
    my ($h, $p, $s) = split /\./, $token // '', -1;
    return 0 unless defined $s;
    my $sig = b64url_dec($s) // return 0;
    $sig = _raw_to_der($sig) if $alg eq 'ES256';
    my $dir = tempdir(CLEANUP => 1);
    _spit("$dir/in", "$h.$p");
    _spit("$dir/sig", $sig);
    my @cmd = $alg eq 'EdDSA'
        ? ('openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', $pub, '-rawin', '-in', "$dir/in",
           '-sigfile', "$dir/sig")
        : ('openssl', 'dgst', '-sha256', '-verify', $pub, '-signature', "$dir/sig", "$dir/in");
    return system(join(' ', map { "'$_'" } @cmd) . ' >/dev/null 2>&1') == 0 ? 1 : 0;
}

# A compact JWS over header and payload (structures) signed with a PEM private key.
sub jwt_pem {
    my ($alg, $pem, $header, $payload) = @_;
    my $si = b64url(enc($header)) . '.' . b64url(enc($payload));
    return $si . '.' . b64url(pem_sign($alg, $pem, $si));
}

# The value a response sets for cookie $name ('' when it deletes it, undef when it does not set it).
sub cookie_value {
    my ($res, $name) = @_;
    my $line = set_cookie($res, $name);
    return undef unless defined $line;
    return cookie_attrs($line)->{value} // '';
}

# 1 when the response expires all three cookies (Max-Age=0).
sub expired_all {
    my $res = shift;
    my @gone = grep { (cookie_attrs(set_cookie($res, $_))->{'max-age'} // -1) eq '0' }
               qw(accessToken refreshToken logged_in);
    return @gone == 3;
}

# The distinct statuses of $n auth.me calls (new connections, so they spread over the children) with one access
# token, e.g. "200" or "200,401". The caches' tests (t/52, t/54) check that every child answers alike.
my $me_ua;
sub me_codes {
    my ($token, $n) = @_;
    $me_ua //= bare_ua();
    my %seen = map { tget($me_ua, '/trpc/auth.me', undef, Cookie => "accessToken=$token")->code => 1 } 1 .. $n;
    return join ',', sort keys %seen;
}

sub sid_of { my (undef, $p) = jwt_decode(shift); ref $p eq 'HASH' ? $p->{sid} // '' : '' }
sub jti_of { my (undef, $p) = jwt_decode(shift); ref $p eq 'HASH' ? $p->{jti} // '' : '' }

# The session hash in Redis, as a Perl hash (empty when it does not exist).
sub session_hash {
    my ($uid, $sid) = @_;
    my @kv = redis('HGETALL', "trpcauth-test:{u:$uid}:s:$sid");
    return { @kv };
}

# Every Redis key of user $uid (they share the hash tag {u:<uid>}).
sub user_keys {
    my $uid = shift;
    return sort(redis('--scan', '--pattern', "trpcauth-test:{u:$uid}:*"));
}

# The keys of the suite without a TTL (should be none).
sub all_keys_have_ttl {
    my @no_ttl;
    for my $k (redis('--scan', '--pattern', 'trpcauth-test:*')) {
        my ($ttl) = redis('PTTL', $k);
        push @no_ttl, $k if defined $ttl && $ttl == -1;
    }
    return @no_ttl;
}

1;
