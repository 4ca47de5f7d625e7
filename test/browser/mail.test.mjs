// The mail journeys of the page at / in a real browser (issue 14): "forgot password" -> "check your email" -> the
// link from the mail -> a new password -> logged in at /app/; and register -> the verification link from the mail
// -> verified, still logged in. The link comes from the mail itself: the .eml file that the stack's SMTP server
// writes into <state dir>/mail/ once the delivery process sends it; on a stack without that mail directory, from
// the mail_outbox row that the request wrote (its sealed link opened with the key derived from the stack's refresh
// key, as src/jose/seal.c seals it).
//
// Environment: TRPCAUTH_BASE_URL, CHROMIUM (see lib.mjs); TRPCAUTH_TEST_STATE (the stack's state dir) and
// TRPCAUTH_TEST_PG_PORT, as scripts/test sets them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, createDecipheriv } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, launchChromium } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STATE = process.env.TRPCAUTH_TEST_STATE || join(ROOT, '.devstack-test');
const PG_PORT = process.env.TRPCAUTH_TEST_PG_PORT || process.env.TRPCAUTH_PG_PORT || '24433';
const TIMEOUT = 15000;
const PASSWORD = 'browser-mail-password';

let browser;
before(async () => { browser = await launchChromium(); });
after(async () => { if (browser) await browser.close(); });

const uniqEmail = (tag) => `${tag}-${Date.now()}-${process.pid}-${Math.floor(Math.random() * 1e9)}@example.com`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LINK_RE = (kind) => new RegExp(`https?://[^\\s"<>]*#${kind}&token=[0-9a-f]{64}`, 'g');

/** The text of a mail, and again with its transfer encoding undone when it has one (quoted-printable: soft breaks
 *  and =XX; base64). A 7bit body is searched as it is: decoding it as quoted-printable would turn "token=26..."
 *  into "token&...". */
function mailText(raw) {
  let text = raw;
  if (/^Content-Transfer-Encoding:\s*quoted-printable/im.test(raw)) {
    text += '\n' + raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  }
  if (/^Content-Transfer-Encoding:\s*base64/im.test(raw)) {
    for (const block of raw.match(/(?:^[A-Za-z0-9+/=]{20,}\r?\n)+/gm) || []) {
      text += '\n' + Buffer.from(block.replace(/\s/g, ''), 'base64').toString('utf8');
    }
  }
  return text;
}

/** The newest link of `kind` in a .eml file of <state>/mail/ addressed to `email` (waits for the delivery). */
async function linkFromMailFile(dir, email, kind) {
  for (let waited = 0; waited < 20000; waited += 250) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml'))
      .map((f) => join(dir, f)).sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
    let found = null;
    for (const f of files) {
      const raw = readFileSync(f, 'utf8');
      if (!raw.toLowerCase().includes(email.toLowerCase())) continue;
      const links = mailText(raw).match(LINK_RE(kind));
      if (links) found = links[links.length - 1];
    }
    if (found) return found;
    await sleep(250);
  }
  throw new Error(`no ${kind} mail to ${email} in ${dir} within 20 s`);
}

/** One value from the stack's PostgreSQL; :'email' and :'kind' in sql are bound. */
function sql1(sql, email, kind) {
  return execFileSync('psql', ['-X', '-q', '-tA', '-h', '127.0.0.1', '-p', PG_PORT, '-U', 'trpcauth', '-d', 'trpcauth',
    '-v', `email=${email}`, '-v', `kind=${kind}`], { input: sql, encoding: 'utf8' }).trim();
}

/** The link of the newest outbox row of `kind` to `email`, unsealed (before the delivery process sends it). */
function linkFromOutbox(email, kind) {
  const sealed = sql1("select sealed_link from mail_outbox where recipient = :'email' and kind = :'kind' order by id desc limit 1",
    email, kind);
  assert.ok(sealed, `no ${kind} row for ${email} in mail_outbox`);
  const secret = readFileSync(join(STATE, 'secrets', 'refresh.key'), 'latin1').replace(/\r?\n$/, '');
  const key = createHmac('sha256', Buffer.from(secret, 'latin1')).update('mod_trpcauth outbox seal v1').digest();
  const raw = Buffer.from(sealed, 'base64url');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  d.setAAD(Buffer.from(email));
  d.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString();
}

async function mailLink(email, kind) {
  const dir = join(STATE, 'mail');
  const link = existsSync(dir) ? await linkFromMailFile(dir, email, kind) : linkFromOutbox(email, kind);
  if (existsSync(dir)) {
    // Sent: the outbox keeps no link any more, sealed or not.
    assert.equal(sql1("select count(*) from mail_outbox where recipient = :'email' and kind = :'kind'"
      + ' and (sent_at is null or sealed_link is not null)', email, kind), '0', 'the sent row has dropped its link');
  }
  assert.match(link, new RegExp(`^${BASE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/#${kind}&token=[0-9a-f]{64}$`),
    'the link points at the page at / of this stack, the token in the fragment');
  return link;
}

