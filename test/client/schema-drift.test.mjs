// The TypeScript package clients/typescript (@mod-trpcauth/router) declares the AppRouter types from zod schemas.
// This file keeps those declarations honest against the wire: it builds the package with tsc, then
//   - compares the declared procedures (names, query/mutation, input or none) with the module's table in src/proc/router.c;
//   - parses real superjson answers of every procedure with the package's (strict) output schemas;
//   - checks that the input schemas accept what the module accepts and reject what it answers BAD_REQUEST to.
// A field added, renamed or retyped on either side fails here. CONTRACT §3, §11.
//
// The first run installs the package's dependencies (npm ci in clients/typescript, from its package-lock.json).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, createDecipheriv } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createTRPCUntypedClient, httpLink } from '@trpc/client';
import { Browser, superjson, uniqueEmail, PASSWORD, TRPC_SJ_URL, ok } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PKG = join(ROOT, 'clients', 'typescript');

/** npm ci (when the lockfile changed) and tsc: the package's dist/ with the schemas as plain JS. */
function buildPackage() {
  const stamp = join(PKG, 'node_modules', '.trpcauth-deps.sha256');
  const want = createHash('sha256')
    .update(readFileSync(join(PKG, 'package.json'))).update(readFileSync(join(PKG, 'package-lock.json'))).digest('hex');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== want) {
    execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: PKG, stdio: ['ignore', 'ignore', 'inherit'] });
    writeFileSync(stamp, `${want}\n`);
  }
  execFileSync(join(PKG, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: PKG, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The newest mail link of `kind` to `email`, read where the request side leaves it: the mail_outbox row of the
 *  stack's PostgreSQL, its sealed_link opened with the key derived from the stack's refresh key (src/jose/seal.h).
 *  Returns the token of the link. */
async function mailToken(email, kind) {
  const state = process.env.TRPCAUTH_TEST_STATE ?? join(ROOT, '.devstack-test');
  const dir = join(state, 'mail');
  if (existsSync(dir)) {
    // The stack delivers (scripts/devstack's SMTP server keeps each message as <seq>.eml) and then drops the sealed
    // link: read the mail, as its recipient would.
    const subject = kind === 'verify-email' ? /^Subject:.*(confirm|verif)/im : /^Subject:.*(reset|password)/im;
    for (let waited = 0; waited < 15000; waited += 100) {
      const files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().reverse();
      for (const f of files) {
        const raw = readFileSync(join(dir, f), 'utf8');
        if (!new RegExp(`^To:\\s*${email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'im').test(raw) || !subject.test(raw)) continue;
        const m = /[#&]token=([0-9a-f]{64})/.exec(raw);
        if (m) return m[1];
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`no ${kind} mail to ${email} in ${dir} within 15 s`);
  }
  const sealed = execFileSync('psql', ['-X', '-q', '-tA', '-h', '127.0.0.1', '-p', process.env.TRPCAUTH_TEST_PG_PORT ?? '24433',
    '-U', 'trpcauth', '-d', 'trpcauth', '-v', `email=${email}`, '-v', `kind=${kind}`],
  { input: "select sealed_link from mail_outbox where recipient = :'email' and kind = :'kind' order by id desc limit 1", encoding: 'utf8' }).trim();
  assert.ok(sealed, `no ${kind} mail to ${email} in mail_outbox`);
  const secret = readFileSync(join(state, 'secrets', 'refresh.key'), 'latin1').replace(/\r?\n$/, '');
  const key = createHmac('sha256', Buffer.from(secret, 'latin1')).update('mod_trpcauth outbox seal v1').digest();
  const raw = Buffer.from(sealed, 'base64url');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  d.setAAD(Buffer.from(email));
  d.setAuthTag(raw.subarray(raw.length - 16));
  const link = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString();
  const m = /[#&]token=([0-9a-f]{64})$/.exec(link);
  assert.ok(m, `no token in the link ${link}`);
  return m[1];
}

let S; // the package's schemas module
const called = new Set();

function client(browser) {
  return createTRPCUntypedClient({ links: [httpLink({ url: TRPC_SJ_URL, transformer: superjson, fetch: browser.fetch })] });
}

/** Calls a procedure the way the typed client would, checks the input against the declared input schema and
 *  parses the answer with the declared output schema. Returns the parsed output. */
async function call(browser, path, input) {
  const p = S.procedures[path];
  assert.ok(p, `${path} is not declared in clients/typescript/src/schemas.ts`);
  if (p.input) {
    const r = p.input.safeParse(input);
    assert.ok(r.success, `${path}: the declared input schema rejects ${JSON.stringify(input)}: ${r.error}`);
  } else {
    assert.equal(input, undefined, `${path} is declared without input`);
  }
  const c = client(browser);
  const out = await ok(p.kind === 'query' ? c.query(path, input) : c.mutation(path, input), path);
  const parsed = p.output.safeParse(out);
  assert.ok(parsed.success,
    `${path}: the answer does not match the declared output schema (clients/typescript/src/schemas.ts)\n` +
    `answer: ${JSON.stringify(superjson.serialize(out))}\nzod: ${JSON.stringify(parsed.error?.issues, null, 1)}`);
  called.add(path);
  return out;
}

/** The module's BAD_REQUEST for an input, and the declared schema's rejection of it. */
async function rejectedByBoth(browser, path, input) {
  const p = S.procedures[path];
  assert.equal(p.input.safeParse(input).success, false, `${path}: the declared schema accepts ${JSON.stringify(input)}`);
  const c = client(browser);
  await assert.rejects(p.kind === 'query' ? c.query(path, input) : c.mutation(path, input),
    (e) => e?.data?.code === 'BAD_REQUEST', `${path}: the module accepts ${JSON.stringify(input)}`);
}

before(async () => {
  buildPackage();
  S = await import(pathToFileURL(join(PKG, 'dist', 'schemas.js')).href);
}, { timeout: 300_000 });

describe('clients/typescript declarations against the module', () => {
  test('the declared procedures are the module\'s: same names, same kinds, input or none (src/proc/router.c)', () => {
    const table = readFileSync(join(ROOT, 'src', 'proc', 'router.c'), 'utf8');
    const rows = [...table.matchAll(/\{\s*"([\w.]+)",\s*TA_(QUERY|MUTATION),\s*([01]),/g)];
    assert.ok(rows.length >= 5, 'cannot read the procedure table of src/proc/router.c');
    const module = Object.fromEntries(rows.map(([, path, kind, input]) => [path, `${kind.toLowerCase()} input=${input}`]));
    const declared = Object.fromEntries(Object.entries(S.procedures).map(([path, p]) => [path, `${p.kind} input=${p.input ? 1 : 0}`]));
    assert.deepEqual(declared, module);
  });

  const a = new Browser('drift-a');
  const b = new Browser('drift-b');
  const email = uniqueEmail('drift');
  let sessionB;

  test('auth.register, auth.login, auth.me', async () => {
    const reg = await call(a, 'auth.register', { email: `  ${email.toUpperCase()} `, password: PASSWORD });
    assert.equal(reg.user[0].email, email, 'trimmed and lower-cased, as the input schema\'s transform');
    assert.equal(S.registerInput.parse({ email: `  ${email.toUpperCase()} `, password: PASSWORD }).email, email);
    await call(a, 'auth.login', { email, password: PASSWORD });
    await call(b, 'auth.login', { email, password: PASSWORD });
    const me = await call(a, 'auth.me');
    assert.equal(me.email, email);
  });

  test('transaction.create (tag given, absent, null; summary absent) and transaction.getAll', async () => {
    await call(a, 'transaction.create', { amount: 2500, txnType: 'Incoming', summary: 'Salary', tag: 'Salary' });
    const [def] = await call(a, 'transaction.create', { amount: 7, txnType: 'Outgoing', summary: '', tag: undefined });
    assert.equal(def.tag, 'Others');
    const [nul] = await call(a, 'transaction.create', { amount: -3, txnType: 'Outgoing', tag: null });
    assert.equal(nul.tag, null);
    assert.equal(nul.summary, null);
    const all = await call(a, 'transaction.getAll');
    assert.equal(all.length, 3);
  });

  test('auth.sessions and auth.revokeSession', async () => {
    const list = await call(a, 'auth.sessions');
    assert.equal(list.length, 2);
    assert.equal(list.filter((s) => s.current).length, 1);
    sessionB = list.find((s) => !s.current).id;
    await call(a, 'auth.revokeSession', { sessionId: sessionB });
  });

  test('auth.refreshAccessToken (the answer has accessToken only with TrpcAuthRefreshReturnsAccessToken On)', async () => {
    const out = await call(a, 'auth.refreshAccessToken');
    assert.equal(out.success, true);
  });

  test('auth.changePassword, auth.logoutAll, auth.logout', async () => {
    await call(a, 'auth.changePassword', { currentPassword: PASSWORD, newPassword: `${PASSWORD}-2` });
    await call(a, 'auth.logoutAll');
    const c = new Browser('drift-c');
    await call(c, 'auth.login', { email, password: `${PASSWORD}-2` });
    await call(c, 'auth.logout');
  });

  test('auth.requestEmailVerification, auth.verifyEmail, auth.requestPasswordReset, auth.resetPassword', async () => {
    const m = new Browser('drift-mail');
    const mail = uniqueEmail('drift-mail');
    await call(m, 'auth.register', { email: mail, password: PASSWORD });
    await call(m, 'auth.login', { email: mail, password: PASSWORD });
    await call(m, 'auth.requestEmailVerification');
    await call(new Browser('drift-mail-link'), 'auth.verifyEmail', { token: await mailToken(mail, 'verify-email') });
    assert.equal((await call(m, 'auth.me')).emailVerified, true);
    await call(m, 'auth.requestPasswordReset', { email: ` ${mail.toUpperCase()}` });
    await call(new Browser('drift-mail-reset'), 'auth.resetPassword',
      { token: await mailToken(mail, 'reset-password'), newPassword: `${PASSWORD}-3` });
    await call(new Browser('drift-mail-login'), 'auth.login', { email: mail, password: `${PASSWORD}-3` });
  });

  test('every declared procedure was called and parsed', () => {
    assert.deepEqual([...called].sort(), Object.keys(S.procedures).sort());
  });

  test('inputs the declared schemas reject are BAD_REQUEST at the module too', async () => {
    const u = new Browser('drift-bad');
    await rejectedByBoth(u, 'auth.register', { email: 'not-an-email', password: PASSWORD });
    await rejectedByBoth(u, 'auth.register', { email: uniqueEmail('short'), password: 'short' });
    await rejectedByBoth(u, 'auth.register', { email: uniqueEmail('long'), password: 'x'.repeat(73) });
    await rejectedByBoth(u, 'auth.login', { email });
    const d = new Browser('drift-d');
    await call(d, 'auth.login', { email, password: `${PASSWORD}-2` });
    await rejectedByBoth(d, 'transaction.create', { amount: '7', txnType: 'Outgoing' });
    await rejectedByBoth(d, 'transaction.create', { amount: 7.5, txnType: 'Outgoing' });
    await rejectedByBoth(d, 'transaction.create', { amount: 7, txnType: 'Sideways' });
    await rejectedByBoth(d, 'transaction.create', { amount: 7, txnType: 'Outgoing', tag: 'Fun' });
    await rejectedByBoth(d, 'transaction.create', { amount: 2 ** 31, txnType: 'Outgoing' });
    await rejectedByBoth(d, 'auth.changePassword', { currentPassword: `${PASSWORD}-2`, newPassword: 'short' });
    await rejectedByBoth(u, 'auth.requestPasswordReset', { email: 'not-an-email' });
    await rejectedByBoth(u, 'auth.verifyEmail', {});
    await rejectedByBoth(u, 'auth.resetPassword', { token: 'f'.repeat(64), newPassword: 'short' });
  });

  test('a field the module does not send (or an extra one it does) fails the strict output schemas', () => {
    const row = { id: 1, amount: 7, txnType: 'Outgoing', summary: null, tag: 'Others', userId: 1, createdAt: new Date(), updatedAt: new Date() };
    assert.equal(S.transaction.safeParse(row).success, true);
    assert.equal(S.transaction.safeParse({ ...row, password: 'x' }).success, false);
    const { tag, ...noTag } = row;
    assert.equal(S.transaction.safeParse(noTag).success, false);
    assert.equal(S.transaction.safeParse({ ...row, createdAt: row.createdAt.toISOString() }).success, false);
  });
});
