// The real @trpc/client v11 against the plain-JSON endpoint (TRPC_URL), once per HTTP link:
// httpLink, httpBatchLink and httpBatchStreamLink. CONTRACT §2, §3, §4.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Browser, v11Client, v11Untyped, uniqueEmail, PASSWORD, TRPC_URL, ACCESS_TTL, REFRESH_TTL,
  assertIsoNow, assertPositiveInt, expectTRPCError, ok, ROW_KEYS, USER_KEYS, sortedKeys,
} from './lib.mjs';

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function jwtPayload(tok) {
  return JSON.parse(Buffer.from(tok.split('.')[1], 'base64url').toString('utf8'));
}

/** Check one Set-Cookie from auth.login against CONTRACT §4. */
function checkLoginCookie(c, { httpOnly, maxAge }) {
  assert.equal(c.attrs.path, '/', `${c.name}: Path=/ expected in ${c.raw}`);
  assert.equal(String(c.attrs.samesite ?? '').toLowerCase(), 'strict', `${c.name}: SameSite=Strict expected in ${c.raw}`);
  assert.equal(c.attrs['max-age'], String(maxAge), `${c.name}: Max-Age=${maxAge} expected in ${c.raw}`);
  if (httpOnly) assert.equal(c.attrs.httponly, true, `${c.name}: HttpOnly expected in ${c.raw}`);
  assert.equal(c.attrs.domain, undefined, `${c.name}: no Domain by default, got ${c.raw}`);
  if (new URL(TRPC_URL).protocol === 'http:') {
    // The dev/test stack serves plain HTTP with TrpcAuthCookieSecure Off (CONTRACT §10); a Secure cookie would be
    // dropped by every browser there.
    assert.equal(c.attrs.secure, undefined, `${c.name}: no Secure on the plain-HTTP stack, got ${c.raw}`);
  }
}

