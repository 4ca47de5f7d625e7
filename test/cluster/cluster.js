'use strict';
// test/cluster/cluster.js -- the cluster tests (issue 13 item 4), against the cluster test/cluster/run brought up
// with scripts/cluster: two Apache nodes, each with a second server on TRPCAUTH_CLUSTER_NOCACHE_PORT + i - 1 that
// has TrpcAuthSessionCache Off (test/devstack-test.conf), PostgreSQL primary + synchronous standby, Redis primary +
// replica + three Sentinels.
//
//   cross-node   a session made on node 1 works on node 2 and back; a transaction created on one is read on the other
//   logout       logout on node 2, then node 1 answers 401 on the very next request (rounds, both cache modes)
//   logoutAll    logoutAll on node 2: both sessions of the user answer 401 on node 1 at once (both cache modes)
//   reuse        a refresh token rotated on node 1 and again on node 2, then replayed on node 2: 401, and the
//                session is revoked on node 1 (latest refresh and access token 401)
//   midquery     a connection that breaks under a write (pg_terminate_backend while the INSERT waits on a lock)
//                answers 503 and the row is not written twice; the next request works; a read that loses its
//                connection the same way is answered (run again on a fresh connection)
//   pg-failover  `scripts/cluster fail pg-primary` while both nodes are under a bounded load: every answer is 200
//                or 503 SERVICE_UNAVAILABLE (never 500, 401, or no answer); reads and writes resume on every
//                node and server; no Apache restart (same parent pids); the window (first to last failed answer)
//   redis-failover  `scripts/cluster fail redis-primary` the same way (the module reaches Redis through the
//                Sentinels): 200 or 503 only; every session made before the kill still works; the window
//   bring-back   `scripts/cluster up` brings the killed servers back as standby and replica
//   nothing-lost every transaction whose create answered 200 (in every step, both failovers included) is in the
//                database afterwards, and none was written twice
//
// Prints the windows and writes them (ms) to $TRPCAUTH_STATE_DIR/cluster-windows.json. Last line: "N passed,
// N failed"; exit 1 on any failure.

const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const L = require('../hardening/lib.js');

const STATE = process.env.TRPCAUTH_STATE_DIR;
const BASE = Number(process.env.TRPCAUTH_PORT);
const NOCACHE = Number(process.env.TRPCAUTH_CLUSTER_NOCACHE_PORT);
const CLUSTER = path.join(L.ROOT, 'scripts', 'cluster');
const LOAD_CONC = Number(process.env.CLUSTER_LOAD_CONC || 6);
const LOGOUT_ROUNDS = Number(process.env.CLUSTER_LOGOUT_ROUNDS || 10);
const ONLY = new Set((process.env.CLUSTER_ONLY || 'cross-node,logout,logoutAll,reuse,midquery,pg-failover,redis-failover,bring-back,nothing-lost').split(','));
const PASSWORD = 'cluster-password-1';

