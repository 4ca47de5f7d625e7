package TrpcT;
# Helpers shared by the Apache::Test files t/*.t of mod_trpcauth: an HTTP client that speaks tRPC over LWP,
# JSON with key order, Set-Cookie and JWT parsing, and redis-cli on the test stack's Redis.
#
# The helpers that check something (err_is, ...) run exactly ONE Test::More assertion each, so the
# plans of the .t files stay easy to count.
use strict;
use warnings;

use Exporter 'import';
use Apache::Test ();
use Apache::TestRequest ();
use Test::More ();
use LWP::UserAgent ();
use HTTP::Request ();
use HTTP::Cookies ();
use JSON::PP ();
use Time::HiRes ();
use URI::Escape qw(uri_escape_utf8);
use MIME::Base64 qw(encode_base64 decode_base64);
use Digest::SHA qw(hmac_sha256 sha256_hex);

our @EXPORT = qw(
    J enc dec base ua bare_ua req tget tpost show
    uniq_email register login login_ua
    err_is okeys oget ISO_RE
    set_cookie cookie_attrs jar_cookie
    jwt_decode jwt_sign b64url b64url_dec key_bytes
    redis redis_session_keys error_log log_until
    moddir metrics
    true false
);

# httpd's modules directory, for the tests that write a configuration of their own: what t/run-apache-test
# found (apxs -q LIBEXECDIR), else apxs asked here.
sub moddir {
    return $ENV{TRPCAUTH_TEST_LIBEXECDIR} if $ENV{TRPCAUTH_TEST_LIBEXECDIR};
    my $apxs = Apache::Test::vars('apxs') || 'apxs';
    chomp(my $dir = `$apxs -q LIBEXECDIR 2>/dev/null`);
    return $dir;
}

use constant ISO_RE => qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/;

sub true  () { JSON::PP::true }
sub false () { JSON::PP::false }

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
sub J { $JSON }

sub enc { $JSON->encode($_[0]) }

# Decoded JSON body of a response (or of a string); undef when it is not JSON.
sub dec {
    my $x = shift;
    my $text = ref $x ? $x->content : $x;
    return undef unless defined $text && length $text;
    my $v = eval { $JSON->decode($text) };
    return $v;
}

sub base { 'http://' . Apache::TestRequest::hostport(Apache::Test::config()) }

# A client with its own cookie jar that never follows redirects.
sub ua {
    my $ua = LWP::UserAgent->new(
        cookie_jar            => HTTP::Cookies->new,
        requests_redirectable => [],
        timeout               => 30,
        keep_alive            => 0,
    );
    $ua->agent('trpcauth-apache-test/1.0');
    return $ua;
}

# A client without cookie jar: cookies are sent by hand in a Cookie header.
sub bare_ua {
    my $ua = LWP::UserAgent->new(requests_redirectable => [], timeout => 30, keep_alive => 0);
    $ua->agent('trpcauth-apache-test/1.0');
    return $ua;
}

