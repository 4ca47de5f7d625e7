'use strict';
// test/faults/faults.js -- fault tests against a running devstack (driven by test/faults/run, which sets the env).
//
//   a  Redis stopped, then frozen (SIGSTOP), on the test stack's second server (TRPCAUTH_TEST_NOCACHE_PORT,
//      TrpcAuthSessionCache Off: every request asks Redis): protected calls answer 503 SERVICE_UNAVAILABLE within
//      TrpcAuthRedisTimeout + margin, static files still served; after `scripts/devstack up` / SIGCONT it all works
//      again without touching Apache (a new login: Redis runs without persistence).
//   e  Redis frozen behind the session cache (the main server: on by default): the sessions the children have
//      cached keep passing only until the listener's PING goes unanswered, which it notices within
//      TrpcAuthRedisTimeout + 500 ms (read from the TRPCAUTH111 lines of the error log, printed, and checked with
//      2 x margin), then every call is 503; after SIGCONT the listener subscribes again and calls are 200 (no
//      Apache restart).
//   b  PostgreSQL stopped (pg_ctl -m fast as the postgres user): the same; recovery after `scripts/devstack up`.
//      Also PostgreSQL frozen (SIGSTOP of the postmaster and its backends): calls answer 503 within
//      TrpcAuthDBTimeout (2 s on the test stack), and after SIGCONT everything works again (FAULTS_PG_FREEZE=0
//      skips it).
//   c  `apache2 -k graceful` (scripts/devstack restart-apache) twice under a load of 2000 requests from 8 workers:
//      zero failed requests.
//   d  kill -9 of one worker child under load: requests started after the kill all succeed, the parent lives
//      and spawns a replacement.
//
// Every request has a client-side timeout, every loop a bound. FAULTS_ONLY=a,b,... runs a subset.
// Last line: "N passed, N failed"; exit 1 on any failure.

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const L = require('../hardening/lib.js');

const STATE = L.stateDir();
const TRPC = L.baseUrl();
const ORIGIN = new URL(TRPC.origin);
const TRPC_PATH = TRPC.pathname.replace(/\/$/, '');
const REDIS_TIMEOUT_MS = Number(process.env.FAULTS_REDIS_TIMEOUT_MS || 500);
const MARGIN_MS = Number(process.env.FAULTS_MARGIN_MS || 250);
const ONLY = new Set((process.env.FAULTS_ONLY || 'a,e,b,c,d').split(','));
const NOCACHE_PORT = Number(process.env.TRPCAUTH_TEST_NOCACHE_PORT || 0);
const NOCACHE = NOCACHE_PORT ? new URL(`http://127.0.0.1:${NOCACHE_PORT}`) : null;
// The listener PINGs after this much quiet (src/store/redis_track.c PING_QUIET_MS) and waits TrpcAuthRedisTimeout.
const PING_QUIET_MS = 400;
const PG_FREEZE = process.env.FAULTS_PG_FREEZE !== '0';
const PGBIN = '/usr/lib/postgresql/15/bin';

const { ok, note, end } = L.tap();
const timings = [];
const timing = (s) => { timings.push(s); console.log(`# time  ${s}`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------ HTTP

function call(method, proc, { origin = ORIGIN, ...opts } = {}) {
  return L.trpcCall(origin, method, proc, { trpcPath: TRPC_PATH, ...opts });
}

async function newUser(tag) {
  const email = `fault-${tag}-${process.pid}-${Date.now()}@example.com`;
  const password = 'fault-password-1';
  const r = await call('POST', 'auth.register', { json: { email, password } });
  if (r.status !== 200) throw new Error(`register: ${r.status} ${r.text.slice(0, 200)}`);
  return { email, password, ...(await login({ email, password })) };
}

async function login(u) {
  const r = await call('POST', 'auth.login', { json: { email: u.email, password: u.password } });
  if (r.status !== 200) return { cookie: null, loginStatus: r.status, loginText: r.text.slice(0, 200) };
  return { cookie: `accessToken=${L.setCookie(r, 'accessToken')}`, loginStatus: 200 };
}

/** Runs n requests made by mk(i) with conc in flight; resolves to the results in order. */
async function many(n, conc, mk) {
  const out = new Array(n);
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      out[i] = await mk(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(conc, n) }, worker));
  return out;
}

