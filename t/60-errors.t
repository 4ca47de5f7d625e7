# Bad input of any kind (CONTRACT §6) gets a clear tRPC error, never a crash, an HTML page or "Something went
# wrong": percent-encoded paths, deep nesting, invalid UTF-8, NUL bytes, SQL metacharacters, odd methods, a long
# URL; the server still answers afterwards and its error log shows no crashed child.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 24;

my ($r, $d);
my $anon = ua();

sub clean_error {    # ONE assertion: a tRPC error object with the given HTTP status, JSON, no "Something went wrong"
    my ($r, $status, $name) = @_;
    my $d = dec($r);
    my $e = ref $d eq 'ARRAY' ? $d->[0] : $d;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok($r->code == $status && ref $e eq 'HASH' && ref $e->{error} eq 'HASH'
       && ($e->{error}{data}{httpStatus} // 0) == $status
       && ($r->header('Content-Type') // '') =~ m{^application/json}i
       && ($e->{error}{message} // '') !~ /something went wrong/i, $name) or diag show($r);
}

$r = tget($anon, '/trpc/auth.me%2Cauth.me?batch=1', {});
is(scalar @{ ref dec($r) eq 'ARRAY' ? dec($r) : [] }, 2, 'percent-encoded comma: the path is split after decoding')
    or diag show($r);
$r = tget($anon, '/trpc/auth%2Eme');
is($r->code, 401, 'percent-encoded dot in the procedure path is decoded') or diag show($r);

clean_error(tpost($anon, '/trpc/auth.login', \('[' x 5000 . ']' x 5000)), 400, 'deeply nested JSON array -> 400');
clean_error(tpost($anon, '/trpc/auth.login', \('{"a":' x 3000 . '1' . '}' x 3000)), 400, 'deeply nested JSON object -> 400');
clean_error(tpost($anon, '/trpc/auth.register', \"{\"email\":\"\xff\xfe\@example.com\",\"password\":\"invalid-utf8-1\"}"),
            400, 'invalid UTF-8 in the body -> 400');
clean_error(tpost($anon, '/trpc/auth.register', \'{"email":"nul\u0000@example.com","password":"nul-password"}'),
            400, 'NUL byte (\\u0000) in the email -> 400');
clean_error(tpost($anon, '/trpc/auth.register', { email => uniq_email('nul'), password => "abc\x{0}defghij" }),
            400, 'NUL byte in the password -> 400');
clean_error(tpost($anon, '/trpc/auth.register', \"{\"email\":\"raw\0nul\@example.com\",\"password\":\"nul-password\"}"),
            400, 'raw NUL byte inside the JSON text -> 400');

$r = login($anon, q{' OR '1'='1' --@example.com}, q{' OR '1'='1});
ok($r->code == 400 || $r->code == 401, 'SQL metacharacters in the login email -> 400 or 401') or diag show($r);
$r = login($anon, q{x@example.com'; DROP TABLE users; --}, 'whatever-password');
ok($r->code == 400 || $r->code == 401, 'SQL injection attempt in the email -> 400 or 401') or diag show($r);

clean_error(tpost($anon, '/trpc/auth.login', { email => { '$ne' => '' }, password => [] }), 400,
            'objects and arrays where strings belong -> 400');
clean_error(tpost($anon, '/trpc/auth.login', \'"just a string"'), 400, 'a JSON string as input -> 400');
clean_error(tpost($anon, '/trpc/auth.login', \'null'), 400, 'null as input -> 400');
clean_error(tpost($anon, '/trpc/auth.login', \'{"email":"a@example.com","password":"x"} trailing'), 400,
            'trailing garbage after the JSON -> 400');
$r = tpost($anon, '/trpc/auth.register', { email => ('a' x 100_000) . '@example.com', password => 'long-enough' });
clean_error($r, $r->code == 413 ? 413 : 400, '100 KB email -> 400 (validation) or 413 (TrpcAuthMaxBodySize 64 KB)');

$r = req($anon, 'DELETE', '/trpc/auth.me', headers => ['Content-Type' => 'application/json']);
clean_error($r, 405, 'DELETE with a JSON content-type -> 405 per call');
$r = req($anon, 'PATCH', '/trpc/auth.login', headers => ['Content-Type' => 'text/plain'], body => 'x');
clean_error($r, 415, 'PATCH with text/plain -> 415');

$r = tget($anon, '/trpc/' . ('a' x 4000));
clean_error($r, 404, 'a 4000-character procedure path -> 404');

$r = tget($anon, '/trpc/' . join(',', ('auth.me') x 40) . '?batch=1', {});
clean_error($r, 400, '40 calls with the default TrpcAuthMaxBatchSize 32 -> 400');

$r = tget($anon, '/trpc/auth.me?batch=1&batch=1&input=%7B%7D&input=%5B');
ok($r->code == 401 || $r->code == 400, 'repeated query parameters do not break the handler') or diag show($r);

$r = tget($anon, '/trpc/auth.me', undef, Cookie => 'accessToken=; refreshToken=; logged_in=true');
clean_error($r, 401, 'empty cookies -> 401');
$r = tget($anon, '/trpc/auth.me', undef, Cookie => 'accessToken="' . ('%' x 300) . '"');
clean_error($r, 401, 'a quoted junk cookie -> 401');

# ---- still alive, no crash --------------------------------------------------------------------------------------------

$r = tget(ua(), '/trpc/auth.me');
is($r->code, 401, 'the server still answers') or diag show($r);
my @crash = grep { /exit signal|Segmentation fault|AddressSanitizer|double free|stack smashing/i } split /\n/, error_log();
ok(!@crash, 'no child crashed (t/logs/error_log)') or diag join "\n", @crash[0 .. ($#crash < 9 ? $#crash : 9)];