for (const linkName of ['httpLink', 'httpBatchLink', 'httpBatchStreamLink']) {
  const batching = linkName !== 'httpLink';

  describe(`@trpc/client v11 ${linkName} against the plain JSON endpoint`, () => {
    const browser = new Browser(`v11-${linkName}`);
    const trpc = v11Client(linkName, browser);
    const email = uniqueEmail(linkName.toLowerCase());
    // Sent with surrounding blanks and upper case: the module must trim and lower-case it (CONTRACT §3).
    const typedEmail = `  ${email.replace(/^ct-/, 'CT-').replace('@example.com', '@Example.COM')}  `;
    let user; // from auth.register
    const created = []; // rows returned by transaction.create, oldest first

    test('auth.register returns {success:true, user:[user]} with the e-mail trimmed and lower-cased and no password hash', async () => {
      const out = await ok(trpc.auth.register.mutate({ email: typedEmail, password: PASSWORD }), 'auth.register');
      assert.equal(out.success, true);
      assert.ok(Array.isArray(out.user), `user must be an array (as the tutorial), got ${JSON.stringify(out.user)}`);
      assert.equal(out.user.length, 1);
      const u = out.user[0];
      assert.deepEqual(sortedKeys(u), USER_KEYS, `user keys: ${JSON.stringify(u)}`);
      assertPositiveInt(u.id, 'user.id');
      assert.equal(u.email, email);
      assert.equal(u.emailVerified, false);
      assertIsoNow(u.createdAt, 'user.createdAt');
      assertIsoNow(u.updatedAt, 'user.updatedAt');
      assert.equal(browser.jar.size, 0, `register must not log in: jar=${[...browser.jar.keys()]}`);
      user = u;
    });

    test('auth.login returns {success:true} and sets accessToken, refreshToken, logged_in (HttpOnly, Path=/, SameSite=Strict, Max-Age)', async () => {
      assert.ok(user, 'needs the user from auth.register');
      const before = browser.requestCount;
      // Different case and blanks again: the lookup normalises too.
      const out = await ok(trpc.auth.login.mutate({ email: ` ${email.toUpperCase()} `, password: PASSWORD }), 'auth.login');
      assert.deepEqual(out, { success: true });
      assert.equal(browser.requestCount, before + 1, 'login is one request');
      const ex = browser.last;
      assert.equal(ex.method, 'POST');
      assert.equal(ex.status, 200);
      const byName = {};
      for (const c of ex.setCookies) {
        assert.equal(byName[c.name], undefined, `cookie ${c.name} set twice: ${ex.setCookies.map((x) => x.raw).join(' | ')}`);
        byName[c.name] = c;
      }
      assert.deepEqual(Object.keys(byName).sort(), ['accessToken', 'logged_in', 'refreshToken'],
        `Set-Cookie names: ${ex.setCookies.map((x) => x.raw).join(' | ')}`);

      const at = byName.accessToken, rt = byName.refreshToken, li = byName.logged_in;
      assert.match(at.value, JWT, 'accessToken is a JWT');
      assert.match(rt.value, JWT, 'refreshToken is a JWT');
      assert.notEqual(at.value, rt.value);
      assert.equal(li.value, 'true');
      checkLoginCookie(at, { httpOnly: true, maxAge: ACCESS_TTL });
      checkLoginCookie(rt, { httpOnly: true, maxAge: REFRESH_TTL });
      checkLoginCookie(li, { httpOnly: false, maxAge: ACCESS_TTL });

      const ap = jwtPayload(at.value);
      assert.equal(ap.sub, String(user.id), `access sub must be the user id as a string: ${JSON.stringify(ap)}`);
      assert.ok(ap.sid !== undefined && ap.sid !== '', `access token carries sid: ${JSON.stringify(ap)}`);
      assert.equal(ap.exp - ap.iat, ACCESS_TTL, `access exp - iat: ${JSON.stringify(ap)}`);
      const rp = jwtPayload(rt.value);
      assert.equal(rp.sub, String(user.id));
      assert.equal(rp.sid, ap.sid, 'access and refresh token belong to the same session');
      assert.deepEqual([...browser.jar.keys()].sort(), ['accessToken', 'logged_in', 'refreshToken']);
    });

    test('auth.me returns the logged-in user: id, lower-cased e-mail, emailVerified false, ISO createdAt', async () => {
      assert.ok(user, 'needs the user from auth.register');
      const me = await ok(trpc.auth.me.query(), 'auth.me');
      assert.deepEqual(sortedKeys(me), USER_KEYS, `me keys: ${JSON.stringify(me)}`);
      assert.equal(me.id, user.id);
      assert.equal(me.email, email);
      assert.equal(me.emailVerified, false);
      assertIsoNow(me.createdAt, 'me.createdAt');
      assertIsoNow(me.updatedAt, 'me.updatedAt');
      assert.equal(me.createdAt, user.createdAt, 'me.createdAt equals what register returned');
      const ex = browser.last;
      assert.equal(ex.method, 'GET', 'a query is a GET');
      assert.ok(ex.reqHeaders.cookie?.includes('accessToken='), 'the jar sent the access cookie');
    });

    test('transaction.create returns an array of the one inserted row', async () => {
      assert.ok(user, 'needs the user from auth.register');
      const out = await ok(trpc.transaction.create.mutate({ amount: 2500, txnType: 'Incoming', summary: 'Salary', tag: 'Salary' }), 'transaction.create');
      assert.ok(Array.isArray(out), `create must return an array (as the tutorial), got ${JSON.stringify(out)}`);
      assert.equal(out.length, 1);
      const row = out[0];
      assert.deepEqual(sortedKeys(row), ROW_KEYS, `row keys: ${JSON.stringify(row)}`);
      assertPositiveInt(row.id, 'row.id');
      assert.equal(row.amount, 2500);
      assert.equal(row.txnType, 'Incoming');
      assert.equal(row.summary, 'Salary');
      assert.equal(row.tag, 'Salary');
      assert.equal(row.userId, user.id);
      assertIsoNow(row.createdAt, 'row.createdAt');
      assertIsoNow(row.updatedAt, 'row.updatedAt');
      created.push(row);
    });

    test('transaction.create without a tag stores "Others"; getAll returns exactly the caller\'s rows, newest first', async () => {
      assert.equal(created.length, 1, 'needs the row from the previous test');
      const [food] = await ok(trpc.transaction.create.mutate({ amount: 42, txnType: 'Outgoing', summary: 'Lunch', tag: 'Food' }), 'create Food');
      const [others] = await ok(trpc.transaction.create.mutate({ amount: 7, txnType: 'Outgoing', summary: '' }), 'create without tag');
      assert.equal(food.tag, 'Food');
      assert.equal(others.tag, 'Others', 'a missing tag takes the column default');
      assert.equal(others.summary, '');
      created.push(food, others);

      const all = await ok(trpc.transaction.getAll.query(), 'transaction.getAll');
      assert.ok(Array.isArray(all), `getAll returns an array, got ${JSON.stringify(all)}`);
      assert.deepEqual(all.map((r) => r.id), created.map((r) => r.id).reverse(), 'newest first, nothing else');
      assert.deepEqual(all, [...created].reverse(), 'getAll rows equal the rows create returned');
      for (let i = 1; i < all.length; i++) {
        assert.ok(Date.parse(all[i - 1].createdAt) >= Date.parse(all[i].createdAt), 'createdAt non-increasing');
      }
    });

    test(batching
      ? 'auth.me and transaction.getAll issued together go in ONE batched GET and both resolve'
      : 'auth.me and transaction.getAll issued together go in two plain GETs (httpLink does not batch) and both resolve', async () => {
      assert.equal(created.length, 3, 'needs the rows from the previous tests');
      const before = browser.requestCount;
      const [me, all] = await ok(Promise.all([trpc.auth.me.query(), trpc.transaction.getAll.query()]), 'me + getAll');
      const sent = browser.exchanges.slice(before);
      assert.equal(sent.length, batching ? 1 : 2, `requests sent: ${sent.map((e) => e.url).join(' , ')}`);
      assert.equal(me.id, user.id);
      assert.equal(me.email, email);
      assert.deepEqual(all.map((r) => r.id), created.map((r) => r.id).reverse());
      for (const ex of sent) {
        assert.equal(ex.method, 'GET');
        assert.equal(ex.status, 200, `status of ${ex.url}`);
      }
      if (batching) {
        const u = new URL(sent[0].url);
        assert.equal(u.searchParams.get('batch'), '1');
        assert.ok(u.pathname.endsWith('/auth.me,transaction.getAll'), `batched path: ${u.pathname}`);
        if (linkName === 'httpBatchStreamLink') {
          assert.equal(sent[0].reqHeaders['trpc-accept'], 'application/jsonl', 'the stream link asks for JSONL');
        }
      }
    });

    test(batching
      ? 'two transaction.create mutations issued together go in ONE batched POST and both rows are stored'
      : 'two transaction.create mutations issued together go in two POSTs and both rows are stored', async () => {
      assert.equal(created.length, 3, 'needs the rows from the previous tests');
      const before = browser.requestCount;
      const [[a], [b]] = await ok(Promise.all([
        trpc.transaction.create.mutate({ amount: 100, txnType: 'Outgoing', summary: 'Train', tag: 'Travel' }),
        trpc.transaction.create.mutate({ amount: 300, txnType: 'Outgoing', summary: 'Shoes', tag: 'Shopping' }),
      ]), 'two creates');
      const sent = browser.exchanges.slice(before);
      assert.equal(sent.length, batching ? 1 : 2, `requests sent: ${sent.map((e) => e.url).join(' , ')}`);
      for (const ex of sent) assert.equal(ex.method, 'POST');
      assert.equal(a.tag, 'Travel');
      assert.equal(a.amount, 100);
      assert.equal(b.tag, 'Shopping');
      assert.equal(b.amount, 300);
      assert.notEqual(a.id, b.id);
      const all = await ok(trpc.transaction.getAll.query(), 'getAll');
      assert.equal(all.length, 5);
      assert.deepEqual(new Set(all.slice(0, 2).map((r) => r.id)), new Set([a.id, b.id]), 'the two new rows come first');
      assert.deepEqual(all.slice(2).map((r) => r.id), created.map((r) => r.id).reverse());
    });

    test('auth.me without cookies fails with TRPCClientError UNAUTHORIZED (401, -32001)', async () => {
      const anon = new Browser(`${linkName}-anon`);
      const err = await expectTRPCError(v11Client(linkName, anon).auth.me.query(),
        { code: 'UNAUTHORIZED', httpStatus: 401, jsonRpc: -32001, path: 'auth.me' });
      assert.equal(err.data.zodError, null, 'zodError is null on non-validation errors');
      assert.equal(anon.requestCount, 1);
      assert.equal(anon.last.reqHeaders.cookie, undefined, 'no cookie was sent');
      if (linkName !== 'httpBatchStreamLink') assert.equal(anon.last.status, 401, 'HTTP status');
    });

    test('an unknown procedure path fails with NOT_FOUND (404, -32004) via createTRPCUntypedClient', async () => {
      const u = v11Untyped(linkName, browser);
      const err = await expectTRPCError(u.query('nope.doesNotExist'),
        { code: 'NOT_FOUND', httpStatus: 404, jsonRpc: -32004, path: 'nope.doesNotExist' });
      assert.equal(err.data.zodError, null);
      if (linkName !== 'httpBatchStreamLink') assert.equal(browser.last.status, 404, 'HTTP status');
    });

    test('auth.register with a 3-character password fails with BAD_REQUEST and data.zodError.fieldErrors.password', async () => {
      const other = new Browser(`${linkName}-short`);
      const err = await expectTRPCError(
        v11Client(linkName, other).auth.register.mutate({ email: uniqueEmail('short'), password: 'abc' }),
        { code: 'BAD_REQUEST', httpStatus: 400, jsonRpc: -32600, path: 'auth.register' });
      const z = err.data.zodError;
      assert.ok(z && typeof z === 'object', `data.zodError must be an object, got ${JSON.stringify(z)}`);
      assert.ok(Array.isArray(z.formErrors), `zodError.formErrors is an array: ${JSON.stringify(z)}`);
      const pw = z.fieldErrors?.password;
      assert.ok(Array.isArray(pw) && pw.length > 0 && pw.every((m) => typeof m === 'string' && m.length > 0),
        `zodError.fieldErrors.password must be a non-empty array of messages: ${JSON.stringify(z)}`);
      assert.equal(z.fieldErrors.email, undefined, `the e-mail was valid: ${JSON.stringify(z)}`);
    });

    test('registering the same e-mail again (other case) fails with CONFLICT (409, -32009)', async () => {
      assert.ok(user, 'needs the user from auth.register');
      const other = new Browser(`${linkName}-dup`);
      const err = await expectTRPCError(
        v11Client(linkName, other).auth.register.mutate({ email: email.toUpperCase(), password: PASSWORD }),
        { code: 'CONFLICT', httpStatus: 409, jsonRpc: -32009, path: 'auth.register' });
      assert.equal(err.data.zodError, null);
    });

    test('a wrong password and an unknown e-mail both fail with UNAUTHORIZED "Invalid email or password" and set no cookies', async () => {
      assert.ok(user, 'needs the user from auth.register');
      const other = new Browser(`${linkName}-badlogin`);
      const c = v11Client(linkName, other);
      const e1 = await expectTRPCError(c.auth.login.mutate({ email, password: 'wrong-password-1' }),
        { code: 'UNAUTHORIZED', httpStatus: 401, jsonRpc: -32001, message: 'Invalid email or password', path: 'auth.login' });
      const e2 = await expectTRPCError(c.auth.login.mutate({ email: uniqueEmail('nobody'), password: PASSWORD }),
        { code: 'UNAUTHORIZED', httpStatus: 401, jsonRpc: -32001, message: 'Invalid email or password', path: 'auth.login' });
      assert.equal(e1.message, e2.message);
      assert.deepEqual(other.exchanges.flatMap((ex) => ex.setCookies.filter((s) => s.value !== '').map((s) => s.raw)), [],
        'a failed login sets no cookie');
      assert.equal(other.jar.size, 0);
    });
  });
}