const { ok, note, end } = L.tap();
const windows = {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------ HTTP

/** Node i (1-based) of the servers with the session cache (cache true) or without it. */
const origin = (i, cache = true) => new URL(`http://127.0.0.1:${(cache ? BASE : NOCACHE) + i - 1}`);
const MODES = [{ name: 'cache on', cache: true }, { name: 'cache off', cache: false }];

const call = L.trpcCall;

const show = (r) => (r.status ? `${r.status}${r.code ? ` ${r.code}` : ''} ${(r.text || '').slice(0, 160)}` : `no answer: ${r.err}`);
let userSeq = 0;

async function newUser(o, tag) {
  const email = `cluster-${tag}-${process.pid}-${++userSeq}-${Date.now()}@example.com`;
  const r = await call(o, 'POST', 'auth.register', { json: { email, password: PASSWORD } });
  if (r.status !== 200) throw new Error(`register on ${o.port}: ${show(r)}`);
  return email;
}

/** Logs in on o: {access, refresh, cookie (both cookies)}. */
async function login(o, email) {
  const r = await call(o, 'POST', 'auth.login', { json: { email, password: PASSWORD } });
  if (r.status !== 200) throw new Error(`login on ${o.port}: ${show(r)}`);
  return session(r);
}

function session(r) {
  const access = L.setCookie(r, 'accessToken');
  const refresh = L.setCookie(r, 'refreshToken');
  return { access, refresh, cookie: `accessToken=${access}; refreshToken=${refresh}` };
}

const me = (o, s) => call(o, 'GET', 'auth.me', { cookie: `accessToken=${s.access}` });
const refreshWith = (o, token) => call(o, 'POST', 'auth.refreshAccessToken', { cookie: `refreshToken=${token}` });

/** Every row a create answered 200 for: id -> summary. */
const created = new Map();
async function create(o, s, summary) {
  const r = await call(o, 'POST', 'transaction.create', {
    json: { amount: 1, txnType: 'Incoming', summary }, cookie: `accessToken=${s.access}`,
  });
  if (r.status === 200) {
    const row = r.json && r.json.result && r.json.result.data && r.json.result.data[0];
    if (row && row.id !== undefined) created.set(String(row.id), summary);
    else r.status = -200;   // a 200 without its row is a failure of its own
  }
  return r;
}

// ------------------------------------------------------------------------------------------------ the cluster

function cluster(args, timeout = 300000) {
  return spawnSync(CLUSTER, args, { env: process.env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
}

/** scripts/cluster ARGS in the background (the load goes on meanwhile). */
function clusterAsync(args) {
  return new Promise((resolve) => {
    const p = spawn(CLUSTER, args, { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (status) => resolve({ status, out }));
  });
}

function status() {
  const r = cluster(['status'], 60000);
  try { return JSON.parse(r.stdout); } catch { throw new Error(`scripts/cluster status: ${r.stdout} ${r.stderr}`); }
}

const PSQL = '/usr/lib/postgresql/15/bin/psql';
/** psql's arguments for the current PostgreSQL primary (from scripts/cluster status: it moves on failover). */
function psqlArgs() {
  const p = status().postgres.find((x) => x.role === 'primary');
  if (!p) throw new Error('no PostgreSQL primary');
  return ['-h', '127.0.0.1', '-p', String(p.port), '-U', 'trpcauth', '-d', 'trpcauth', '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1'];
}

function psql(sql, args = psqlArgs()) {
  const r = spawnSync(PSQL, [...args, '-c', sql], { encoding: 'utf8', timeout: 60000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

function redisCli(args, input) {
  const r = spawnSync(CLUSTER, ['redis-cli', ...args], { env: process.env, encoding: 'utf8', input, timeout: 60000 });
  if (r.status !== 0) throw new Error(`redis-cli: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const apacheParents = (st) => st.nodes.map((n) => n.pid).join(',');
const roles = (st) => [...st.postgres, ...st.redis].map((p) => `${p.name}=${p.role}`).join(' ');

function errorLogs() {
  return [1, 2].map((i) => path.join(STATE, `apache${i}`, 'logs', 'error_log'));
}

// ------------------------------------------------------------------------------------------------ load

/** Keeps requests going until stop() (or max); records each with its start and end. */
function backgroundLoad(conc, max, mk) {
  const results = [];
  let stopped = false;
  let i = 0;
  async function worker() {
    while (!stopped && i < max) {
      const n = i++;
      const t0 = Date.now();
      const r = await mk(n);
      results.push({ status: r.status, code: r.code, text: (r.text || '').slice(0, 200), err: r.err, t0, t1: Date.now(), n, op: r.op });
    }
  }
  const done = Promise.all(Array.from({ length: conc }, worker));
  return { results, stop: () => { stopped = true; return done; } };
}

/** The mixed load on both nodes and both servers of each: auth.me (Redis) and transaction.create (PostgreSQL
 * and Redis), with the given sessions; creates are summarised `${tag}-${n}`. */
function mixedLoad(tag, sessions) {
  const origins = [origin(1), origin(2), origin(1, false), origin(2, false)];
  return backgroundLoad(LOAD_CONC, 20000, async (n) => {
    const o = origins[n % origins.length];
    const s = sessions[n % sessions.length];
    let r;
    if (n % 2 === 0) {
      r = await me(o, s);
      r.op = 'read';
    } else {
      r = await create(o, s, `${tag}-${n}`);
      r.op = 'write';
    }
    return r;
  });
}

function byStatus(rs) {
  const by = {};
  for (const r of rs) {
    const k = r.status ? `${r.status}${r.code ? ` ${r.code}` : ''}` : `ERR ${r.err}`;
    by[k] = (by[k] || 0) + 1;
  }
  return by;
}

/** Runs the load, starts `scripts/cluster fail what` after 1.5 s, and goes on until both kinds of request have
 * answered 200 for 2 s after the command returned (at most 45 s). */
async function failoverUnderLoad(tag, what, sessions) {
  const load = mixedLoad(tag, sessions);
  await sleep(1500);
  const before = load.results.length;
  const tFail = Date.now();
  const cmd = await clusterAsync(['fail', what]);
  const tDone = Date.now();
  const deadline = tDone + 45000;
  for (;;) {
    await sleep(200);
    const recent = load.results.filter((r) => r.t0 >= Math.max(tDone, Date.now() - 2000));
    const settled = Date.now() - tDone >= 2000 && recent.length > 0 && recent.every((r) => r.status === 200)
      && recent.some((r) => r.op === 'read') && recent.some((r) => r.op === 'write');
    if (settled || Date.now() > deadline) break;
  }
  await load.stop();
  const rs = load.results;
  const bad = rs.filter((r) => r.status !== 200);
  const win = bad.length ? Math.max(...bad.map((r) => r.t1)) - Math.min(...bad.map((r) => r.t0)) : 0;
  // scripts/cluster fail prints when it killed the primary and when the new one was there
  const killed = Number((/killed at (\d+)/.exec(cmd.out) || [])[1]) || tFail;
  const promoted = Number((/(?:promoted|is the primary) at (\d+)/.exec(cmd.out) || [])[1]) || tDone;
  const afterKill = bad.length ? Math.max(...bad.map((r) => r.t1)) - killed : 0;
  return { rs, before, bad, cmd, tFail, tDone, win, afterKill, promoteMs: promoted - killed };
}

/** After a failover: on every node and server, a read and a write answer 200. */
async function allServe(s, tag) {
  const out = [];
  for (const cache of [true, false]) {
    for (const i of [1, 2]) {
      const o = origin(i, cache);
      const a = await me(o, s);
      const b = await create(o, s, `${tag}-${o.port}`);
      if (a.status !== 200 || b.status !== 200) out.push(`${o.port}: me ${show(a)}; create ${show(b)}`);
    }
  }
  return out;
}

function checkAnswers(name, f) {
  const wrong = f.rs.filter((r) => r.status !== 200 && !(r.status === 503 && r.code === 'SERVICE_UNAVAILABLE'));
  ok(f.cmd.status === 0, `${name}: scripts/cluster fail ran`, f.cmd.status === 0 ? '' : f.cmd.out.slice(-1500));
  ok(wrong.length === 0, `${name}: every answer under load is 200 or 503 SERVICE_UNAVAILABLE`,
     `${f.rs.length} requests: ${JSON.stringify(byStatus(f.rs))}` +
     (wrong.length ? `\nfirst wrong: ${JSON.stringify(wrong.slice(0, 5))}` : ''));
  ok(f.rs.slice(0, f.before).every((r) => r.status === 200), `${name}: all 200 before the kill`);
  const w = f.rs.filter((r) => r.op === 'write' && r.t0 > f.tDone && r.status === 200).length;
  const rd = f.rs.filter((r) => r.op === 'read' && r.t0 > f.tDone && r.status === 200).length;
  ok(w > 0 && rd > 0, `${name}: reads and writes answer 200 again under the same load`, `${rd} reads, ${w} writes after the command returned`);
}

// ------------------------------------------------------------------------------------------------ the steps

async function crossNode() {
  for (const m of MODES) {
    const n1 = origin(1, m.cache);
    const n2 = origin(2, m.cache);
    const email = await newUser(n1, 'x');
    const s = await login(n1, email);
    const a = await me(n2, s);
    ok(a.status === 200 && a.json.result.data.email === email, `cross-node (${m.name}): a session made on node 1 works on node 2`, show(a));
    const c = await create(n2, s, `cross-${m.cache}`);
    const id = c.status === 200 ? c.json.result.data[0].id : null;
    const g = await call(n1, 'GET', 'transaction.getAll', { cookie: `accessToken=${s.access}` });
    ok(c.status === 200 && g.status === 200 && g.json.result.data.some((t) => t.id === id),
       `cross-node (${m.name}): a transaction created on node 2 is read on node 1`, `${show(c)} / ${show(g)}`);
    const s2 = await login(n2, email);
    const b = await me(n1, s2);
    ok(b.status === 200, `cross-node (${m.name}): a session made on node 2 works on node 1`, show(b));
  }
}

async function logoutAcross() {
  for (const m of MODES) {
    const n1 = origin(1, m.cache);
    const n2 = origin(2, m.cache);
    const email = await newUser(n1, 'lo');
    const wrong = [];
    for (let k = 0; k < LOGOUT_ROUNDS; k++) {
      const s = await login(n1, email);
      // node 1's children have the session (cached where the cache is on)
      const warm = [await me(n1, s), await me(n1, s), await me(n1, s)];
      if (!warm.every((r) => r.status === 200)) { wrong.push(`round ${k}: before logout ${warm.map(show).join(' | ')}`); continue; }
      const lo = await call(n2, 'POST', 'auth.logout', { cookie: s.cookie });
      if (lo.status !== 200) { wrong.push(`round ${k}: logout on node 2 ${show(lo)}`); continue; }
      const after = await me(n1, s);
      if (after.status !== 401) wrong.push(`round ${k}: node 1 after the logout: ${show(after)}`);
    }
    ok(wrong.length === 0, `logout (${m.name}): logout on node 2, node 1 answers 401 on the very next request (${LOGOUT_ROUNDS} rounds)`, wrong.join('\n'));
  }
}

async function logoutAllAcross() {
  for (const m of MODES) {
    const n1 = origin(1, m.cache);
    const n2 = origin(2, m.cache);
    const email = await newUser(n1, 'la');
    const wrong = [];
    for (let k = 0; k < Math.max(1, LOGOUT_ROUNDS / 2); k++) {
      const a = await login(n1, email);
      const b = await login(n1, email);
      const warm = [await me(n1, a), await me(n1, b), await me(n1, a), await me(n1, b)];
      if (!warm.every((r) => r.status === 200)) { wrong.push(`round ${k}: before logoutAll ${warm.map(show).join(' | ')}`); continue; }
      const lo = await call(n2, 'POST', 'auth.logoutAll', { cookie: a.cookie });
      if (lo.status !== 200) { wrong.push(`round ${k}: logoutAll on node 2 ${show(lo)}`); continue; }
      const ra = await me(n1, a);
      const rb = await me(n1, b);
      if (ra.status !== 401 || rb.status !== 401) wrong.push(`round ${k}: node 1 after logoutAll: ${show(ra)} | ${show(rb)}`);
    }
    ok(wrong.length === 0, `logoutAll (${m.name}): logoutAll on node 2, both sessions answer 401 on node 1 at once`, wrong.join('\n'));
  }
}

async function reuseAcross() {
  for (const m of MODES) {
    const n1 = origin(1, m.cache);
    const n2 = origin(2, m.cache);
    const email = await newUser(n1, 'ru');
    const s1 = await login(n1, email);
    const r2 = await refreshWith(n1, s1.refresh);
    const s2 = r2.status === 200 ? session(r2) : null;
    const r3 = s2 ? await refreshWith(n2, s2.refresh) : r2;
    const s3 = r3.status === 200 ? session(r3) : null;
    ok(s2 && s3 && s3.refresh !== s2.refresh && s2.refresh !== s1.refresh,
       `reuse (${m.name}): the refresh token rotates on node 1, then on node 2`, `${show(r2)} / ${show(r3)}`);
    if (!s3) continue;
    const warm = await me(n1, s3);
    const replay = await refreshWith(n2, s1.refresh);
    ok(warm.status === 200 && replay.status === 401, `reuse (${m.name}): the first refresh token replayed on node 2 is refused`, `${show(warm)} / ${show(replay)}`);
    const latest = await refreshWith(n1, s3.refresh);
    const access = await me(n1, s3);
    ok(latest.status === 401 && access.status === 401,
       `reuse (${m.name}): the session is revoked on node 1 (latest refresh token and access token 401)`, `${show(latest)} / ${show(access)}`);
  }
}

/** A psql session on the current primary that keeps its transaction open: send() writes SQL, waitFor(re) waits
 * for output. */
function lockerSession(args) {
  const p = spawn(PSQL, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  const closed = new Promise((r) => p.on('close', r));
  return {
    send: (sql) => p.stdin.write(`${sql}\n`),
    waitFor: async (re, ms = 10000) => {
      const end = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`psql: no ${re} in ${JSON.stringify(out)}`);
        await sleep(20);
      }
    },
    end: async () => { p.stdin.end(); await closed; },
    output: () => out,
  };
}

/** Holds `lock` on transactions, starts request(), waits until a backend waits on the lock running the module's
 * prepared statement `label`, terminates it and commits, in one go; resolves to the request's answer. */
async function breakUnderLock(lock, label, request) {
  const args = psqlArgs();
  const like = `PREPARE ${label} `;
  const locker = lockerSession(args);
  try {
    locker.send(`BEGIN; LOCK TABLE transactions IN ${lock} MODE; SELECT 'locked';`);
    await locker.waitFor(/locked/);
    const pending = request();
    const end = Date.now() + 5000;
    let waiting = false;
    while (!waiting && Date.now() < end) {
      const rows = psql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '${like}%'`, args);
      waiting = rows.length > 0 && Number(rows[0][0]) > 0;
      if (!waiting) await sleep(30);
    }
    locker.send(`SELECT 'terminated:' || count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '${like}%'; COMMIT;`);
    await locker.waitFor(/terminated:\d/);
    const r = await pending;
    return { r, waiting, terminated: /terminated:([1-9])/.test(locker.output()) };
  } finally {
    await locker.end();
  }
}

async function midQuery() {
  const n1 = origin(1, false);
  const email = await newUser(n1, 'mq');
  const s = await login(n1, email);
  const summary = `midquery-${process.pid}-${Date.now()}`;
  const logs = errorLogs();
  const sizes = logs.map(L.fileSize);
  // Connections that a previous break left without their prepared statements prepare them now, so that the lock
  // below catches the INSERT itself and not its PREPARE.
  for (let k = 0; k < 4; k++) await create(n1, s, `${summary}-before-${k}`);
  const w = await breakUnderLock('SHARE ROW EXCLUSIVE', 'trpcauth_txn_insert', () => create(n1, s, summary));
  ok(w.waiting && w.terminated, 'midquery: the INSERT waited on the lock and its backend was terminated');
  ok(w.r.status === 503 && w.r.code === 'SERVICE_UNAVAILABLE', 'midquery: a write whose connection breaks under it answers 503', show(w.r));
  const logged = logs.map((f, i) => { try { return fs.readFileSync(f, 'utf8').slice(sizes[i]); } catch { return ''; } }).join('');
  ok(/TRPCAUTH203: trpcauth_txn_insert failed: .*terminating connection/.test(logged),
     'midquery: it failed because its connection was terminated (TRPCAUTH203), not by TrpcAuthDBTimeout',
     logged.split('\n').filter((l) => /TRPCAUTH2/.test(l)).slice(0, 3).join('\n'));
  const rows = psql(`SELECT count(*) FROM transactions WHERE summary = '${summary}'`);
  ok(rows[0][0] === '0', 'midquery: the broken write was not run again (no row)', `${rows[0][0]} rows`);
  const next = [];
  for (let k = 0; k < 4; k++) next.push(await create(n1, s, `${summary}-next-${k}`));
  ok(next.every((r) => r.status === 200), 'midquery: the next requests on the node answer 200 (fresh connections)', next.map(show).join(' | '));
  // The broken write's connection came back without its prepared statements; reads prepare trpcauth_txn_list on
  // it now, so that the lock below catches the read itself and not its PREPARE (whose breaking is a 503 too).
  for (let k = 0; k < 4; k++) await call(n1, 'GET', 'transaction.getAll', { cookie: `accessToken=${s.access}` });
  const rd = await breakUnderLock('ACCESS EXCLUSIVE', 'trpcauth_txn_list',
    () => call(n1, 'GET', 'transaction.getAll', { cookie: `accessToken=${s.access}` }));
  ok(rd.waiting && rd.terminated && rd.r.status === 200 && Array.isArray(rd.r.json.result.data),
     'midquery: a read whose connection breaks under it is run again on a fresh connection (200)', `${rd.waiting} ${rd.terminated} ${show(rd.r)}`);
}

/** Sessions for the failover loads, made on both nodes; every one known to the replica before going on. */
async function loadSessions(n) {
  const out = [];
  for (let k = 0; k < n; k++) {
    const o = origin(1 + (k % 2), k % 4 < 2);
    out.push(await login(o, await newUser(o, 'load')));
  }
  const w = redisCli([], 'SET trpcauth-cluster-test:wait 1\nWAIT 1 5000\n');
  if (w[1] !== '1') throw new Error(`the Redis replica did not acknowledge: ${w.join(' ')}`);
  return out;
}

async function pgFailover() {
  const sessions = await loadSessions(8);
  const st0 = status();
  note(`before: ${roles(st0)}`);
  const f = await failoverUnderLoad('pgload', 'pg-primary', sessions);
  const st1 = status();
  note(`after:  ${roles(st1)}; ${f.rs.length} requests, ${JSON.stringify(byStatus(f.rs))}`);
  checkAnswers('pg-failover', f);
  ok(f.bad.length > 0, 'pg-failover: the kill was seen (some answers 503)', `${f.bad.length} answers 503`);
  const still = await allServe(sessions[0], 'pgafter');
  ok(still.length === 0, 'pg-failover: after the promotion every node and server reads and writes', still.join('\n'));
  ok(apacheParents(st0) === apacheParents(st1) && st1.nodes.every((n) => n.up),
     'pg-failover: no Apache restart (same parent pids, all up)', `${apacheParents(st0)} -> ${apacheParents(st1)}`);
  const primary = st1.postgres.filter((p) => p.role === 'primary');
  ok(primary.length === 1 && st0.postgres.find((p) => p.name === primary[0].name).role === 'standby',
     'pg-failover: the standby is the primary now', roles(st1));
  windows.pg_failed_answers_ms = f.win;
  windows.pg_kill_to_last_failed_answer_ms = f.afterKill;
  windows.pg_kill_to_promoted_ms = f.promoteMs;
  console.log(`# window  PostgreSQL failover: ${f.win} ms from the first to the last failed answer (${f.bad.length} of ${f.rs.length} answers 503); ` +
              `${f.afterKill} ms from the kill to the end of the last failed answer; pg_ctl promote done ${f.promoteMs} ms after the kill`);
}

async function redisFailover() {
  const sessions = await loadSessions(8);
  const extra = await loadSessions(8);      // made before the kill, not used by the load
  const st0 = status();
  note(`before: ${roles(st0)}`);
  const f = await failoverUnderLoad('redisload', 'redis-primary', sessions);
  const st1 = status();
  note(`after:  ${roles(st1)}; ${f.rs.length} requests, ${JSON.stringify(byStatus(f.rs))}`);
  checkAnswers('redis-failover', f);
  const still = await allServe(sessions[0], 'redisafter');
  ok(still.length === 0, 'redis-failover: after the promotion every node and server reads and writes', still.join('\n'));
  const lost = [];
  for (const [k, s] of [...sessions, ...extra].entries()) {
    for (const cache of [true, false]) {
      const r = await me(origin(1 + (k % 2), cache), s);
      if (r.status !== 200) lost.push(`session ${k} on ${1 + (k % 2)} (cache ${cache}): ${show(r)}`);
    }
  }
  ok(lost.length === 0, `redis-failover: every session made before the kill still works (${sessions.length + extra.length}, on both servers)`, lost.join('\n'));
  ok(apacheParents(st0) === apacheParents(st1), 'redis-failover: no Apache restart (same parent pids)');
  const primary = st1.redis.filter((p) => p.role === 'primary');
  ok(primary.length === 1 && st0.redis.find((p) => p.name === primary[0].name).role === 'replica',
     'redis-failover: the replica is the primary now', roles(st1));
  windows.redis_failed_answers_ms = f.win;
  windows.redis_kill_to_last_failed_answer_ms = f.afterKill;
  windows.redis_kill_to_promoted_ms = f.promoteMs;
  console.log(`# window  Redis failover: ${f.win} ms from the first to the last failed answer (${f.bad.length} of ${f.rs.length} answers 503); ` +
              `${f.afterKill} ms from the kill to the end of the last failed answer; the Sentinels named the new primary (seen by scripts/cluster) ${f.promoteMs} ms after the kill`);
}

async function bringBack() {
  const t0 = Date.now();
  const r = cluster(['up']);
  ok(r.status === 0, 'bring-back: scripts/cluster up', r.status === 0 ? `${Date.now() - t0} ms` : (r.stdout + r.stderr).slice(-1500));
  const st = status();
  const pg = st.postgres.map((p) => p.role).sort().join(',');
  const rd = st.redis.map((p) => p.role).sort().join(',');
  ok(pg === 'primary,standby' && rd === 'primary,replica' && st.sentinels.every((s) => s.up) && st.nodes.every((n) => n.up),
     'bring-back: the killed servers are back as standby and replica, everything up', roles(st));
  const s = await login(origin(2), await newUser(origin(2), 'back'));
  const still = await allServe(s, 'back');
  ok(still.length === 0, 'bring-back: every node and server reads and writes', still.join('\n'));
}

function nothingLost() {
  const ids = [...created.keys()];
  const found = new Set();
  for (let i = 0; i < ids.length; i += 2000) {
    const part = ids.slice(i, i + 2000);
    for (const row of psql(`SELECT id FROM transactions WHERE id IN (${part.join(',')})`)) found.add(row[0]);
  }
  const missing = ids.filter((id) => !found.has(id));
  ok(ids.length > 0 && missing.length === 0, `nothing-lost: every transaction whose create answered 200 is there (${ids.length})`,
     missing.length ? `missing ids: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ' ...' : ''}` : '');
  const dup = psql("SELECT summary, count(*) FROM transactions WHERE summary LIKE 'pgload-%' OR summary LIKE 'redisload-%' GROUP BY summary HAVING count(*) > 1");
  ok(dup.length === 0, 'nothing-lost: no create was written twice', dup.slice(0, 10).map((d) => d.join(' x')).join(', '));
}

function noCrash() {
  const lines = errorLogs().map((f) => { try { return L.crashLines(fs.readFileSync(f, 'utf8')); } catch { return []; } }).flat();
  ok(lines.length === 0, 'no Apache child crashed (error logs)', lines.slice(0, 5).join('\n'));
}

async function step(name, fn) {
  if (!ONLY.has(name)) return;
  console.log(`# ---- ${name}`);
  try {
    await fn();
  } catch (e) {
    ok(false, `${name}: ran to the end`, e.stack || String(e));
  }
}

(async () => {
  const st = status();
  note(`cluster: ${JSON.stringify(st)}`);
  await step('cross-node', crossNode);
  await step('logout', logoutAcross);
  await step('logoutAll', logoutAllAcross);
  await step('reuse', reuseAcross);
  await step('midquery', midQuery);
  await step('pg-failover', pgFailover);
  await step('redis-failover', redisFailover);
  await step('bring-back', bringBack);
  await step('nothing-lost', nothingLost);
  noCrash();
  fs.writeFileSync(path.join(STATE, 'cluster-windows.json'), `${JSON.stringify(windows, null, 2)}\n`);
  console.log(`# windows (ms): ${JSON.stringify(windows)}  -> ${path.join(STATE, 'cluster-windows.json')}`);
  process.exit(end());
})();
