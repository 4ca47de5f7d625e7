// The development stack's pages in a real browser (headless Chromium): register and log in at /, the protected
// page /app/ (AuthType trpcauth) with its transactions and sessions, logout, and the redirect back to / once the
// session is gone. The tokens live in HttpOnly cookies that page scripts cannot read.
//
// Environment: TRPCAUTH_BASE_URL (default http://127.0.0.1:18080), CHROMIUM (default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, launchChromium } from './lib.mjs';

const OUT = join(dirname(fileURLToPath(import.meta.url)), 'out');
const TIMEOUT = 15000;

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
});

const uniqEmail = (tag) => `${tag}-${Date.now()}-${process.pid}-${Math.floor(Math.random() * 1e9)}@example.com`;
const PASSWORD = 'browser-test-password';

/** A fresh browser profile (own cookie jar) with one page; console errors are collected. */
async function newPage() {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => page.consoleErrors.push(String(e)));
  return { context, page };
}

/** Whether the server offers a procedure (NOT_FOUND means it does not exist yet). Asked without cookies, so a
 *  mutation such as auth.logout never runs for the browser's session. */
async function hasProcedure(path, kind) {
  const res = await fetch(`${BASE}/trpc/${path}`, kind === 'query' ? {}
    : { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return res.status !== 404;
}

const pathOf = (page) => { const u = new URL(page.url()); return u.pathname + u.search; };

/** Registers a new account through the form at / (which logs in and goes on to ?next=). */
async function registerThroughForm(page, email) {
  await page.click('#tab-register');
  await page.fill('#register-email', email);
  await page.fill('#register-password', PASSWORD);
  await page.click('#register-submit');
}

async function logInThroughForm(page, email) {
  await page.fill('#login-email', email);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
}

/** Two browser profiles logged in as one new user (the first registered through the form), both on /app/. */
async function twoBrowsersOfOneUser(tag) {
  const a = await newPage();
  const b = await newPage();
  const email = uniqEmail(tag);
  await a.page.goto('/');
  await registerThroughForm(a.page, email);
  await a.page.waitForURL('**/app/');
  await b.page.goto('/');
  await logInThroughForm(b.page, email);
  await b.page.waitForURL('**/app/');
  return [a, b];
}

test('register, log in, use /app/, log out: the whole journey in a browser', async (t) => {
  const { context, page } = await newPage();
  try {
    // Not logged in: the protected page sends the browser to the login page, remembering where it wanted to go.
    await page.goto('/app/');
    assert.equal(pathOf(page), '/?next=%2Fapp%2F', '/app/ redirects to / with next=/app/');
    await page.waitForSelector('#status:not([hidden])');
    assert.match(await page.textContent('#status'), /log in to open \/app\//i);

    // Register (the page logs in right after) and land on /app/.
    const email = uniqEmail('browser');
    await registerThroughForm(page, email);
    await page.waitForURL('**/app/');
    await page.waitForFunction((e) => document.getElementById('who').textContent === e, email);

    // The tokens are HttpOnly: in the jar, but invisible to page scripts.
    const jar = await context.cookies();
    const byName = Object.fromEntries(jar.map((c) => [c.name, c]));
    for (const name of ['accessToken', 'refreshToken']) {
      assert.ok(byName[name], `${name} cookie set`);
      assert.equal(byName[name].httpOnly, true, `${name} is HttpOnly`);
      assert.equal(byName[name].sameSite, 'Strict', `${name} is SameSite=Strict`);
    }
    const visible = await page.evaluate(() => document.cookie);
    assert.doesNotMatch(visible, /accessToken|refreshToken/, 'document.cookie shows no token');

    // Empty list, then add a transaction and see it listed (as text: markup in a summary stays text).
    await page.waitForSelector('#txns td.empty');
    assert.match(await page.textContent('#txns'), /No transactions yet/);
    const summary = 'Coffee <img src=x onerror="window.pwned=1"> & cake';
    await page.fill('#txn-amount', '42');
    await page.selectOption('#txn-type', 'Outgoing');
    await page.fill('#txn-summary', summary);
    await page.selectOption('#txn-tag', 'Food');
    await page.click('#txn-submit');
    await page.waitForSelector('#txns tr[data-id]');
    const row = await page.$$eval('#txns tr[data-id] td', (tds) => tds.map((td) => td.textContent));
    assert.equal(row[1], summary, 'summary shown verbatim');
    assert.equal(row[2], 'Food');
    assert.match(row[3], /^−\s*42$/, 'an expense of 42');
    assert.equal(await page.evaluate(() => window.pwned), undefined, 'no script ran from the summary');
    assert.match((await page.textContent('#sum-balance')).replace(/\s/g, ''), /^[-−]42$/, 'balance -42');

    // An invalid amount is refused with a message next to the field.
    await page.fill('#txn-amount', '4.5');
    await page.click('#txn-submit');
    assert.match(await page.textContent('[data-for="amount"]'), /whole number/i);

    // Sessions (auth.sessions): this browser is listed and marked.
    if (await hasProcedure('auth.sessions', 'query')) {
      await page.waitForSelector('#sessions tr[data-session-id]');
      assert.match(await page.textContent('#sessions'), /this browser/);
    } else {
      t.diagnostic('auth.sessions is not on this server yet: session list not checked');
    }

    // The picture of /app/ (test/browser/out/app.png), with the transaction and the session list.
    await page.reload();
    await page.waitForSelector('#txns tr[data-id]');
    await page.waitForFunction(() => !/Loading/.test(document.getElementById('sessions').textContent));
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'app.png'), fullPage: true });

    // Log out: back to / and the protected page is closed at once.
    if (!(await hasProcedure('auth.logout', 'mutation'))) {
      t.skip('auth.logout is not on this server yet');
      return;
    }
    await page.goto('/app/');
    await page.waitForFunction((e) => document.getElementById('who').textContent === e, email);
    await page.click('#logout');
    await page.waitForURL('**/?loggedout=1');
    assert.match(await page.textContent('#status'), /logged out/i);
    await page.goto('/app/');
    assert.equal(pathOf(page), '/?next=%2Fapp%2F', 'after logout /app/ redirects to / again');

    // Logging in again (the form, with next=/app/) opens /app/ with the transaction still there.
    await logInThroughForm(page, email);
    await page.waitForURL('**/app/');
    await page.waitForSelector('#txns tr[data-id]');
    assert.equal(await page.$$eval('#txns tr[data-id]', (r) => r.length), 1);
    assert.deepEqual(page.consoleErrors.filter((m) => !/401|Unauthorized/i.test(m)), [], 'no script errors');
  } finally {
    await context.close();
  }
});