async function newPage() {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.consoleErrors = [];
  page.on('pageerror', (e) => page.consoleErrors.push(String(e)));
  return { context, page };
}

const statusText = (page) => page.textContent('#status');
const me = (page) => page.evaluate(() => trpc.query('auth.me'));

test('forgot password: the link from the mail sets a new password, ends the old sessions, and logs in', async () => {
  const email = uniqEmail('browser-reset');
  // The owner is logged in somewhere else (registered through the page, now at /app/).
  const old = await newPage();
  const other = await newPage();
  try {
    await old.page.goto('/');
    await old.page.click('#tab-register');
    await old.page.fill('#register-email', email);
    await old.page.fill('#register-password', PASSWORD);
    await old.page.click('#register-submit');
    await old.page.waitForURL('**/app/');

    // Another browser: "forgot your password?" -> "check your email".
    const { page } = other;
    await page.goto('/');
    await page.click('#forgot-link');
    await page.waitForSelector('#forgot-form:not([hidden])');
    assert.equal(await page.isVisible('#tabs'), false, 'the tabs give way to the form');
    await page.fill('#forgot-email', email);
    await page.click('#forgot-submit');
    await page.waitForSelector('#check-email:not([hidden])');
    assert.match(await page.textContent('#check-email-text'), new RegExp(`If an account exists for ${email}`));

    // The same screen for an address without an account.
    const ghost = await newPage();
    await ghost.page.goto('/');
    await ghost.page.click('#forgot-link');
    await ghost.page.fill('#forgot-email', uniqEmail('browser-ghost'));
    await ghost.page.click('#forgot-submit');
    await ghost.page.waitForSelector('#check-email:not([hidden])');
    assert.match(await ghost.page.textContent('#check-email-text'), /If an account exists for/);
    await ghost.context.close();

    // The link from the mail opens the "new password" form; the token leaves the address bar at once.
    const link = await mailLink(email, 'reset-password');
    await page.goto(link);
    await page.waitForSelector('#reset-form:not([hidden])');
    assert.equal(new URL(page.url()).hash, '', 'the token is gone from the address bar');
    await page.fill('#reset-password', 'short');
    await page.click('#reset-submit');
    await page.waitForFunction(() => document.querySelector('#reset-form [data-for="newPassword"]').textContent !== '');
    const newPassword = `${PASSWORD}-new`;
    await page.fill('#reset-password', newPassword);
    await page.click('#reset-submit');
    await page.waitForSelector('#login-form:not([hidden])');
    assert.match(await statusText(page), /password was changed/i);

    // Log in with the new password: the logged-in page.
    await page.fill('#login-email', email);
    await page.fill('#login-password', newPassword);
    await page.click('#login-submit');
    await page.waitForURL('**/app/');
    await page.waitForFunction((e) => document.getElementById('who').textContent === e, email);

    // The old session has ended: its /app/ sends it back to the login page (its refresh token is dead too).
    await old.page.goto('/app/');
    assert.equal(new URL(old.page.url()).pathname, '/', 'the session from before the reset is over');

    // The link works once.
    const again = await newPage();
    await again.page.goto(link);
    await again.page.fill('#reset-password', `${PASSWORD}-again`);
    await again.page.click('#reset-submit');
    await again.page.waitForSelector('#forgot-form:not([hidden])');
    assert.match(await statusText(again.page), /invalid or has expired/);
    await again.context.close();
    assert.deepEqual([...old.page.consoleErrors, ...page.consoleErrors], []);
  } finally {
    await old.context.close();
    await other.context.close();
  }
});

test('register: the verification link from the mail verifies the address, and the user stays logged in', async () => {
  const email = uniqEmail('browser-verify');
  const { context, page } = await newPage();
  try {
    await page.goto('/');
    await page.click('#tab-register');
    await page.fill('#register-email', email);
    await page.fill('#register-password', PASSWORD);
    await page.click('#register-submit');
    await page.waitForURL('**/app/');
    assert.equal((await me(page)).emailVerified, false);

    const link = await mailLink(email, 'verify-email');
    await page.goto(link);
    await page.waitForFunction(() => /verified/.test(document.getElementById('status').textContent));
    assert.match(await statusText(page), /Your email address is verified/);
    assert.equal(new URL(page.url()).hash, '', 'the token is gone from the address bar');
    await page.waitForSelector('#signed-in:not([hidden])');
    assert.equal((await me(page)).emailVerified, true);
    await page.click('#go-app');
    await page.waitForURL('**/app/');
    await page.waitForFunction((e) => document.getElementById('who').textContent === e, email);

    // Used: the same link again says so.
    await page.goto(link);
    await page.waitForFunction(() => /invalid or has expired/.test(document.getElementById('status').textContent));
    assert.deepEqual(page.consoleErrors, []);
  } finally {
    await context.close();
  }
});
