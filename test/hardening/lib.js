'use strict';
// Helpers shared by test/hardening/run, test/faults/run and bench/soak: a raw HTTP/1.1 client (bytes on the wire
// exactly as given: no URL normalisation, duplicate headers, bad Content-Length, chunked bodies), the stack's
// state dir, psql / redis-cli through scripts/devstack, HS256 token forging. Node 20, no npm dependencies.

const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');

function stateDir() {
  const s = process.env.TRPCAUTH_STATE_DIR || process.env.TRPCAUTH_TEST_STATE || '.devstack';
  return path.isAbsolute(s) ? s : path.join(ROOT, s);
}

function baseUrl() {
  const t = process.env.TRPC_URL;
  if (t) return new URL(t);
  const saved = readSaved();
  return new URL(`http://127.0.0.1:${saved.PORT || 8080}/trpc`);
}

function readSaved() {
  const out = {};
  try {
    for (const line of fs.readFileSync(path.join(stateDir(), 'devstack.env'), 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
  } catch { /* not there: defaults */ }
  return out;
}

function devstack(args, opts = {}) {
  return execFileSync(path.join(ROOT, 'scripts', 'devstack'), args, {
    env: { ...process.env, TRPCAUTH_STATE_DIR: stateDir() },
    encoding: 'utf8',
    input: opts.input,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', opts.quiet ? 'ignore' : 'pipe'],
    timeout: opts.timeout || 60000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** One SQL statement through scripts/devstack psql, unaligned tuples only; returns rows of fields. */
function psql(sql) {
  const out = devstack(['psql', '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

function redisCli(args, input) {
  return devstack(['redis-cli', ...args], { input }).split('\n').filter((l) => l !== '');
}

/** PTTL (ms; -1 none, -2 gone) of each key, in one redis-cli call. */
function redisPttl(keys) {
  if (keys.length === 0) return [];
  const quote = (k) => `"${k.replace(/["\\]/g, '\\$&')}"`;
  return redisCli([], keys.map((k) => `PTTL ${quote(k)}`).join('\n') + '\n').map(Number);
}

// ------------------------------------------------------------------------------------------------ raw HTTP/1.1

/**
 * Sends one request on a fresh connection (Connection: close) and resolves to
 * {status, headers (lower-cased names, arrays), headerList, body (Buffer), text, json, ms}.
 * opts: method, target (raw request-target), headers [[name, value], ...], body (Buffer|string),
 *       chunked (send the body in chunked encoding), contentLength (override, string), timeout (ms).
 * Rejects on a connection error or timeout (err.code 'ETIMEOUT').
 */
function request(base, opts) {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const body = opts.body == null ? null : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8');
    const lines = [`${opts.method || 'GET'} ${opts.target} HTTP/1.1`, `Host: ${base.host}`, 'Connection: close'];
    for (const [k, v] of opts.headers || []) lines.push(`${k}: ${v}`);
    if (opts.chunked) lines.push('Transfer-Encoding: chunked');
    else if (opts.contentLength != null) lines.push(`Content-Length: ${opts.contentLength}`);
    else if (body) lines.push(`Content-Length: ${body.length}`);
    const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
    const sock = net.connect({ host: base.hostname, port: Number(base.port || 80) });
    const chunks = [];
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      sock.destroy();
      const e = new Error(`timeout after ${opts.timeout || 30000} ms`);
      e.code = 'ETIMEOUT';
      reject(e);
    }, opts.timeout || 30000);
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      try {
        resolve(parseResponse(Buffer.concat(chunks), ms));
      } catch (e) {
        reject(e);
      }
    };
    sock.on('connect', () => {
      sock.write(head);
      if (body && opts.chunked) {
        for (let i = 0; i < body.length; i += 8192) {
          const part = body.subarray(i, i + 8192);
          sock.write(part.length.toString(16) + '\r\n');
          sock.write(part);
          sock.write('\r\n');
        }
        sock.write('0\r\n\r\n');
      } else if (body) {
        sock.write(body);
      }
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', (e) => {
      // The server may answer (413, 400) and close before it read the whole body: keep what came back.
      if (chunks.length && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) return finish();
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(e);
    });
  });
}

function parseResponse(buf, ms) {
  const sep = buf.indexOf('\r\n\r\n');
  if (sep < 0) {
    const e = new Error(`no complete response (${buf.length} bytes)`);
    e.code = 'EBADRESPONSE';
    throw e;
  }
  const headLines = buf.subarray(0, sep).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(headLines[0]);
  if (!m) throw new Error(`bad status line ${JSON.stringify(headLines[0])}`);
  const headers = {};
  const headerList = [];
  for (const l of headLines.slice(1)) {
    const i = l.indexOf(':');
    if (i < 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    (headers[k] = headers[k] || []).push(v);
    headerList.push([k, v]);
  }
  let body = buf.subarray(sep + 4);
  if ((headers['transfer-encoding'] || []).some((v) => /chunked/i.test(v))) body = dechunk(body);
  else if (headers['content-length']) body = body.subarray(0, Number(headers['content-length'][0]));
  const text = body.toString('utf8');
  let json;
  const ct = (headers['content-type'] || [''])[0];
  if (/application\/json/i.test(ct)) {
    try { json = JSON.parse(text); } catch { json = undefined; }
  }
  return { status: Number(m[1]), headers, headerList, body, text, json, contentType: ct, ms };
}

function dechunk(b) {
  const out = [];
  let i = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', i);
    if (eol < 0) break;
    const n = parseInt(b.subarray(i, eol).toString('latin1'), 16);
    if (!n) break;
    out.push(b.subarray(eol + 2, eol + 2 + n));
    i = eol + 2 + n + 2;
  }
  return Buffer.concat(out);
}

// ------------------------------------------------------------------------------------------------ tokens

const b64u = (b) => Buffer.from(b).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

function readSecret(name) {
  const f = path.join(stateDir(), 'secrets', name);
  let s = fs.readFileSync(f, 'latin1');
  if (s.endsWith('\n')) s = s.slice(0, -1);
  if (s.endsWith('\r')) s = s.slice(0, -1);
  return Buffer.from(s, 'latin1');
}

/** A JWT: header and payload objects (or raw strings), signed with HMAC-<hash> over key, or unsigned. */
function signJwt(header, payload, key, hash = 'sha256') {
  const enc = (x) => b64u(typeof x === 'string' ? x : JSON.stringify(x));
  const input = `${enc(header)}.${enc(payload)}`;
  if (!key) return `${input}.`;
  return `${input}.${b64u(crypto.createHmac(hash, key).update(input).digest())}`;
}

function decodeJwtPayload(t) {
  return JSON.parse(Buffer.from(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
}

/** The value of cookie `name` among a response's Set-Cookie headers. */
function setCookie(res, name) {
  for (const c of res.headers['set-cookie'] || []) {
    const pair = c.split(';')[0];
    const i = pair.indexOf('=');
    if (pair.slice(0, i).trim() === name) return pair.slice(i + 1).trim();
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------ Apache

function apachePid() {
  try {
    const pid = Number(fs.readFileSync(path.join(stateDir(), 'run', 'httpd.pid'), 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return 0;
  }
}

/** The pids of the Apache parent's direct children (its workers; cgid's daemon too, if loaded). */
function apacheChildren(ppid = apachePid()) {
  if (!ppid) return [];
  try {
    return execFileSync('pgrep', ['-P', String(ppid)], { encoding: 'utf8' })
      .split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function errorLogPath() {
  return path.join(stateDir(), 'logs', 'error_log');
}

function fileSize(f) {
  try { return fs.statSync(f).size; } catch { return 0; }
}

/** The error-log text written since byte offset `from`. */
function errorLogSince(from) {
  const f = errorLogPath();
  const size = fileSize(f);
  if (size <= from) return '';
  const fd = fs.openSync(f, 'r');
  try {
    const b = Buffer.alloc(size - from);
    fs.readSync(fd, b, 0, b.length, from);
    return b.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Lines of a log excerpt that tell of a crashed child. */
function crashLines(text) {
  return text.split('\n').filter((l) => /Segmentation fault|exit signal|AH00052|AddressSanitizer|double free|Aborted/i.test(l));
}

// ------------------------------------------------------------------------------------------------ suites' output
/** The output of a suite run by scripts/test: ok() prints "ok" or "not ok" (and the detail) and counts; note() a
 * comment; end() prints the failed names, then "N passed, N failed" (the suite's last line) and returns the exit
 * code. */
function tap() {
  let passed = 0;
  let failed = 0;
  const failures = [];
  return {
    ok(cond, name, detail = '') {
      if (cond) {
        passed++;
        console.log(`ok      ${name}${detail ? `  (${detail})` : ''}`);
      } else {
        failed++;
        failures.push(name);
        console.log(`not ok  ${name}${detail ? `\n        ${String(detail).split('\n').join('\n        ')}` : ''}`);
      }
      return cond;
    },
    note: (s) => console.log(`#       ${s}`),
    end() {
      if (failures.length) console.log(`failed:\n  ${failures.join('\n  ')}`);
      console.log(`${passed} passed, ${failed} failed`);
      return failed ? 1 : 0;
    },
  };
}

/** One call of a tRPC procedure (target "proc" under trpcPath) or of any path (target "/..."), that never throws:
 * no connection or a timeout gives { status: 0, err }. json, when given, is the body; a POST without it sends an
 * empty one. r.code is the answer's tRPC error code, if any. */
async function trpcCall(origin, method, target, { json, cookie, timeout = 10000, trpcPath = '/trpc' } = {}) {
  const headers = [];
  let body = null;
  if (json !== undefined || method === 'POST') {
    body = json === undefined ? '' : JSON.stringify(json);
    headers.push(['Content-Type', 'application/json']);
  }
  if (cookie) headers.push(['Cookie', cookie]);
  const path = target.startsWith('/') ? target : `${trpcPath}/${target}`;
  try {
    const r = await request(origin, { method, target: path, headers, body, timeout });
    r.code = r.json && r.json.error && r.json.error.data ? r.json.error.data.code : undefined;
    return r;
  } catch (e) {
    return { status: 0, err: `${e.code || ''} ${e.message}`.trim(), ms: timeout, text: '' };
  }
}

module.exports = {
  ROOT, stateDir, baseUrl, readSaved, devstack, psql, redisCli, redisPttl, request, parseResponse,
  b64u, readSecret, signJwt, decodeJwtPayload, setCookie,
  apachePid, apacheChildren, errorLogPath, fileSize, errorLogSince, crashLines, tap, trpcCall,
};
