# The tRPC HTTP protocol (trpc-http-protocol.md §1-§5, CONTRACT §2): URL shapes, methods, batching and its status
# rule, request-level vs per-call errors, content-type gate, HEAD, response headers, malformed input, JSON Lines
# for httpBatchStreamLink, and the error shape with its key order.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use TrpcT;

plan tests => 78;

my ($ua, $email, $pw, $uid) = login_ua('proto');
my $anon = ua();
my ($r, $d);

# ---- queries (GET) and mutations (POST) ---------------------------------------------------------------------------

$r = tget($ua, '/trpc/auth.me');
is($r->code, 200, 'query: GET /trpc/auth.me') or diag show($r);
is_deeply([ sort keys %{ oget(dec($r), 'result', 'data') || {} } ],
          [qw(createdAt email emailVerified id updatedAt)], 'single call: {"result":{"data":{...}}}');

$r = tget($ua, '/trpc/auth.me', {});
is($r->code, 200, 'query with ?input= (ignored by a procedure without input)') or diag show($r);

$r = tget($ua, '/trpc/auth.me', \'{bad');
is($r->code, 200, 'malformed ?input= is not parsed by a procedure without input (inputs are lazy)') or diag show($r);

my $lua = ua();    # logs in; $anon never has cookies
$r = tpost($lua, '/trpc/auth.login', { email => $email, password => $pw });
is($r->code, 200, 'mutation: POST /trpc/auth.login with a JSON body') or diag show($r);
is_deeply(dec($r), { result => { data => { success => true } } }, 'mutation result envelope');

# ---- batches --------------------------------------------------------------------------------------------------------

$r = tget($ua, '/trpc/auth.me,transaction.getAll?batch=1', {});
is($r->code, 200, 'batch GET, all succeed -> 200') or diag show($r);
$d = dec($r);
is(ref $d, 'ARRAY', 'batch answer is an array');
is(scalar @{ ref $d eq 'ARRAY' ? $d : [] }, 2, 'one element per path');
is(oget($d, 0, 'result', 'data', 'email'), $email, 'element 0 is auth.me');
is(ref oget($d, 1, 'result', 'data'), 'ARRAY', 'element 1 is transaction.getAll');

my $e1 = uniq_email('batch-a');
$r = tpost($anon, '/trpc/auth.register,auth.register,auth.register?batch=1',
           { 0 => { email => $e1, password => 'batch-password-1' },
             1 => { email => 'not-an-email', password => 'batch-password-2' },
             2 => { email => $e1, password => 'batch-password-3' } });
is($r->code, 207, 'batch POST with success and errors -> 207') or diag show($r);
$d = dec($r);
is(oget($d, 0, 'result', 'data', 'user', 0, 'email'), $e1, 'batch inputs {"0":..} go to the calls in order (0)');
err_is(oget($d, 1), 'BAD_REQUEST', 'auth.register', 'batch element 1: per-call BAD_REQUEST with path');
err_is(oget($d, 2), 'TOO_MANY_REQUESTS', 'auth.register',
       'batch element 2: a second call that would run bcrypt in one request is refused');

$r = tget($anon, '/trpc/auth.me,auth.me?batch=1', {});
is($r->code, 401, 'batch of two UNAUTHORIZED -> 401') or diag show($r);
$d = dec($r);
is(ref $d, 'ARRAY', '... with an array body');
err_is(oget($d, 0), 'UNAUTHORIZED', 'auth.me', '... element 0');
err_is(oget($d, 1), 'UNAUTHORIZED', 'auth.me', '... element 1');

$r = tget($ua, '/trpc/auth.me,nope?batch=1', {});
is($r->code, 207, 'batch with success + unknown procedure -> 207') or diag show($r);
err_is(oget(dec($r), 1), 'NOT_FOUND', 'nope', 'unknown procedure in a batch: NOT_FOUND for that call only');

$r = tget($anon, '/trpc/auth.me?batch=1');
is($r->code, 401, 'batch of one without input param') or diag show($r);
is(ref dec($r), 'ARRAY', 'a batch of one is still an array');

$r = tget($anon, '/trpc/auth.me?batch=true');
is(ref dec($r), 'HASH', '?batch=true is not a batch (single object)') or diag show($r);

# ---- unknown and empty paths ---------------------------------------------------------------------------------------

$r = tget($anon, '/trpc/x');
is($r->code, 404, 'unknown procedure -> 404') or diag show($r);
err_is(dec($r), 'NOT_FOUND', 'x', 'NOT_FOUND, code -32004, data.path', 'No procedure found on path "x"');

