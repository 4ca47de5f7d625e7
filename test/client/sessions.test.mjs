// Sessions with the real @trpc/client (issue #3): 20 parallel auth.refreshAccessToken calls with the same cookie
// (Promise.all, httpLink: 20 HTTP requests) never trip reuse detection and the user stays logged in; auth.sessions
// comes back with Date objects under superjson; logout empties the cookie jar, logged_in included.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, v11Client, uniqueEmail, PASSWORD, ok, expectTRPCError, superjson, TRPC_SJ_URL } from './lib.mjs';

describe('refresh rotation, sessions and logout (v11)', () => {
  const browser = new Browser('sessions');
  const trpc = v11Client('httpLink', browser);
  const email = uniqueEmail('sess');

  test('register and log in', async () => {
    await ok(trpc.auth.register.mutate({ email, password: PASSWORD }), 'register');
    await ok(trpc.auth.login.mutate({ email, password: PASSWORD }), 'login');
    assert.ok(browser.jar.get('refreshToken'), 'refresh cookie set');
  });

  test('20 parallel refreshes with the same refresh cookie all succeed, and the user stays logged in', async () => {
    const before = browser.jar.get('refreshToken');
    const start = browser.requestCount;
    const results = await ok(Promise.all(Array.from({ length: 20 }, () => trpc.auth.refreshAccessToken.mutate())),
      '20 x refreshAccessToken');
    assert.equal(browser.requestCount - start, 20, 'httpLink: one HTTP request per call');
    for (const r of results) assert.deepEqual(r, { success: true });
    const sent = new Set(browser.exchanges.slice(start).map((x) => x.reqHeaders.cookie));
    assert.equal(sent.size, 1, 'every request carried the same cookies');
    const issued = new Set(browser.exchanges.slice(start)
      .flatMap((x) => x.setCookies.filter((c) => c.name === 'refreshToken').map((c) => c.value)));
    assert.equal(issued.size, 1, 'all 20 responses set the same new refresh token');
    assert.notEqual(browser.jar.get('refreshToken'), before, 'rotated');
    const me = await ok(trpc.auth.me.query(), 'auth.me after the parallel refreshes');
    assert.equal(me.email, email);
    await ok(trpc.auth.refreshAccessToken.mutate(), 'the kept refresh cookie still refreshes');
  });

  test('auth.sessions under superjson: Date objects, one current session', async () => {
    const sj = v11Client('httpBatchLink', browser, { url: TRPC_SJ_URL, transformer: superjson });
    const list = await ok(sj.auth.sessions.query(), 'auth.sessions');
    assert.equal(list.length, 1);
    assert.equal(list[0].current, true);
    assert.ok(list[0].createdAt instanceof Date && list[0].lastSeenAt instanceof Date, 'Dates');
    assert.equal(typeof list[0].id, 'string');
  });

  test('logout expires all three cookies and the session', async () => {
    const access = browser.jar.get('accessToken');
    assert.deepEqual(await ok(trpc.auth.logout.mutate(), 'logout'), { success: true });
    const gone = browser.last.setCookies.filter((c) => c.attrs['max-age'] === '0').map((c) => c.name).sort();
    assert.deepEqual(gone, ['accessToken', 'logged_in', 'refreshToken']);
    assert.equal(browser.jar.size, 0, 'the jar is empty');
    const stale = new Browser('stale');
    stale.jar.set('accessToken', access);
    await expectTRPCError(v11Client('httpLink', stale).auth.me.query(), { code: 'UNAUTHORIZED', httpStatus: 401 });
  });
});