function summary(rs) {
  const by = {};
  for (const r of rs) {
    const k = r.status ? `${r.status}${r.code ? ` ${r.code}` : ''}` : `ERR ${r.err}`;
    by[k] = (by[k] || 0) + 1;
  }
  const ms = rs.map((r) => r.ms).sort((a, b) => a - b);
  return {
    by,
    max: ms[ms.length - 1] || 0,
    p50: ms[Math.floor(ms.length / 2)] || 0,
    p99: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))] || 0,
  };
}
const fmt = (s) => `${JSON.stringify(s.by)}; p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms`;

// ------------------------------------------------------------------------------------------------ the stack

/** The environment scripts/devstack up needs to bring back exactly this stack (it does not read the saved env). */
function devstackEnv() {
  const saved = L.readSaved();
  const env = { ...process.env, TRPCAUTH_STATE_DIR: STATE };
  const map = { PORT: 'TRPCAUTH_PORT', PG_PORT: 'TRPCAUTH_PG_PORT', REDIS_PORT: 'TRPCAUTH_REDIS_PORT', MPM: 'TRPCAUTH_MPM',
    ASAN: 'TRPCAUTH_ASAN', NO_MODULE: 'TRPCAUTH_NO_MODULE', EXTRA_CONF: 'TRPCAUTH_EXTRA_CONF' };
  for (const [k, v] of Object.entries(map)) {
    if (saved[k] !== undefined && saved[k] !== '') env[v] = saved[k];
    else if (k === 'EXTRA_CONF') delete env[v];
  }
  return env;
}

function devstack(...args) {
  const r = spawnSync(path.join(L.ROOT, 'scripts', 'devstack'), args, { env: devstackEnv(), encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) throw new Error(`scripts/devstack ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-1500)}`);
  return r.stdout;
}

function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function waitGone(pid, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!pidAlive(pid)) return true;
    await sleep(50);
  }
  return !pidAlive(pid);
}

function redisPid() {
  try { return Number(fs.readFileSync(path.join(STATE, 'run', 'redis.pid'), 'utf8').trim()) || 0; } catch { return 0; }
}

function pgPid() {
  try { return Number(fs.readFileSync(path.join(STATE, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]) || 0; } catch { return 0; }
}

/** The Apache children that hold the listening socket (the workers; not mod_cgid's daemon). */
function workerPids() {
  const kids = new Set(L.apacheChildren());
  const port = ORIGIN.port;
  let out = '';
  try { out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' }); } catch { /* no ss */ }
  const pids = [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])).filter((p) => kids.has(p));
  return [...new Set(pids)].sort((a, b) => a - b);
}

/** Keeps requests going until stop() is called or max requests are done; records every result with its start time. */
function backgroundLoad(conc, max, mk) {
  const results = [];
  let stopped = false;
  let i = 0;
  async function worker() {
    while (!stopped && i < max) {
      const n = i++;
      const t0 = Date.now();
      const r = await mk(n);
      results.push({ ...r, t0, t1: Date.now(), n });
    }
  }
  const done = Promise.all(Array.from({ length: conc }, worker));
  return { results, stop: () => { stopped = true; return done; }, done, count: () => results.length };
}

async function waitFor(fn, ms, step = 50) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await sleep(step);
  }
}

// ------------------------------------------------------------------------------------------------ (a) Redis