$r = tget($anon, '/trpc/');
is($r->code, 404, 'empty path -> 404') or diag show($r);
err_is(dec($r), 'NOT_FOUND', '', 'empty path message', 'No procedure found on path ""');

$r = tget($anon, '/trpc/auth');
err_is(dec($r), 'NOT_FOUND', 'auth', 'a router (not a procedure) is not found') or diag show($r);

# ---- method checks -------------------------------------------------------------------------------------------------

$r = tget($anon, '/trpc/auth.login', {});
is($r->code, 405, 'GET to a mutation -> 405') or diag show($r);
is($r->header('Allow'), 'POST', '... with Allow: POST');
err_is(dec($r), 'METHOD_NOT_SUPPORTED', 'auth.login', '... METHOD_NOT_SUPPORTED',
       'Unsupported GET-request to mutation procedure at path "auth.login"');

$r = tpost($ua, '/trpc/auth.me', {});
is($r->code, 405, 'POST to a query -> 405') or diag show($r);
is($r->header('Allow'), 'GET', '... with Allow: GET');
err_is(dec($r), 'METHOD_NOT_SUPPORTED', 'auth.me', '... METHOD_NOT_SUPPORTED',
       'Unsupported POST-request to query procedure at path "auth.me"');

$r = req($anon, 'PUT', '/trpc/auth.login', headers => ['Content-Type' => 'application/json'], body => '{}');
is($r->code, 405, 'PUT to a mutation -> 405') or diag show($r);
err_is(dec($r), 'METHOD_NOT_SUPPORTED', 'auth.login', '... METHOD_NOT_SUPPORTED',
       'Unsupported PUT-request to mutation procedure at path "auth.login"');

# ---- content-type gate ---------------------------------------------------------------------------------------------

$r = req(ua(), 'POST', '/trpc/auth.login', body => enc({ email => $email, password => $pw }));
is($r->code, 415, 'POST without content-type -> 415') or diag show($r);
err_is(dec($r), 'UNSUPPORTED_MEDIA_TYPE', undef, '... one request-level error without data.path',
       'Missing content-type header');
ok(!defined set_cookie($r, 'accessToken'), '... and the login did not happen');

$r = req(ua(), 'POST', '/trpc/auth.login,auth.login?batch=1', headers => ['Content-Type' => 'text/plain'],
         body => enc({ 0 => { email => $email, password => $pw } }));
