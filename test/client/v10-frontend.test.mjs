// The tutorial frontend's own client, unchanged: @trpc/client 10.45.2,
// createTRPCProxyClient({ transformer: superjson, links: [httpBatchLink({ url })] }) with superjson 2.2.1 (which writes
// no "v" in meta). CONTRACT §2, §11; frontend-traffic.md §0, §3.2–3.4, §6.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Browser, v10Client, uniqueEmail, PASSWORD, TRPC_SJ_URL, TRPCClientError10,
  assertDateNow, assertPositiveInt, expectTRPCError, ok, ROW_KEYS, USER_KEYS, sortedKeys,
} from './lib.mjs';

// frontend-traffic.md §3.3: the exact `input` of a no-input query from the v10 client with superjson 2.2.1
const NO_INPUT_BATCH = '{"0":{"json":null,"meta":{"values":["undefined"]}}}';

describe('tutorial frontend client (@trpc/client 10.45.2 + superjson 2.2.1, httpBatchLink) against the superjson endpoint', () => {
  const browser = new Browser('v10-frontend');
  const trpc = v10Client(browser);
  const email = uniqueEmail('v10');
  let user;
  const created = [];

  test('auth.register (POST ?batch=1, {"0":{"json":…}}) returns {success:true, user:[user]} with Dates', async () => {
    const before = browser.requestCount;
    const out = await ok(trpc.auth.register.mutate({ email, password: PASSWORD }), 'auth.register');
    const ex = browser.exchanges[before];
    assert.equal(ex.method, 'POST');
    assert.equal(new URL(ex.url).pathname, `${new URL(TRPC_SJ_URL).pathname}/auth.register`);
    assert.equal(new URL(ex.url).search, '?batch=1');
    assert.equal(ex.body, JSON.stringify({ 0: { json: { email, password: PASSWORD } } }), 'the frontend\'s bytes');
    assert.equal(ex.status, 200);
    assert.equal(out.success, true);
    assert.ok(Array.isArray(out.user) && out.user.length === 1, `user: ${JSON.stringify(out.user)}`);
    const u = out.user[0];
    assert.deepEqual(sortedKeys(u), USER_KEYS, `no password hash in the output: ${JSON.stringify(u)}`);
    assertPositiveInt(u.id, 'user.id');
    assert.equal(u.email, email);
    assertDateNow(u.createdAt, 'user.createdAt');
    user = u;
  });

  test('auth.login returns {success:true} and sets the three cookies', async () => {
    assert.ok(user, 'needs the user from auth.register');
    const out = await ok(trpc.auth.login.mutate({ email, password: PASSWORD }), 'auth.login');
    assert.deepEqual(out, { success: true });
    assert.deepEqual(browser.last.setCookies.map((c) => c.name).sort(), ['accessToken', 'logged_in', 'refreshToken']);
    assert.equal(browser.jar.get('logged_in'), 'true');
  });

  test('the v10 client sends content-type: application/json on its GET and the module accepts it (transaction.getAll of a new user is [])', async () => {
    assert.ok(user, 'needs the user from auth.register');
    const before = browser.requestCount;
    const all = await ok(trpc.transaction.getAll.query(), 'transaction.getAll');
    assert.equal(browser.requestCount, before + 1);
    const ex = browser.last;
    assert.equal(ex.method, 'GET');
    assert.equal(ex.reqHeaders['content-type'], 'application/json', 'v10 puts a JSON content-type on GETs');
    const u = new URL(ex.url);
    assert.equal(u.searchParams.get('batch'), '1');
    assert.equal(u.searchParams.get('input'), NO_INPUT_BATCH, 'superjson 2.2.1 "no input" envelope, without "v"');
    assert.equal(ex.status, 200);
    assert.deepEqual(all, []);
  });

  test('transaction.create.mutate({amount:7, txnType:"Outgoing", summary:"", tag:undefined}) stores tag "Others"', async () => {
    assert.ok(user, 'needs the user from auth.register');
    const before = browser.requestCount;
    const out = await ok(trpc.transaction.create.mutate({ amount: 7, txnType: 'Outgoing', summary: '', tag: undefined }), 'create');
    // frontend-traffic.md §3.4 run1 #13: exactly these bytes
    assert.equal(browser.exchanges[before].body,
      '{"0":{"json":{"amount":7,"txnType":"Outgoing","summary":"","tag":null},"meta":{"values":{"tag":["undefined"]}}}}');
    assert.ok(Array.isArray(out) && out.length === 1, `create output: ${JSON.stringify(out)}`);
    const row = out[0];
    assert.deepEqual(sortedKeys(row), ROW_KEYS);
    assert.equal(row.amount, 7);
    assert.equal(row.txnType, 'Outgoing');
    assert.equal(row.summary, '');
    assert.equal(row.tag, 'Others', 'the undefined annotation is applied, so the column default applies');
    assert.equal(row.userId, user.id);
    assertDateNow(row.createdAt, 'row.createdAt');
    created.push(row);
  });

  test('transaction.create with the UI\'s other inputs, then getAll lists them newest first with Dates and numeric amounts', async () => {
    assert.equal(created.length, 1, 'needs the row from the previous test');
    const [salary] = await ok(trpc.transaction.create.mutate({ amount: 2500, txnType: 'Incoming', summary: 'November salary', tag: 'Salary' }), 'create Salary');
    const [food] = await ok(trpc.transaction.create.mutate({ amount: 42, txnType: 'Outgoing', summary: 'Lunch', tag: 'Food' }), 'create Food');
    created.push(salary, food);
    const all = await ok(trpc.transaction.getAll.query(), 'getAll');
    assert.deepEqual(all.map((r) => r.id), created.map((r) => r.id).reverse());
    assert.deepEqual(all.map((r) => r.tag), ['Food', 'Salary', 'Others']);
    for (const r of all) {
      assert.equal(typeof r.amount, 'number', 'the UI calls amount.toFixed(2)');
      assert.ok(['Incoming', 'Outgoing'].includes(r.txnType));
      assertDateNow(r.createdAt, `row ${r.id}.createdAt`);
    }
    const balance = all.reduce((s, r) => s + (r.txnType === 'Incoming' ? r.amount : -r.amount), 0);
    assert.equal(balance, 2451, 'the dashboard\'s balance for these rows');
  });

  test('auth.me returns the logged-in user with Dates', async () => {
    assert.ok(user, 'needs the user from auth.register');
    const me = await ok(trpc.auth.me.query(), 'auth.me');
    assert.deepEqual(sortedKeys(me), USER_KEYS);
    assert.equal(me.id, user.id);
    assert.equal(me.email, email);
    assert.equal(me.emailVerified, false);
    assertDateNow(me.createdAt, 'me.createdAt');
    assertDateNow(me.updatedAt, 'me.updatedAt');
    assert.equal(browser.last.reqHeaders['content-type'], 'application/json');
  });

  test('the v10 client sees auth.me without cookies as TRPCClientError UNAUTHORIZED', async () => {
    const anon = new Browser('v10-anon');
    await expectTRPCError(v10Client(anon).auth.me.query(),
      { code: 'UNAUTHORIZED', httpStatus: 401, jsonRpc: -32001, path: 'auth.me' }, TRPCClientError10);
  });

  test('the v10 client sees a wrong password as UNAUTHORIZED "Invalid email or password"', async () => {
    assert.ok(user, 'needs the user from auth.register');
    const other = new Browser('v10-bad');
    await expectTRPCError(v10Client(other).auth.login.mutate({ email, password: 'wrong-password-1' }),
      { code: 'UNAUTHORIZED', httpStatus: 401, message: 'Invalid email or password', path: 'auth.login' }, TRPCClientError10);
    assert.equal(other.jar.size, 0);
  });
});