async function testRedis() {
  console.log('\n# (a) Redis stopped, then frozen (TrpcAuthSessionCache Off)');
  if (!ok(NOCACHE !== null, 'a: the second server\'s port (TRPCAUTH_TEST_NOCACHE_PORT)', `${NOCACHE_PORT}`)) return;
  const origin = NOCACHE;
  const u = await newUser('redis');
  ok(u.cookie && (await call('GET', 'auth.me', { cookie: u.cookie, origin })).status === 200, 'a: baseline auth.me 200');
  const limit = REDIS_TIMEOUT_MS + MARGIN_MS;

  // The main server's Redis pools hold idle connections (16 requests at once), which Redis's restart below makes
  // stale: each must be dropped without costing a request its answer.
  await many(32, 16, () => call('GET', 'auth.me', { cookie: u.cookie }));

  // --- stopped
  const pid = redisPid();
  if (!ok(pid && pidAlive(pid), 'a: Redis pid from the pidfile', `pid ${pid}`)) return;
  process.kill(pid, 'SIGTERM');
  ok(await waitGone(pid, 10000), 'a: Redis stopped');
  let rs = await many(80, 8, (i) => call('GET', i % 2 ? 'auth.me' : 'transaction.getAll', { cookie: u.cookie, timeout: 10000, origin }));
  let s = summary(rs);
  timing(`Redis stopped: 80 protected calls (8 in flight): ${fmt(s)}`);
  ok(rs.every((r) => r.status === 503 && r.code === 'SERVICE_UNAVAILABLE'), 'a: stopped: every protected call is 503 SERVICE_UNAVAILABLE', fmt(s));
  ok(s.max <= limit, `a: stopped: max latency <= ${limit} ms (TrpcAuthRedisTimeout ${REDIS_TIMEOUT_MS} + ${MARGIN_MS})`, `${s.max.toFixed(0)} ms`);
  const lg = await call('POST', 'auth.login', { json: { email: u.email, password: u.password }, origin });
  ok(lg.status === 503 && lg.code === 'SERVICE_UNAVAILABLE', 'a: stopped: auth.login is 503 SERVICE_UNAVAILABLE', `${lg.status} ${lg.code} ${lg.ms.toFixed(0)} ms`);
  const st = await call('GET', '/', { timeout: 5000, origin });
  ok(st.status === 200, 'a: stopped: GET / (static) still served', `${st.status} ${st.ms.toFixed(0)} ms`);

  // --- back: scripts/devstack up starts only Redis
  const t0 = Date.now();
  const apacheBefore = L.apachePid();
  devstack('up');
  const upMs = Date.now() - t0;
  ok(L.apachePid() === apacheBefore, 'a: scripts/devstack up did not restart Apache', `pid ${apacheBefore}`);
  const old = await call('GET', 'auth.me', { cookie: u.cookie, origin });
  ok(old.status === 401 && old.code === 'UNAUTHORIZED', 'a: after the restart the old session is gone (no persistence): 401', `${old.status} ${old.code}`);
  rs = await many(16, 1, () => call('GET', 'auth.me', { cookie: u.cookie }));
  ok(rs.every((r) => r.status === 401 && r.code === 'UNAUTHORIZED'),
     'a: after the restart, 16 calls one after the other on the main server (its pools full of stale connections): all 401, none 503', fmt(summary(rs)));
  const t1 = Date.now();
  let again = null;
  await waitFor(async () => { again = await login(u); return again.cookie; }, 5000);
  timing(`Redis restart: scripts/devstack up took ${upMs} ms; first successful login ${Date.now() - t1} ms after it`);
  ok(again && again.cookie, 'a: log in again after Redis is back', again ? `${again.loginStatus}` : '');
  if (again && again.cookie) {
    rs = await many(100, 8, () => call('GET', 'auth.me', { cookie: again.cookie, origin }));
    s = summary(rs);
    ok(rs.every((r) => r.status === 200 && r.json.result.data.email === u.email), 'a: recovered: 100 auth.me all 200 with the right user', fmt(s));
    u.cookie = again.cookie;
  }

  // --- frozen (SIGSTOP): connections hang instead of being refused
  const fpid = redisPid();
  process.kill(fpid, 'SIGSTOP');
  try {
    rs = await many(40, 8, () => call('GET', 'auth.me', { cookie: u.cookie, timeout: 15000, origin }));
    s = summary(rs);
    timing(`Redis frozen: 40 auth.me (8 in flight): ${fmt(s)}`);
    ok(rs.every((r) => r.status === 503 && r.code === 'SERVICE_UNAVAILABLE'), 'a: frozen: every auth.me is 503 SERVICE_UNAVAILABLE', fmt(s));
    ok(s.max <= limit, `a: frozen: max latency <= ${limit} ms`, `${s.max.toFixed(0)} ms`);
    const st2 = await call('GET', '/', { timeout: 5000, origin });
    ok(st2.status === 200, 'a: frozen: GET / still served', `${st2.ms.toFixed(0)} ms`);
  } finally {
    process.kill(fpid, 'SIGCONT');
  }
  // The late replies to the timed-out commands must not be read by the next requests (a reused connection
  // would answer one request with another's reply).
  await sleep(200);
  rs = await many(200, 8, () => call('GET', 'auth.me', { cookie: u.cookie, origin }));
  s = summary(rs);
  ok(rs.every((r) => r.status === 200 && r.json.result.data.email === u.email), 'a: thawed: 200 auth.me all 200 with the right user (no stale replies)', fmt(s));
}

