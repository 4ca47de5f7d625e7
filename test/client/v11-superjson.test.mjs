// The real @trpc/client v11 with `transformer: superjson` on its links, against the superjson endpoint
// (TRPC_SJ_URL). CONTRACT §2 (transformer per location), §3 (Dates under superjson).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Browser, v11Client, v11Untyped, uniqueEmail, PASSWORD, TRPC_SJ_URL, superjson,
  assertDateNow, assertPositiveInt, expectTRPCError, ok, ROW_KEYS, USER_KEYS, sortedKeys,
} from './lib.mjs';

const sj = { url: TRPC_SJ_URL, transformer: superjson };

describe('@trpc/client v11 httpBatchLink + superjson against the superjson endpoint', () => {
  const browser = new Browser('v11-superjson');
  const trpc = v11Client('httpBatchLink', browser, sj);
  const email = uniqueEmail('sj');
  let user;
  const created = [];

  test('auth.register returns the user with createdAt/updatedAt as real Date objects', async () => {
    const out = await ok(trpc.auth.register.mutate({ email: ` ${email.toUpperCase()}`, password: PASSWORD }), 'auth.register');
    assert.equal(out.success, true);
    assert.ok(Array.isArray(out.user) && out.user.length === 1, `user: ${JSON.stringify(out.user)}`);
    const u = out.user[0];
    assert.deepEqual(sortedKeys(u), USER_KEYS);
    assertPositiveInt(u.id, 'user.id');
    assert.equal(u.email, email);
    assert.equal(u.emailVerified, false);
    assertDateNow(u.createdAt, 'user.createdAt');
    assertDateNow(u.updatedAt, 'user.updatedAt');
    user = u;
  });

  test('auth.login through superjson returns {success:true} and fills the cookie jar', async () => {
    assert.ok(user, 'needs the user from auth.register');
    const out = await ok(trpc.auth.login.mutate({ email, password: PASSWORD }), 'auth.login');
    assert.deepEqual(out, { success: true });
    assert.deepEqual([...browser.jar.keys()].sort(), ['accessToken', 'logged_in', 'refreshToken']);
  });

  test('auth.me returns the user with Date timestamps', async () => {
    assert.ok(user, 'needs the user from auth.register');
    const me = await ok(trpc.auth.me.query(), 'auth.me');
    assert.deepEqual(sortedKeys(me), USER_KEYS);
    assert.equal(me.id, user.id);
    assert.equal(me.email, email);
    assert.equal(me.emailVerified, false);
    assertDateNow(me.createdAt, 'me.createdAt');
    assertDateNow(me.updatedAt, 'me.updatedAt');
    assert.equal(me.createdAt.getTime(), user.createdAt.getTime());
    // with superjson even a query without input sends one (trpc-http-protocol.md §7)
    const input = JSON.parse(new URL(browser.last.url).searchParams.get('input'));
    assert.deepEqual(input['0']?.meta?.values, ['undefined'], `what the client sent: ${browser.last.url}`);
  });

  test('transaction.create returns [row] with Date createdAt/updatedAt', async () => {
    assert.ok(user, 'needs the user from auth.register');
    const out = await ok(trpc.transaction.create.mutate({ amount: 2500, txnType: 'Incoming', summary: 'Salary', tag: 'Salary' }), 'create');
    assert.ok(Array.isArray(out) && out.length === 1, `create output: ${JSON.stringify(out)}`);
    const row = out[0];
    assert.deepEqual(sortedKeys(row), ROW_KEYS);
    assertPositiveInt(row.id, 'row.id');
    assert.equal(row.amount, 2500);
    assert.equal(row.txnType, 'Incoming');
    assert.equal(row.summary, 'Salary');
    assert.equal(row.tag, 'Salary');
    assert.equal(row.userId, user.id);
    assertDateNow(row.createdAt, 'row.createdAt');
    assertDateNow(row.updatedAt, 'row.updatedAt');
    created.push(row);
  });

  test('transaction.create without a tag, or with tag: undefined (superjson "undefined" annotation), stores "Others"', async () => {
    assert.equal(created.length, 1, 'needs the row from the previous test');
    const before = browser.requestCount;
    const [absent] = await ok(trpc.transaction.create.mutate({ amount: 42, txnType: 'Outgoing', summary: 'Lunch' }), 'create w/o tag');
    const [undef] = await ok(trpc.transaction.create.mutate({ amount: 7, txnType: 'Outgoing', summary: '', tag: undefined }), 'create tag undefined');
    const body = JSON.parse(browser.exchanges[before + 1].body);
    assert.deepEqual(body['0'].meta?.values, { tag: ['undefined'] }, `the client annotated tag as undefined: ${browser.exchanges[before + 1].body}`);
    assert.equal(body['0'].json.tag, null);
    assert.equal(absent.tag, 'Others');
    assert.equal(absent.summary, 'Lunch');
    assert.equal(undef.tag, 'Others', 'tag:null + meta {tag:["undefined"]} means "no tag", not NULL');
    assert.equal(undef.summary, '');
    assertDateNow(undef.createdAt, 'row.createdAt');
    created.push(absent, undef);
  });

  test('transaction.getAll returns Date timestamps, newest first', async () => {
    assert.equal(created.length, 3, 'needs the rows from the previous tests');
    const all = await ok(trpc.transaction.getAll.query(), 'getAll');
    assert.deepEqual(all.map((r) => r.id), created.map((r) => r.id).reverse());
    assert.deepEqual(all, [...created].reverse(), 'rows equal what create returned (Dates compared by value)');
    for (const r of all) {
      assertDateNow(r.createdAt, `row ${r.id}.createdAt`);
      assertDateNow(r.updatedAt, `row ${r.id}.updatedAt`);
    }
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].createdAt >= all[i].createdAt, 'createdAt non-increasing');
  });

  for (const linkName of ['httpLink', 'httpBatchStreamLink']) {
    test(`the same session read through ${linkName} + superjson gives the same rows with Dates`, async () => {
      assert.ok(created.length >= 3, 'needs the rows from the previous tests');
      const c = v11Client(linkName, browser, sj);
      const [me, all] = await ok(Promise.all([c.auth.me.query(), c.transaction.getAll.query()]), `${linkName} me + getAll`);
      assert.equal(me.id, user.id);
      assertDateNow(me.createdAt, 'me.createdAt');
      assert.deepEqual(all, [...created].reverse());
      const [row] = await ok(c.transaction.create.mutate({ amount: 1, txnType: 'Incoming', summary: linkName, tag: 'Bill' }), `${linkName} create`);
      assert.equal(row.tag, 'Bill');
      assert.equal(row.summary, linkName);
      assertDateNow(row.createdAt, 'row.createdAt');
      const again = await ok(trpc.transaction.getAll.query(), 'getAll');
      assert.equal(again[0].id, row.id, 'the new row is newest');
      created.length = 0;
      created.push(...[...again].reverse());
    });
  }

  for (const linkName of ['httpLink', 'httpBatchLink', 'httpBatchStreamLink']) {
    test(`errors stay typed under superjson (${linkName}): auth.me without cookies is UNAUTHORIZED 401`, async () => {
      const anon = new Browser(`sj-${linkName}-anon`);
      const err = await expectTRPCError(v11Client(linkName, anon, sj).auth.me.query(),
        { code: 'UNAUTHORIZED', httpStatus: 401, jsonRpc: -32001, path: 'auth.me' });
      assert.equal(err.data.zodError, null);
    });
  }

  test('errors stay typed under superjson: unknown path is NOT_FOUND 404', async () => {
    await expectTRPCError(v11Untyped('httpBatchLink', browser, sj).query('nope.doesNotExist'),
      { code: 'NOT_FOUND', httpStatus: 404, jsonRpc: -32004, path: 'nope.doesNotExist' });
  });

  test('errors stay typed under superjson: a 3-character password is BAD_REQUEST with zodError.fieldErrors.password', async () => {
    const err = await expectTRPCError(
      v11Client('httpBatchLink', new Browser('sj-short'), sj).auth.register.mutate({ email: uniqueEmail('sjshort'), password: 'abc' }),
      { code: 'BAD_REQUEST', httpStatus: 400, jsonRpc: -32600, path: 'auth.register' });
    const pw = err.data.zodError?.fieldErrors?.password;
    assert.ok(Array.isArray(pw) && pw.length > 0, `zodError: ${JSON.stringify(err.data.zodError)}`);
  });

  test('errors stay typed under superjson: duplicate registration is CONFLICT 409', async () => {
    assert.ok(user, 'needs the user from auth.register');
    await expectTRPCError(
      v11Client('httpBatchLink', new Browser('sj-dup'), sj).auth.register.mutate({ email, password: PASSWORD }),
      { code: 'CONFLICT', httpStatus: 409, jsonRpc: -32009, path: 'auth.register' });
  });

  test('errors stay typed under superjson: wrong password and unknown e-mail are UNAUTHORIZED "Invalid email or password"', async () => {
    assert.ok(user, 'needs the user from auth.register');
    const c = v11Client('httpBatchLink', new Browser('sj-bad'), sj);
    for (const input of [{ email, password: 'wrong-password-1' }, { email: uniqueEmail('sjnobody'), password: PASSWORD }]) {
      await expectTRPCError(c.auth.login.mutate(input),
        { code: 'UNAUTHORIZED', httpStatus: 401, jsonRpc: -32001, message: 'Invalid email or password', path: 'auth.login' });
    }
  });
});