is($r->code, 415, 'POST text/plain (batch) -> 415') or diag show($r);
$d = dec($r);
is(ref $d, 'HASH', '... a single object even for a batch');
like(oget($d, 'error', 'message') // '', qr/^Unsupported content-type "text\/plain/, '... message names the type');

$r = tpost($lua, '/trpc/auth.login', { email => $email, password => $pw }, 'Content-Type' => 'Application/JSON; charset=utf-8');
is($r->code, 200, 'content-type match ignores case and parameters') or diag show($r);

$r = tget($ua, '/trpc/auth.me', undef, 'Content-Type' => 'application/json');
is($r->code, 200, 'GET with content-type: application/json (tRPC v10 client) is accepted') or diag show($r);

# ---- HEAD and response headers ---------------------------------------------------------------------------------------

$r = req($anon, 'HEAD', '/trpc/auth.me');
is($r->code, 204, 'HEAD -> 204') or diag show($r);
is($r->content, '', '... with no body');

$r = tget($ua, '/trpc/auth.me');
like(join(',', $r->header('Vary')), qr/\btrpc-accept\b/i, 'Vary contains trpc-accept') or diag show($r);
like(scalar $r->header('Content-Type') // '', qr{^application/json\s*\z}i, 'content-type: application/json');
$r = tget($anon, '/trpc/nope');
like(scalar $r->header('Content-Type') // '', qr{^application/json\s*\z}i, 'errors are application/json too');
like(join(',', $r->header('Vary')), qr/\btrpc-accept\b/i, 'errors carry Vary: trpc-accept too');

# ---- malformed input -------------------------------------------------------------------------------------------------

$r = tpost($anon, '/trpc/auth.login', \'{bad');
is($r->code, 400, 'malformed JSON body -> 400') or diag show($r);
err_is(dec($r), 'BAD_REQUEST', 'auth.login', '... BAD_REQUEST for the call (not PARSE_ERROR)');

$r = tpost($anon, '/trpc/auth.login,auth.register?batch=1', \'{bad');
is($r->code, 400, 'malformed JSON in a batch -> 400') or diag show($r);
$d = dec($r);
err_is(oget($d, 0), 'BAD_REQUEST', 'auth.login', '... per call (0)');
err_is(oget($d, 1), 'BAD_REQUEST', 'auth.register', '... per call (1)');

$r = tget($anon, '/trpc/auth.login?batch=1', \'{bad');
# GET to a mutation with bad input: the method check wins, the input is never read
is($r->code, 405, 'GET batch to a mutation with bad input -> 405 (input never read)') or diag show($r);

$r = tpost($anon, '/trpc/auth.login?batch=1', [1]);
is($r->code, 400, 'batch input that is an array -> 400') or diag show($r);
err_is(oget(dec($r), 0), 'BAD_REQUEST', 'auth.login', '... per call, with the tRPC message',
       '"input" needs to be an object when doing a batch call');

$r = tpost($anon, '/trpc/auth.login?batch=1', 5);
err_is(oget(dec($r), 0), 'BAD_REQUEST', 'auth.login', 'batch input that is a number -> per-call 400',
       '"input" needs to be an object when doing a batch call') or diag show($r);

$r = tpost($anon, '/trpc/auth.login?batch=1', {});
is($r->code, 400, 'batch with the entry "0" missing: undefined input -> 400') or diag show($r);
err_is(oget(dec($r), 0), 'BAD_REQUEST', 'auth.login', '... validation error');

# ---- httpBatchStreamLink (JSON Lines) -------------------------------------------------------------------------------

$r = tget($ua, '/trpc/auth.me?batch=1', {}, 'trpc-accept' => 'application/jsonl');
is($r->code, 200, 'trpc-accept: application/jsonl with batch=1 -> 200') or diag show($r);
my $body = $r->content;
like($body, qr/\A\{"0":\[\[\{.*\}\]\]\}\n\z/s, 'body is one JSONL head line, newline-terminated');
my @lines = split /\n/, $body;
is(scalar @lines, 1, 'exactly one line');
is(oget(dec($lines[0] // ''), '0', 0, 0, 'result', 'data', 'email'), $email, 'head {"0":[[{"result":{"data":...}}]]}');

$r = tget($anon, '/trpc/auth.me,nope?batch=1', {}, 'trpc-accept' => 'application/jsonl');
is($r->code, 200, 'streamed batch with errors is still 200') or diag show($r);
$d = dec((split /\n/, $r->content)[0] // '');
err_is(oget($d, '1', 0, 0), 'NOT_FOUND', 'nope', 'errors are inline in the head');

$r = tget($ua, '/trpc/auth.me', undef, 'trpc-accept' => 'application/jsonl');
is($r->code, 400, 'jsonl without batch=1 -> 400') or diag show($r);
err_is(dec($r), 'BAD_REQUEST', undef, '... request-level error',
       'Streaming requests must be batched (you can do a batch of 1)');

# ---- error shape and key order ---------------------------------------------------------------------------------------

$r = tget($anon, '/trpc/x');
is_deeply(okeys($r->content), ['error'], 'error envelope: {"error":...}') or diag show($r);
is_deeply(okeys($r->content, 'error'), [qw(message code data)], 'error keys in order: message, code, data');
is_deeply(okeys($r->content, 'error', 'data'), [qw(code httpStatus path zodError)],
          'data keys in order: code, httpStatus, path, zodError');
is_deeply(dec($r), { error => { message => 'No procedure found on path "x"', code => -32004,
                                data => { code => 'NOT_FOUND', httpStatus => 404, path => 'x', zodError => undef } } },
          'whole NOT_FOUND object, zodError null');

$r = tpost($anon, '/trpc/auth.register', { email => 'nope', password => 'long-enough-password' });
is($r->code, 400, 'validation error -> 400') or diag show($r);
is_deeply(okeys($r->content, 'error', 'data'), [qw(code httpStatus path zodError)], 'validation error: same key order');
is_deeply(okeys($r->content, 'error', 'data', 'zodError'), [qw(formErrors fieldErrors)],
          'zodError = {formErrors, fieldErrors}');
$d = dec($r);
ok(ref oget($d, qw(error data zodError formErrors)) eq 'ARRAY'
   && ref oget($d, qw(error data zodError fieldErrors email)) eq 'ARRAY'
   && @{ oget($d, qw(error data zodError fieldErrors email)) } >= 1
   && !grep({ ref $_ || !length } @{ oget($d, qw(error data zodError fieldErrors email)) }),
   'zodError.fieldErrors.email is a list of messages') or diag show($r);