# req($ua, $method, $path, headers => [k => v, ...], body => $bytes)
sub req {
    my ($ua, $method, $path, %o) = @_;
    my $r = HTTP::Request->new($method => ($path =~ m{^https?://} ? $path : base() . $path));
    my @h = @{ $o{headers} || [] };
    while (@h) {
        my ($k, $v) = splice @h, 0, 2;
        $r->push_header($k => $v);
    }
    if (defined $o{body}) {
        $r->content($o{body});
        # a code reference is sent chunked, without Content-Length
        $r->header('Content-Length' => length $o{body}) unless ref $o{body};
    }
    return $ua->request($r);
}

# Input for tget/tpost: a Perl structure (encoded as JSON), a reference to a string (sent as is), or undef (absent).
sub _input {
    my $in = shift;
    return undef unless defined $in;
    return ${$in} if ref $in eq 'SCALAR';
    return enc($in);
}

# tRPC query: GET $path[?...]&input=<urlencoded JSON>
sub tget {
    my ($ua, $path, $input, @headers) = @_;
    my $raw = _input($input);
    if (defined $raw) {
        $path .= (index($path, '?') >= 0 ? '&' : '?') . 'input=' . uri_escape_utf8($raw);
    }
    return req($ua, 'GET', $path, headers => \@headers);
}

# tRPC mutation: POST $path with content-type application/json and the input as body ('' when undef)
sub tpost {
    my ($ua, $path, $input, @headers) = @_;
    my $raw = _input($input);
    my %h = @headers;
    my $has_ct = grep { lc $_ eq 'content-type' } keys %h;
    return req($ua, 'POST', $path,
               headers => [($has_ct ? () : ('Content-Type' => 'application/json')), @headers],
               body    => defined $raw ? $raw : '');
}

# The module's Prometheus page (SetHandler trpcauth-metrics) at $where (a path of the suite's server, or a URL):
# ({ 'name{labels}' => value }, the response).
sub metrics {
    my $where = shift // '/trpcauth-metrics';
    my $r = req(bare_ua(), 'GET', $where);
    my %m;
    for (split /\n/, $r->content) {
        next if /^#/ || !length;
        my ($k, $v) = /^(\S+) (\S+)$/ or next;
        $m{$k} = $v;
    }
    return (\%m, $r);
}

# One-line-ish description of a response, for diagnostics.
sub show {
    my $res = shift;
    return 'no response' unless $res;
    my $req = $res->request;
    my $body = $res->content // '';
    $body = substr($body, 0, 1500) . '...' if length $body > 1500;
    my $hdrs = $res->headers->as_string;
    $hdrs =~ s/^/    /mg;
    return sprintf("%s %s\n  -> %s\n%s    %s", $req ? $req->method : '?', $req ? $req->uri : '?',
                   $res->status_line, $hdrs, $body);
}

my $seq = 0;
sub uniq_email {
    my $tag = shift // 'u';
    $seq++;
    return sprintf('%s-%d-%d-%d-%d@example.com', $tag, time, $$, $seq, int(rand(1_000_000_000)));
}

sub register {
    my ($ua, $email, $pw, $base) = @_;
    return tpost($ua, ($base // '/trpc') . '/auth.register', { email => $email, password => $pw });
}

sub login {
    my ($ua, $email, $pw, $base) = @_;
    return tpost($ua, ($base // '/trpc') . '/auth.login', { email => $email, password => $pw });
}

# A fresh user, registered and logged in: returns ($ua, $email, $password, $user_id).
sub login_ua {
    my $tag = shift // 'u';
    my $ua = ua();
    my $email = uniq_email($tag);
    my $pw = 'pw-' . int(rand(1e9)) . '-secret';
    my $r = register($ua, $email, $pw);
    my $d = dec($r);
    my $id = eval { $d->{result}{data}{user}[0]{id} };
    Test::More::diag('register failed: ' . show($r)) unless $r->code == 200;
    my $l = login($ua, $email, $pw);
    Test::More::diag('login failed: ' . show($l)) unless $l->code == 200;
    return ($ua, $email, $pw, $id);
}

my %CODES = (
    PARSE_ERROR            => [-32700, 400],
    BAD_REQUEST            => [-32600, 400],
    UNAUTHORIZED           => [-32001, 401],
    FORBIDDEN              => [-32003, 403],
    NOT_FOUND              => [-32004, 404],
    METHOD_NOT_SUPPORTED   => [-32005, 405],
    CONFLICT               => [-32009, 409],
    PAYLOAD_TOO_LARGE      => [-32013, 413],
    UNSUPPORTED_MEDIA_TYPE => [-32015, 415],
    TOO_MANY_REQUESTS      => [-32029, 429],
    INTERNAL_SERVER_ERROR  => [-32603, 500],
    SERVICE_UNAVAILABLE    => [-32603, 503],
);

# err_is($envelope, 'UNAUTHORIZED', 'auth.me' | undef, $name [, $message])
# ONE assertion: $envelope is {"error":{message,code,data:{code,httpStatus,path?}}} with the numbers of the
# code table; data.path equals $path, or is absent when $path is undef; message equals $message when given.
sub err_is {
    my ($env, $key, $path, $name, $message) = @_;
    my $e = ref $env eq 'HASH' ? $env->{error} : undef;
    my $got;
    if (ref $e eq 'HASH' && ref $e->{data} eq 'HASH') {
        my $d = $e->{data};
        $got = {
            code       => $e->{code},
            data_code  => $d->{code},
            httpStatus => $d->{httpStatus},
            path       => exists $d->{path} ? $d->{path} : '<absent>',
            message    => defined $message ? $e->{message}
                        : (defined $e->{message} && !ref $e->{message} && length $e->{message} ? 'a string' : $e->{message}),
        };
    }
    else {
        $got = $env;
    }
    my $c = $CODES{$key} or die "unknown code $key";
    my $exp = {
        code       => $c->[0],
        data_code  => $key,
        httpStatus => $c->[1],
        path       => defined $path ? $path : '<absent>',
        message    => defined $message ? $message : 'a string',
    };
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::is_deeply($got, $exp, $name);
}

# Safe deep get: oget($data, 'result', 'data', 0, 'id')
sub oget {
    my ($v, @path) = @_;
    for my $k (@path) {
        if (ref $v eq 'HASH') { $v = $v->{$k} }
        elsif (ref $v eq 'ARRAY' && $k =~ /^-?\d+\z/) { $v = $v->[$k] }
        else { return undef }
    }
    return $v;
}

# ---- JSON with key order ------------------------------------------------------------------------------------------
# okeys($json_text, @path): the keys, in wire order, of the object at @path (undef if there is none).

sub okeys {
    my ($text, @path) = @_;
    my $v = eval { my $p = 0; my $x = _ov(\$text, \$p); $x };
    return undef unless defined $v;
    for my $k (@path) {
        if (ref $v eq 'TrpcT::OObj') {
            my ($pair) = grep { $_->[0] eq $k } @$v;
            return undef unless $pair;
            $v = $pair->[1];
        }
        elsif (ref $v eq 'ARRAY') { $v = $v->[$k] }
        else { return undef }
    }
    return undef unless ref $v eq 'TrpcT::OObj';
    return [ map { $_->[0] } @$v ];
}

sub _ws { my ($t, $p) = @_; pos($$t) = $$p; $$t =~ /\G[ \t\r\n]*/gc; $$p = pos($$t) }

sub _ostr {
    my ($t, $p) = @_;
    pos($$t) = $$p;
    $$t =~ /\G("(?:[^"\\]|\\.)*")/gcs or die "string expected at $$p";
    $$p = pos($$t);
    return $JSON->decode($1);
}

sub _ov {
    my ($t, $p) = @_;
    _ws($t, $p);
    my $c = substr($$t, $$p, 1);
    if ($c eq '{') {
        $$p++;
        my @pairs;
        _ws($t, $p);
        if (substr($$t, $$p, 1) eq '}') { $$p++; return bless [], 'TrpcT::OObj' }
        while (1) {
            _ws($t, $p);
            my $k = _ostr($t, $p);
            _ws($t, $p);
            substr($$t, $$p++, 1) eq ':' or die "colon expected";
            push @pairs, [ $k, _ov($t, $p) ];
            _ws($t, $p);
            my $d = substr($$t, $$p++, 1);
            last if $d eq '}';
            $d eq ',' or die "comma expected";
        }
        return bless \@pairs, 'TrpcT::OObj';
    }
    if ($c eq '[') {
        $$p++;
        my @items;
        _ws($t, $p);
        if (substr($$t, $$p, 1) eq ']') { $$p++; return \@items }
        while (1) {
            push @items, _ov($t, $p);
            _ws($t, $p);
            my $d = substr($$t, $$p++, 1);
            last if $d eq ']';
            $d eq ',' or die "comma expected";
        }
        return \@items;
    }
    return _ostr($t, $p) if $c eq '"';
    pos($$t) = $$p;
    $$t =~ /\G(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/gc or die "value expected at $$p";
    $$p = pos($$t);
    return $1;
}

# ---- cookies ------------------------------------------------------------------------------------------------------

# The Set-Cookie line of a response for cookie $name (the first one), or undef.
sub set_cookie {
    my ($res, $name) = @_;
    for my $line ($res->header('Set-Cookie')) {
        return $line if $line =~ /^\s*\Q$name\E=/;
    }
    return undef;
}

# { value => ..., 'path' => '/', 'max-age' => 900, httponly => 1, ... } (attribute names lower-cased)
sub cookie_attrs {
    my $line = shift;
    return {} unless defined $line;
    my ($pair, @attrs) = split /;\s*/, $line;
    my %a;
    (undef, $a{value}) = split /=/, $pair, 2;
    for (@attrs) {
        my ($k, $v) = split /=/, $_, 2;
        $a{ lc $k } = defined $v ? $v : 1;
    }
    return \%a;
}

# The value of a cookie in a client's jar.
sub jar_cookie {
    my ($ua, $name) = @_;
    my $val;
    $ua->cookie_jar->scan(sub { $val = $_[2] if $_[1] eq $name });
    return $val;
}

# ---- JWT ----------------------------------------------------------------------------------------------------------

sub b64url {
    my $s = encode_base64(shift, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+\z//;
    return $s;
}

sub b64url_dec {
    my $s = shift;
    return undef unless defined $s && $s =~ /^[A-Za-z0-9_-]*\z/;
    $s =~ tr{-_}{+/};
    $s .= '=' x ((4 - length($s) % 4) % 4);
    return decode_base64($s);
}

# (header, payload) of a compact JWS, decoded; (undef, undef) when it is not one.
sub jwt_decode {
    my $tok = shift // '';
    my @p = split /\./, $tok, -1;
    return (undef, undef) unless @p == 3;
    return (dec(b64url_dec($p[0])), dec(b64url_dec($p[1])));
}

# The HS256 secret of the suite ('access' or 'refresh'), as the module reads it (trailing newline stripped).
sub key_bytes {
    my $which = shift;
    my $dir = Apache::Test::vars('trpc_keys');
    open my $fh, '<:raw', "$dir/$which.key" or die "$dir/$which.key: $!";
    local $/;
    my $k = <$fh>;
    $k =~ s/\r?\n\z//;
    return $k;
}

# An HS256 JWS over the given header and payload (structures), signed with $secret.
sub jwt_sign {
    my ($secret, $header, $payload) = @_;
    my $si = b64url(ref $header ? enc($header) : $header) . '.' . b64url(ref $payload ? enc($payload) : $payload);
    return $si . '.' . b64url(hmac_sha256($si, $secret));
}

# ---- Redis --------------------------------------------------------------------------------------------------------

sub redis {
    my @args = @_;
    my $port = Apache::Test::vars('trpc_redis_port');
    open my $fh, '-|', 'redis-cli', '-h', '127.0.0.1', '-p', $port, '--raw', @args
        or die "redis-cli: $!";
    my @out = <$fh>;
    close $fh;
    chomp @out;
    return @out;
}

# Redis keys of the suite (prefix trpcauth-test:) that belong to session $sid: the key names contain the sid,
# or a hex SHA-256 of it, or a hash field of the key holds it. Scans; the suite's prefix keeps it small.
sub redis_session_keys {
    my $sid = shift;
    my $h = sha256_hex($sid);
    my @all = redis('--scan', '--pattern', 'trpcauth-test:*');
    return grep { index($_, $sid) >= 0 || index($_, $h) >= 0 } @all;
}

sub error_log {
    my $f = Apache::Test::vars('t_logs') . '/error_log';
    open my $fh, '<', $f or return '';
    local $/;
    return scalar <$fh>;
}

# The text of the server's log file $name (in t/logs) once $done->(text) is true, or as it is after 5 s. httpd writes
# a request's access-log line after it has answered, so a test reads its own last requests' lines with this.
sub log_until {
    my ($name, $done) = @_;
    my $f = Apache::Test::vars('t_logs') . "/$name";
    my $text = '';
    for (my $end = Time::HiRes::time() + 5; ; Time::HiRes::sleep(0.1)) {
        $text = '';
        if (open my $fh, '<', $f) { local $/; $text = <$fh> // '' }
        last if $done->($text) || Time::HiRes::time() >= $end;
    }
    return $text;
}

1;
