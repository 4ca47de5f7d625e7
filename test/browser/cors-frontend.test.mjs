// The tutorial frontend's situation in a real browser (headless Chromium): a page on http://localhost:3000 calls
// the module on another port of the same host name (http://localhost:<stack port>/trpc-frontend, configured by
// test/client/devstack-extra.conf: superjson, TrpcAuthCORSOrigin http://localhost:3000, TrpcAuthAutoRefresh On) with
// `credentials: "include"`, sending the tRPC v10 + superjson bytes of frontend-traffic.md §0.2. It proves:
//   - CORS: Chromium's preflights pass and the answers (errors included) are readable by the page;
//   - cookies: Chromium stores the login cookies from the API's port and sends them back (same site, host-only),
//     and they are visible to the app's own host (localhost:3000), where the Next.js middleware reads them;
//   - the in-place refresh: with accessToken and logged_in gone from the jar, the next call refreshes them;
//   - the same page on an origin that is not allowed gets "Failed to fetch" and no cookie.
// Each page is served by a tiny Node server started here, on 127.0.0.1 and ::1 (Chromium tries ::1 for localhost).
//
// Environment: TRPCAUTH_BASE_URL (default http://127.0.0.1:18080), CHROMIUM (default /usr/bin/chromium),
// FRONTEND_PAGE_PORT (default 3000: the origin the stack allows).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

const BASE = (process.env.TRPCAUTH_BASE_URL || 'http://127.0.0.1:18080').replace(/\/+$/, '');
const API_URL = new URL('/trpc-frontend', BASE.replace('//127.0.0.1', '//localhost')).href;
const API_ORIGIN = new URL(API_URL).origin;
const PAGE_PORT = Number(process.env.FRONTEND_PAGE_PORT || 3000);
const TIMEOUT = 15000;

// The page: the v10 client's wire format by hand (httpBatchLink, one operation, superjson 2.2.1 envelopes,
// content-type on GETs too), with fetch(..., {credentials: "include"}) as FT:frontend/src/lib/providers/trpc.tsx.
const PAGE = `<!doctype html><meta charset="utf-8"><title>Finance Tracker (CORS test page)</title>
<script>
const NO_INPUT = { json: null, meta: { values: ['undefined'] } };
async function call(api, path, kind, json, meta) {
  const envelope = json === undefined ? NO_INPUT : meta ? { json, meta } : { json };
  const init = { credentials: 'include', headers: { 'content-type': 'application/json' } };
  let url = api + '/' + path + '?batch=1';
  if (kind === 'query') url += '&input=' + encodeURIComponent(JSON.stringify({ 0: envelope }));
  else Object.assign(init, { method: 'POST', body: JSON.stringify({ 0: envelope }) });
  try {
    const res = await fetch(url, init);
    const item = (await res.json())[0];
    return { status: res.status, data: item.result ? item.result.data.json : undefined,
             error: item.error ? item.error.json.data.code : undefined };
  } catch (e) {
    return { failed: String(e) };
  }
}
window.journey = async (api, email, password) => {
  const out = {};
  out.register = await call(api, 'auth.register', 'mutation', { email, password });
  out.anonGetAll = await call(api, 'transaction.getAll', 'query');
  out.login = await call(api, 'auth.login', 'mutation', { email, password });
  out.create = await call(api, 'transaction.create', 'mutation',
    { amount: 7, txnType: 'Outgoing', summary: '', tag: null }, { values: { tag: ['undefined'] } });
  out.create2 = await call(api, 'transaction.create', 'mutation',
    { amount: 2500, txnType: 'Incoming', summary: 'November salary', tag: 'Salary' });
  out.getAll = await call(api, 'transaction.getAll', 'query');
  out.documentCookie = document.cookie;
  return out;
};
window.call = call;
</script>
<h1>CORS test page</h1>`;

let browser;
const servers = [];

/** Serves PAGE on port (0: any free one) of 127.0.0.1 and, when possible, ::1; returns the port. */
async function servePage(port) {
  const handler = (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(PAGE);
  };
  const v4 = createServer(handler);
  await new Promise((resolve, reject) => { v4.once('error', reject); v4.listen(port, '127.0.0.1', resolve); });
  servers.push(v4);
  const actual = v4.address().port;
  const v6 = createServer(handler);
  await new Promise((resolve) => { v6.once('error', () => resolve()); v6.listen(actual, '::1', resolve); });
  if (v6.listening) servers.push(v6);
  return actual;
}

before(async () => {
  try {
    await servePage(PAGE_PORT);
  } catch (e) {
    throw new Error(`cannot serve the test page on 127.0.0.1:${PAGE_PORT} (${e.code}): the stack allows the origin ` +
                    `http://localhost:${PAGE_PORT} only; free that port or set FRONTEND_PAGE_PORT and the stack's TrpcAuthCORSOrigin`);
  }
  const probe = await fetch(`${BASE}/trpc-frontend/auth.me`);
  await probe.arrayBuffer();
  assert.ok((probe.headers.get('content-type') || '').startsWith('application/json'),
    `${BASE}/trpc-frontend is not a tRPC endpoint: start the stack with TRPCAUTH_EXTRA_CONF=test/client/devstack-extra.conf`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  for (const s of servers) s.close();
});

const uniqEmail = (tag) => `${tag}-${Date.now()}-${process.pid}-${Math.floor(Math.random() * 1e9)}@example.com`;
const PASSWORD = 'cors-browser-password';

async function openPage(port) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.apiResponses = [];
  page.on('response', (res) => { if (res.url().startsWith(API_URL)) page.apiResponses.push(res); });
  await page.goto(`http://localhost:${port}/`);
  return { context, page };
}

