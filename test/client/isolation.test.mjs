// Two users in two browsers (two cookie jars) never see each other's data. CONTRACT §3: "A user only ever sees and
// changes their own rows and sessions."
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, v11Client, uniqueEmail, PASSWORD, ok, TRPCClientError } from './lib.mjs';

function refusedAsBadRequest(e) {
  assert.ok(e instanceof TRPCClientError, `unexpected failure: ${e?.stack ?? e}`);
  assert.equal(e.data?.code, 'BAD_REQUEST', `an unknown input key may only be refused as BAD_REQUEST: ${e.message}`);
}

describe('user isolation between two browsers (v11 httpBatchLink, plain JSON)', () => {
  const A = { browser: new Browser('userA'), email: uniqueEmail('isoa'), rows: [] };
  const B = { browser: new Browser('userB'), email: uniqueEmail('isob'), rows: [] };
  for (const x of [A, B]) x.trpc = v11Client('httpBatchLink', x.browser);

  test('users A and B register and log in, each in their own cookie jar', async () => {
    for (const x of [A, B]) {
      const reg = await ok(x.trpc.auth.register.mutate({ email: x.email, password: PASSWORD }), `register ${x.browser.name}`);
      x.id = reg.user[0].id;
      await ok(x.trpc.auth.login.mutate({ email: x.email, password: PASSWORD }), `login ${x.browser.name}`);
    }
    assert.notEqual(A.id, B.id);
    assert.notEqual(A.browser.jar.get('accessToken'), B.browser.jar.get('accessToken'));
  });

  test('auth.me of each browser returns its own user, also when both ask at the same time', async () => {
    assert.ok(A.id && B.id, 'needs both users');
    const [meA, meB] = await ok(Promise.all([A.trpc.auth.me.query(), B.trpc.auth.me.query()]), 'me A + me B');
    assert.equal(meA.id, A.id);
    assert.equal(meA.email, A.email);
    assert.equal(meB.id, B.id);
    assert.equal(meB.email, B.email);
  });

  test('user B never sees user A\'s rows in transaction.getAll', async () => {
    assert.ok(A.id && B.id, 'needs both users');
    for (const [amount, tag] of [[11, 'Food'], [22, 'Bill']]) {
      const [r] = await ok(A.trpc.transaction.create.mutate({ amount, txnType: 'Outgoing', summary: 'A only', tag }), 'create A');
      assert.equal(r.userId, A.id);
      A.rows.push(r);
    }
    const allB0 = await ok(B.trpc.transaction.getAll.query(), 'getAll B');
    assert.deepEqual(allB0, [], 'B has no rows of its own yet and must not see A\'s');

    const [rb] = await ok(B.trpc.transaction.create.mutate({ amount: 33, txnType: 'Incoming', summary: 'B only', tag: 'Salary' }), 'create B');
    assert.equal(rb.userId, B.id);
    B.rows.push(rb);

    const [allA, allB] = await ok(Promise.all([A.trpc.transaction.getAll.query(), B.trpc.transaction.getAll.query()]), 'getAll A + B');
    assert.deepEqual(allA.map((r) => r.id), A.rows.map((r) => r.id).reverse());
    assert.ok(allA.every((r) => r.userId === A.id), `A's list: ${JSON.stringify(allA)}`);
    assert.deepEqual(allB.map((r) => r.id), [rb.id]);
    assert.ok(allB.every((r) => r.userId === B.id), `B's list: ${JSON.stringify(allB)}`);
    const aIds = new Set(A.rows.map((r) => r.id));
    assert.ok(!allB.some((r) => aIds.has(r.id)), 'none of A\'s ids in B\'s list');
  });

  test('a user id sent in the input does not widen transaction.getAll or change the owner of a new row', async () => {
    assert.ok(A.rows.length === 2 && B.rows.length === 1, 'needs the rows of the previous test');
    // Extra keys are not part of the procedures' inputs; whatever the module does with them, it must not act on them.
    let allB;
    try {
      allB = await B.trpc.transaction.getAll.query({ userId: A.id });
    } catch (e) {
      refusedAsBadRequest(e); // refusing the unknown key is fine too
      allB = null;
    }
    if (allB !== null) assert.deepEqual(allB.map((r) => r.userId), [B.id]);
    let row = null;
    try {
      [row] = await B.trpc.transaction.create.mutate({ amount: 44, txnType: 'Outgoing', summary: 'owner?', tag: 'Food', userId: A.id });
    } catch (e) {
      refusedAsBadRequest(e);
      row = null;
    }
    if (row) {
      assert.equal(row.userId, B.id, 'a row is always owned by the caller');
      B.rows.push(row);
    }
    const allA = await ok(A.trpc.transaction.getAll.query(), 'getAll A');
    assert.deepEqual(allA.map((r) => r.id), A.rows.map((r) => r.id).reverse(), 'A\'s list is unchanged');
  });
});