// ------------------------------------------------------------------------------------------------ (b) PostgreSQL

function pgStop() {
  execFileSync('runuser', ['-u', 'postgres', '--', `${PGBIN}/pg_ctl`, '-D', path.join(STATE, 'pg'), '-m', 'fast', '-w', '-t', '30', 'stop'],
    { stdio: 'ignore', timeout: 60000 });
}

async function testPg() {
  console.log('\n# (b) PostgreSQL stopped');
  const u = await newUser('pg');
  ok(u.cookie && (await call('GET', 'auth.me', { cookie: u.cookie })).status === 200, 'b: baseline auth.me 200');
  const pid = pgPid();
  if (!ok(pid && pidAlive(pid), 'b: PostgreSQL pid from postmaster.pid', `pid ${pid}`)) return;
  const t0 = Date.now();
  pgStop();
  ok(await waitGone(pid, 10000), 'b: PostgreSQL stopped (pg_ctl -m fast)', `${Date.now() - t0} ms`);

  let rs = await many(60, 8, (i) => call('GET', ['auth.me', 'transaction.getAll'][i % 2], { cookie: u.cookie, timeout: 15000 }));
  let s = summary(rs);
  timing(`PostgreSQL stopped: 60 auth.me / transaction.getAll (8 in flight): ${fmt(s)}`);
  ok(rs.every((r) => r.status === 503 && r.code === 'SERVICE_UNAVAILABLE'), 'b: stopped: every DB-backed query is 503 SERVICE_UNAVAILABLE', fmt(s));
  ok(s.max <= 1000, 'b: stopped: max latency <= 1000 ms', `${s.max.toFixed(0)} ms`);
  const cr = await call('POST', 'transaction.create', { cookie: u.cookie, json: { amount: 1, txnType: 'Incoming' } });
  ok(cr.status === 503 && cr.code === 'SERVICE_UNAVAILABLE', 'b: stopped: transaction.create is 503', `${cr.status} ${cr.code} ${cr.ms.toFixed(0)} ms`);
  const lg = await call('POST', 'auth.login', { json: { email: u.email, password: u.password } });
  ok(lg.status === 503 && lg.code === 'SERVICE_UNAVAILABLE', 'b: stopped: auth.login is 503', `${lg.status} ${lg.code} ${lg.ms.toFixed(0)} ms`);
  const rg = await call('POST', 'auth.register', { json: { email: `pgdown-${Date.now()}@example.com`, password: 'password123' } });
  ok(rg.status === 503 && rg.code === 'SERVICE_UNAVAILABLE', 'b: stopped: auth.register is 503', `${rg.status} ${rg.code} ${rg.ms.toFixed(0)} ms`);
  const st = await call('GET', '/', { timeout: 5000 });
  ok(st.status === 200, 'b: stopped: GET / (static) still served', `${st.ms.toFixed(0)} ms`);

  const t1 = Date.now();
  const apacheBefore = L.apachePid();
  devstack('up');
  const upMs = Date.now() - t1;
  ok(L.apachePid() === apacheBefore, 'b: scripts/devstack up did not restart Apache');
  const t2 = Date.now();
  let first = null;
  await waitFor(async () => { first = await call('GET', 'auth.me', { cookie: u.cookie }); return first.status === 200; }, 10000);
  timing(`PostgreSQL restart: scripts/devstack up took ${upMs} ms; first auth.me 200 ${Date.now() - t2} ms after it (${first.status})`);
  ok(first.status === 200, 'b: recovered: the session made before the outage works again (Redis kept it)');
  rs = await many(200, 8, (i) => (i % 10 === 0
    ? call('POST', 'transaction.create', { cookie: u.cookie, json: { amount: i, txnType: 'Incoming' } })
    : call('GET', i % 2 ? 'auth.me' : 'transaction.getAll', { cookie: u.cookie })));
  s = summary(rs);
  ok(rs.every((r) => r.status === 200), 'b: recovered: 200 mixed calls all 200 (stale pooled connections replaced)', fmt(s));

  if (!PG_FREEZE) {
    note('PostgreSQL frozen (SIGSTOP): skipped (FAULTS_PG_FREEZE=0)');
    return;
  }
  console.log('\n# (b2) PostgreSQL frozen (SIGSTOP of the postmaster and its backends)');
  const pm = pgPid();
  const pids = [pm, ...execFileSync('pgrep', ['-P', String(pm)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)];
  for (const p of pids) process.kill(p, 'SIGSTOP');
  try {
    rs = await many(4, 4, () => call('GET', 'auth.me', { cookie: u.cookie, timeout: 5000 }));
    s = summary(rs);
    timing(`PostgreSQL frozen: 4 auth.me: ${fmt(s)}`);
    ok(rs.every((r) => r.status === 503), 'b2: frozen: auth.me answers 503 within 5 s', fmt(s));
    const st2 = await call('GET', '/', { timeout: 5000 });
    ok(st2.status === 200, 'b2: frozen: GET / still served', `${st2.ms.toFixed(0)} ms`);
  } finally {
    for (const p of pids) { try { process.kill(p, 'SIGCONT'); } catch { /* gone */ } }
  }
  await sleep(500);
  rs = await many(50, 8, () => call('GET', 'auth.me', { cookie: u.cookie }));
  ok(rs.every((r) => r.status === 200), 'b2: thawed: 50 auth.me all 200', fmt(summary(rs)));
}

// ------------------------------------------------------------------------------------------------ (c) graceful

async function testGraceful() {
  console.log('\n# (c) apache2 -k graceful under load');
  const u = await newUser('graceful');
  const N = Number(process.env.FAULTS_LOAD_N || 2000);
  const kids0 = workerPids();
  const mk = (i) => (i % 4 === 3 ? call('GET', '/', { timeout: 15000 })
    : call('GET', i % 2 ? 'auth.me' : 'transaction.getAll', { cookie: u.cookie, timeout: 15000 }));
  const t0 = Date.now();
  const load = backgroundLoad(8, N, mk);
  const graceTimes = [];
  for (const at of [0.25, 0.6]) {
    await waitFor(() => load.count() >= N * at, 60000, 10);
    const g0 = Date.now();
    devstack('restart-apache');
    graceTimes.push(Date.now() - g0);
    note(`graceful requested after ${load.count()} requests`);
  }
  await load.done;
  const secs = (Date.now() - t0) / 1000;
  const s = summary(load.results);
  timing(`graceful x2 under load: ${load.results.length} requests in ${secs.toFixed(1)} s (${(load.results.length / secs).toFixed(0)}/s), 8 in flight: ${fmt(s)}; restart-apache took ${graceTimes.join(', ')} ms`);
  ok(load.results.length === N, `c: ${N} requests made`);
  const bad = load.results.filter((r) => r.status !== 200);
  ok(bad.length === 0, 'c: zero failed requests across two graceful restarts', bad.length ? `${bad.length} failed: ${JSON.stringify(summary(bad).by)}` : fmt(s));
  // the old generation is replaced
  let kids1 = [];
  await waitFor(() => { kids1 = workerPids(); return kids1.length > 0 && !kids1.some((p) => kids0.includes(p)); }, 15000, 200);
  ok(kids1.length > 0 && !kids1.some((p) => kids0.includes(p)), 'c: the workers are a new generation', `${JSON.stringify(kids0)} -> ${JSON.stringify(kids1)}`);
  const after = await call('GET', 'auth.me', { cookie: u.cookie });
  ok(after.status === 200, 'c: serving after the load');
}

// ------------------------------------------------------------------------------------------------ (d) kill -9

async function testKill() {
  console.log('\n# (d) kill -9 of one worker under load');
  const u = await newUser('kill');
  const parent = L.apachePid();
  await waitFor(() => workerPids().length >= 2, 10000, 200);
  const kids0 = workerPids();
  note(`parent ${parent}, workers ${JSON.stringify(kids0)}`);
  if (!ok(kids0.length >= 1, 'd: found a worker child')) return;
  const N = Number(process.env.FAULTS_LOAD_N || 2000) + 1000;
  const mk = (i) => (i % 4 === 3 ? call('GET', '/', { timeout: 15000 })
    : call('GET', i % 2 ? 'auth.me' : 'transaction.getAll', { cookie: u.cookie, timeout: 15000 }));
  const load = backgroundLoad(8, N, mk);
  await waitFor(() => load.count() >= 500, 60000, 10);
  const victim = kids0[kids0.length - 1];
  const tKill = Date.now();
  process.kill(victim, 'SIGKILL');
  note(`kill -9 ${victim} after ${load.count()} requests`);
  await load.done;
  const before = load.results.filter((r) => r.t0 < tKill);
  const inflight = load.results.filter((r) => r.t0 < tKill && r.t1 >= tKill);
  const afterKill = load.results.filter((r) => r.t0 >= tKill);
  const failedInflight = inflight.filter((r) => r.status !== 200);
  const failedAfter = afterKill.filter((r) => r.status !== 200);
  timing(`kill -9 under load: ${load.results.length} requests; in flight at the kill ${inflight.length} (${failedInflight.length} failed: ${JSON.stringify(summary(failedInflight).by)}); started after it ${afterKill.length}: ${fmt(summary(afterKill))}`);
  ok(before.filter((r) => r.t1 < tKill).every((r) => r.status === 200), 'd: every request finished before the kill succeeded');
  ok(failedAfter.length === 0, 'd: every request started after the kill succeeded', failedAfter.length ? JSON.stringify(summary(failedAfter).by) : `${afterKill.length} requests`);
  ok(L.apachePid() === parent && pidAlive(parent), 'd: the parent is alive');
  ok(!pidAlive(victim), 'd: the killed child is gone');
  let kids1 = [];
  const t0 = Date.now();
  const respawned = await waitFor(() => { kids1 = workerPids(); return kids1.length >= kids0.length && !kids1.includes(victim); }, 15000, 100);
  timing(`kill -9: worker count back to ${kids1.length} (was ${kids0.length}) ${respawned ? `within ${Date.now() - t0} ms after the load` : 'NOT within 15 s'}`);
  ok(respawned, 'd: the parent spawned a replacement', `${JSON.stringify(kids0)} -> ${JSON.stringify(kids1)}`);
  // (httpd does not log a child killed by SIGKILL: ap_process_child_status skips SIGKILL, so no AH00052 to look for)
  const rs = await many(100, 8, () => call('GET', 'auth.me', { cookie: u.cookie }));
  ok(rs.every((r) => r.status === 200), 'd: 100 auth.me all 200 afterwards', fmt(summary(rs)));
  killedPids.push(victim);
}

// ------------------------------------------------------------------------------------------------ (e) session cache

/** Unix ms of an error-log line's time stamp ("[Sat Dec 05 04:02:10.792209 2026] ..."), local time as Apache writes it. */
function logTime(line) {
  const m = /^\[\w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d)\.(\d{6}) (\d{4})\]/.exec(line);
  if (!m) return null;
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(m[1]);
  return new Date(Number(m[7]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])).getTime()
    + Number(m[6]) / 1000;
}