const byName = (jar) => Object.fromEntries(jar.map((c) => [c.name, c]));

test('a page on http://localhost:3000 logs in, creates transactions and lists them through the module (CORS, credentials, cookies)', async () => {
  const { context, page } = await openPage(PAGE_PORT);
  try {
    const email = uniqEmail('cors-page');
    const out = await page.evaluate(([api, e, p]) => window.journey(api, e, p), [API_URL, email, PASSWORD]);
    assert.equal(out.register.failed, undefined, `register: ${out.register.failed}`);
    assert.equal(out.register.status, 200, JSON.stringify(out.register));
    assert.equal(out.register.data.user[0].email, email);
    assert.deepEqual([out.anonGetAll.status, out.anonGetAll.error], [401, 'UNAUTHORIZED'],
      `the 401 is readable by the page (CORS headers on errors): ${JSON.stringify(out.anonGetAll)}`);
    assert.deepEqual(out.login, { status: 200, data: { success: true }, error: undefined });
    assert.equal(out.create.status, 200, JSON.stringify(out.create));
    assert.equal(out.create.data[0].tag, 'Others', 'tag undefined -> Others');
    assert.equal(out.getAll.status, 200, JSON.stringify(out.getAll));
    assert.deepEqual(out.getAll.data.map((r) => [r.amount, r.txnType, r.tag]), [[2500, 'Incoming', 'Salary'], [7, 'Outgoing', 'Others']]);
    assert.equal(out.documentCookie, '', 'the cookies are HttpOnly: page scripts cannot read them');

    // Chromium kept the three cookies from the API's port (same site), host-only for localhost ...
    const api = byName(await context.cookies(API_ORIGIN));
    assert.deepEqual(Object.keys(api).sort(), ['accessToken', 'logged_in', 'refreshToken']);
    for (const c of Object.values(api)) {
      assert.equal(c.domain, 'localhost', `${c.name}: host-only cookie of localhost`);
      assert.equal(c.path, '/');
      assert.equal(c.httpOnly, true);
      assert.equal(c.sameSite, 'Strict');
    }
    // ... and, since cookies ignore ports, the app's own host sees them too: the Next.js middleware reads
    // refreshToken and logged_in there (frontend-traffic.md §0.4).
    const app = byName(await context.cookies(`http://localhost:${PAGE_PORT}`));
    assert.ok(app.refreshToken && app.logged_in, 'refreshToken and logged_in are sent to http://localhost:3000 too');

    // Every API response the page read carried the exact origin and credentials permission.
    assert.ok(page.apiResponses.length >= 6, `saw ${page.apiResponses.length} API responses`);
    for (const res of page.apiResponses) {
      const h = await res.allHeaders();
      assert.equal(h['access-control-allow-origin'], `http://localhost:${PAGE_PORT}`, `${res.url()}: origin`);
      assert.equal(h['access-control-allow-credentials'], 'true', `${res.url()}: credentials`);
    }

    // The access cookie and logged_in expire in the browser (simulated: removed); the refresh cookie is still there.
    // The next call is refreshed in place (TrpcAuthAutoRefresh On) and Chromium stores the new cookies.
    const refreshBefore = api.refreshToken.value;
    await context.clearCookies({ name: 'accessToken' });
    await context.clearCookies({ name: 'logged_in' });
    const again = await page.evaluate((a) => window.call(a, 'transaction.getAll', 'query'), API_URL);
    assert.equal(again.status, 200, JSON.stringify(again));
    assert.equal(again.data.length, 2);
    const after = byName(await context.cookies(API_ORIGIN));
    assert.ok(after.accessToken?.value, 'a new accessToken cookie was stored');
    assert.equal(after.logged_in?.value, 'true', 'logged_in=true was stored');
    assert.ok(after.refreshToken?.value, `refreshToken kept (was ${refreshBefore.slice(0, 12)}…)`);

    // auth.logout expires all three (logged_in included: no /login <-> / redirect loop in the app).
    const bye = await page.evaluate((a) => window.call(a, 'auth.logout', 'mutation'), API_URL);
    assert.deepEqual(bye, { status: 200, data: { success: true }, error: undefined });
    assert.deepEqual(await context.cookies(API_ORIGIN), [], 'the jar is empty after logout');
  } finally {
    await context.close();
  }
});

test('the same page on an origin that is not allowed: "Failed to fetch", no cookie stored, nothing created', async () => {
  const port = await servePage(0);
  const { context, page } = await openPage(port);
  try {
    const email = uniqEmail('cors-evil');
    const out = await page.evaluate(([api, e, p]) => window.journey(api, e, p), [API_URL, email, PASSWORD]);
    for (const step of ['register', 'anonGetAll', 'login', 'create', 'getAll']) {
      assert.match(out[step].failed ?? '', /TypeError: Failed to fetch/, `${step}: ${JSON.stringify(out[step])}`);
    }
    assert.deepEqual(await context.cookies(API_ORIGIN), [], 'no cookie from a refused response');
    // The page could not read the answers, and the module refused the mutations outright (a server-side check:
    // a non-browser client gets the same FORBIDDEN).
    const res = await fetch(`${API_URL}/auth.register?batch=1`, {
      method: 'POST', headers: { origin: `http://localhost:${port}`, 'content-type': 'application/json' },
      body: JSON.stringify({ 0: { json: { email, password: PASSWORD } } }),
    });
    assert.equal(res.status, 403);
    const login = await fetch(`${API_URL}/auth.login?batch=1`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 0: { json: { email, password: PASSWORD } } }),
    });
    assert.equal(login.status, 401, 'the account was never created');
  } finally {
    await context.close();
  }
});