test('the login page explains errors: wrong password, short password, duplicate email', async () => {
  const { context, page } = await newPage();
  try {
    const email = uniqEmail('errors');
    await page.goto('/');
    await registerThroughForm(page, email);
    await page.waitForURL('**/app/');

    const other = await newPage();
    try {
      await other.page.goto('/');
      await other.page.fill('#login-email', email);
      await other.page.fill('#login-password', 'not-the-password');
      await other.page.click('#login-submit');
      await other.page.waitForSelector('#status.status-error');
      assert.match(await other.page.textContent('#status'), /Invalid email or password/);

      await other.page.click('#tab-register');
      await other.page.fill('#register-email', uniqEmail('short'));
      await other.page.fill('#register-password', 'short');
      await other.page.click('#register-submit');
      await other.page.waitForFunction(() => document.querySelector('#register-form [data-for="password"]').textContent !== '');
      assert.match(await other.page.textContent('#status'), /correct the highlighted fields/i);

      await other.page.fill('#register-email', email);
      await other.page.fill('#register-password', PASSWORD);
      await other.page.click('#register-submit');
      await other.page.waitForFunction(() => /already exists/.test(document.getElementById('status').textContent));
    } finally {
      await other.context.close();
    }
  } finally {
    await context.close();
  }
});

test('?next= only ever leads to this site', async () => {
  const { context, page } = await newPage();
  try {
    const email = uniqEmail('next');
    await page.goto('/?next=' + encodeURIComponent('//evil.example/steal'));
    await registerThroughForm(page, email);
    await page.waitForURL('**/app/');
    assert.equal(new URL(page.url()).origin, new URL(BASE).origin, 'stayed on this origin');
  } finally {
    await context.close();
  }
});

test('revoking another session logs that browser out of /app/ at once', async (t) => {
  if (!(await hasProcedure('auth.revokeSession', 'mutation')) || !(await hasProcedure('auth.sessions', 'query'))) {
    t.skip('auth.sessions / auth.revokeSession are not on this server yet');
    return;
  }
  const [a, b] = await twoBrowsersOfOneUser('revoke');
  try {
    await a.page.reload();
    await a.page.waitForFunction(() => document.querySelectorAll('#sessions tr[data-session-id]').length === 2);
    await a.page.click('#sessions tr:not(:has(.badge)) button');
    await a.page.waitForFunction(() => /Session revoked/.test(document.getElementById('status').textContent));

    await b.page.goto('/app/');
    assert.equal(pathOf(b.page), '/?next=%2Fapp%2F', 'the revoked browser is sent to the login page');
    await a.page.goto('/app/');
    assert.equal(pathOf(a.page), '/app/', 'the other one stays logged in');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('"Log out everywhere" ends every session of the user at once', async (t) => {
  if (!(await hasProcedure('auth.logoutAll', 'mutation'))) {
    t.skip('auth.logoutAll is not on this server yet');
    return;
  }
  const [a, b] = await twoBrowsersOfOneUser('logoutall');
  try {
    a.page.once('dialog', (d) => d.accept());
    await a.page.click('#logout-all');
    await a.page.waitForURL('**/?loggedout=1');
    for (const { page } of [a, b]) {
      await page.goto('/app/');
      assert.equal(pathOf(page), '/?next=%2Fapp%2F', 'every browser of the user is sent to the login page');
    }
  } finally {
    await a.context.close();
    await b.context.close();
  }
});