async function testRedisCached() {
  console.log('\n# (e) Redis frozen behind the session cache (the default)');
  const origin = ORIGIN;
  const u = await newUser('scache');
  // Step a has just stopped and frozen Redis: wait until the listeners have subscribed again, i.e. until auth.me
  // is answered from the caches (20 calls, fewer than 10 HGETs in Redis).
  const hgets = () => {
    const line = L.redisCli(['INFO', 'commandstats']).find((l) => l.startsWith('cmdstat_hget:'));
    const m = line && /calls=(\d+)/.exec(line);
    return m ? Number(m[1]) : 0;
  };
  let asked = null;
  const cached = await waitFor(async () => {
    const h0 = hgets();
    const r = await many(20, 4, () => call('GET', 'auth.me', { cookie: u.cookie, origin }));
    asked = hgets() - h0;
    return r.every((x) => x.status === 200) && asked < 10;
  }, 15000, 200);
  ok(cached, 'e: the session cache answers (its listeners are subscribed)', `${asked} HGETs for 20 calls`);
  let rs = await many(40, 4, () => call('GET', 'auth.me', { cookie: u.cookie, origin }));
  ok(rs.every((r) => r.status === 200), 'e: 40 auth.me through the main server (cached): 200', fmt(summary(rs)));

  // The listener PINGs after PING_QUIET_MS of quiet and gives up after TrpcAuthRedisTimeout: it notices within
  // TrpcAuthRedisTimeout + 500 ms; a request then waits at most TrpcAuthRedisTimeout for its own answer.
  const noticeBound = REDIS_TIMEOUT_MS + 500;
  const limit = noticeBound + REDIS_TIMEOUT_MS + 4 * MARGIN_MS;
  const fpid = redisPid();
  const logAt = L.fileSize(L.errorLogPath());
  const t0 = Date.now();
  process.kill(fpid, 'SIGSTOP');
  let first503 = null;
  let noticed = [];
  try {
    await waitFor(async () => {
      const r = await call('GET', 'auth.me', { cookie: u.cookie, origin, timeout: 15000 });
      if (r.status === 503 && r.code === 'SERVICE_UNAVAILABLE') first503 = Date.now() - t0;
      return first503 !== null;
    }, limit + 5000, 100);
    timing(`Redis frozen behind the session cache: first 503 after ${first503} ms`);
    ok(first503 !== null && first503 <= limit, `e: frozen: calls turn 503 SERVICE_UNAVAILABLE within ${limit} ms`,
       `${first503} ms`);
    rs = await many(20, 4, () => call('GET', 'auth.me', { cookie: u.cookie, origin, timeout: 15000 }));
    ok(rs.every((r) => r.status === 503 && r.code === 'SERVICE_UNAVAILABLE'), 'e: frozen: and stay 503 (the cache was emptied)', fmt(summary(rs)));
    // When each child's listener noticed, by the server's own clock.
    noticed = L.errorLogSince(logAt).split('\n').filter((l) => /TRPCAUTH111:/.test(l)).map(logTime)
      .filter((t) => t !== null).map((t) => Math.round(t - t0));
  } finally {
    process.kill(fpid, 'SIGCONT');
  }
  const worst = noticed.length ? Math.max(...noticed) : null;
  timing(`Redis frozen: the listeners noticed after ${noticed.join(', ')} ms (bound TrpcAuthRedisTimeout + 500 = ${noticeBound} ms, PING after ${PING_QUIET_MS} ms of quiet)`);
  ok(worst !== null && worst <= noticeBound + 2 * MARGIN_MS,
     `e: frozen: every listener noticed within ${noticeBound} ms (+ ${2 * MARGIN_MS} ms margin; TRPCAUTH111 in the error log)`,
     `${noticed.length} listeners, last after ${worst} ms`);
  const t1 = Date.now();
  const back = await waitFor(async () => (await call('GET', 'auth.me', { cookie: u.cookie, origin })).status === 200, 5000);
  timing(`Redis thawed: auth.me 200 again after ${Date.now() - t1} ms`);
  ok(back, 'e: thawed: auth.me is 200 again without restarting Apache');
  rs = await many(40, 4, () => call('GET', 'auth.me', { cookie: u.cookie, origin }));
  ok(rs.every((r) => r.status === 200 && r.json.result.data.email === u.email), 'e: thawed: 40 auth.me all 200 with the right user', fmt(summary(rs)));
}

// ------------------------------------------------------------------------------------------------ main

const logFrom = L.fileSize(L.errorLogPath());
const killedPids = [];

async function main() {
  console.log(`test/faults: ${TRPC.href} (state ${STATE}); Redis timeout ${REDIS_TIMEOUT_MS} ms + margin ${MARGIN_MS} ms`);
  if (!L.apachePid()) throw new Error(`Apache of ${STATE} is not running`);
  const steps = [['a', testRedis], ['e', testRedisCached], ['b', testPg], ['c', testGraceful], ['d', testKill]];
  for (const [k, fn] of steps) {
    if (!ONLY.has(k)) continue;
    try {
      await fn();
    } catch (e) {
      ok(false, `${k}: ran to the end`, e.stack || String(e));
      // leave the stack whole for what follows
      try { devstack('up'); } catch (e2) { note(`scripts/devstack up failed: ${e2.message}`); }
    }
  }
  const crashes = L.crashLines(L.errorLogSince(logFrom))
    .filter((l) => !killedPids.some((p) => l.includes(`child pid ${p} exit signal Killed`)));
  ok(crashes.length === 0, 'error log: no crash (Segmentation fault / exit signal) but the deliberate kill', crashes.slice(0, 10).join('\n'));
  console.log('\n# timings');
  for (const t of timings) console.log(`#   ${t}`);
}

main()
  .catch((e) => ok(false, 'test/faults', e.stack || String(e)))
  .finally(() => {
    process.exitCode = end();
  });
