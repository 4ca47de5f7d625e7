// Shared helpers for the mod_trpcauth client suite.
//
// Everything here drives the module with the REAL @trpc/client (v11 at the top level, v10.45.2 through the local
// package ./trpc10, the version the tutorial's Next.js frontend pins). Nothing is mocked: each "browser" is a cookie
// jar around Node's global fetch (trpc-http-protocol.md §10), and every request/response it makes is recorded so tests
// can count requests and look at the exact headers.

import assert from 'node:assert/strict';
import {
  createTRPCClient,
  createTRPCUntypedClient,
  httpLink,
  httpBatchLink,
  httpBatchStreamLink,
  TRPCClientError,
} from '@trpc/client';
import * as trpc10 from 'trpc10';
import superjson from 'superjson';

export { superjson, TRPCClientError };
export const TRPCClientError10 = trpc10.TRPCClientError;

export const TRPC_URL = process.env.TRPC_URL ?? 'http://127.0.0.1:18080/trpc';
export const TRPC_SJ_URL = process.env.TRPC_SJ_URL ?? 'http://127.0.0.1:18080/trpc-superjson';

// Cookie lifetimes the stack is expected to use (CONTRACT §4/§9 defaults: 15m access, 7d refresh).
export const ACCESS_TTL = Number(process.env.TRPCAUTH_TEST_ACCESS_TTL ?? 900);
export const REFRESH_TTL = Number(process.env.TRPCAUTH_TEST_REFRESH_TTL ?? 604800);

export const PASSWORD = 'password123';

// ---------------------------------------------------------------------------------------------------------------
// Set-Cookie parsing

/** Parse one Set-Cookie header line into {name, value, attrs} with lower-cased attribute names. */
export function parseSetCookie(line) {
  const parts = line.split(';');
  const pair = parts.shift();
  const i = pair.indexOf('=');
  assert.ok(i > 0, `malformed Set-Cookie (no name=value): ${JSON.stringify(line)}`);
  const name = pair.slice(0, i).trim();
  const value = pair.slice(i + 1).trim();
  const attrs = {};
  for (const p of parts) {
    const j = p.indexOf('=');
    const k = (j < 0 ? p : p.slice(0, j)).trim().toLowerCase();
    if (!k) continue;
    attrs[k] = j < 0 ? true : p.slice(j + 1).trim();
  }
  return { name, value, attrs, raw: line };
}

function isDeletion(c) {
  if (c.value === '') return true;
  if ('max-age' in c.attrs && Number(c.attrs['max-age']) <= 0) return true;
  if (!('max-age' in c.attrs) && 'expires' in c.attrs) {
    const t = Date.parse(c.attrs.expires);
    if (!Number.isNaN(t) && t <= Date.now()) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// A simulated browser: one cookie jar + a fetch that records every exchange.

let browserSeq = 0;

export class Browser {
  constructor(name = `browser${++browserSeq}`) {
    this.name = name;
    this.jar = new Map(); // cookie name -> value
    /** @type {{method:string,url:string,reqHeaders:Record<string,string>,body:any,status:number,resHeaders:Headers,setCookies:ReturnType<typeof parseSetCookie>[]}[]} */
    this.exchanges = [];
    this.fetch = this.fetch.bind(this);
  }

  get requestCount() {
    return this.exchanges.length;
  }

  get last() {
    return this.exchanges[this.exchanges.length - 1];
  }

  cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async fetch(input, init = {}) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init.headers ?? {}); // tRPC passes a plain object
    if (this.jar.size) headers.set('cookie', this.cookieHeader());
    const method = (init.method ?? 'GET').toUpperCase();
    const ex = {
      method,
      url,
      reqHeaders: Object.fromEntries(headers),
      body: init.body,
      status: 0,
      resHeaders: null,
      setCookies: [],
    };
    this.exchanges.push(ex);
    const res = await fetch(url, { ...init, headers });
    ex.status = res.status;
    ex.resHeaders = res.headers;
    for (const sc of res.headers.getSetCookie()) {
      const c = parseSetCookie(sc);
      ex.setCookies.push(c);
      if (isDeletion(c)) this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    return res;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Unique test data

let emailSeq = 0;
/** A fresh, lower-case, valid e-mail address that no other run will use. */
export function uniqueEmail(tag = 'u') {
  const rnd = Math.random().toString(36).slice(2, 8);
  return `ct-${tag}-${Date.now().toString(36)}-${process.pid}-${++emailSeq}-${rnd}@example.com`.toLowerCase();
}

// ---------------------------------------------------------------------------------------------------------------
// Client factories

export const LINKS = { httpLink, httpBatchLink, httpBatchStreamLink };

/** v11 link options for the given browser (and superjson when asked). */
function linkOpts(browser, url, transformer) {
  const o = { url, fetch: browser.fetch };
  if (transformer) o.transformer = transformer;
  return o;
}

/** v11 proxy client (`createTRPCClient`) over one link kind: 'httpLink' | 'httpBatchLink' | 'httpBatchStreamLink'. */
export function v11Client(linkName, browser, { url = TRPC_URL, transformer } = {}) {
  const link = LINKS[linkName];
  assert.ok(link, `unknown link ${linkName}`);
  return createTRPCClient({ links: [link(linkOpts(browser, url, transformer))] });
}

/** v11 untyped client (string paths), for paths that do not exist on the router. */
export function v11Untyped(linkName, browser, { url = TRPC_URL, transformer } = {}) {
  const link = LINKS[linkName];
  assert.ok(link, `unknown link ${linkName}`);
  return createTRPCUntypedClient({ links: [link(linkOpts(browser, url, transformer))] });
}

/**
 * The tutorial frontend's client, exactly as FT:frontend/src/utils/trpc.ts builds it (v10.45.2, superjson on the
 * client, one httpBatchLink), with the browser's cookie jar standing in for `credentials: "include"`.
 */
export function v10Client(browser, { url = TRPC_SJ_URL } = {}) {
  return trpc10.createTRPCProxyClient({
    transformer: superjson,
    links: [trpc10.httpBatchLink({ url, fetch: browser.fetch })],
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Assertions

export const ISO_UTC_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Value is an ISO-8601 UTC string (2024-05-06T07:08:09.000Z) within `slackMs` of now. */
export function assertIsoNow(v, what, slackMs = 5 * 60_000) {
  assert.equal(typeof v, 'string', `${what} must be an ISO string, got ${typeof v}: ${JSON.stringify(v)}`);
  assert.match(v, ISO_UTC_MS, `${what} must look like 2024-05-06T07:08:09.000Z, got ${v}`);
  const dt = Math.abs(Date.parse(v) - Date.now());
  assert.ok(dt < slackMs, `${what}=${v} is ${Math.round(dt / 1000)} s away from now (time zone bug?)`);
}

/** Value is a real Date within `slackMs` of now. */
export function assertDateNow(v, what, slackMs = 5 * 60_000) {
  assert.ok(v instanceof Date, `${what} must be a Date, got ${Object.prototype.toString.call(v)}: ${JSON.stringify(v)}`);
  assert.ok(!Number.isNaN(v.getTime()), `${what} is an invalid Date`);
  const dt = Math.abs(v.getTime() - Date.now());
  assert.ok(dt < slackMs, `${what}=${v.toISOString()} is ${Math.round(dt / 1000)} s away from now (time zone bug?)`);
}

export function assertPositiveInt(v, what) {
  assert.ok(Number.isInteger(v) && v > 0, `${what} must be a positive integer, got ${JSON.stringify(v)}`);
}

/**
 * Await `promise`, expect it to reject with a TRPCClientError (of `ErrClass`) whose data matches `expect`.
 * Returns the error for further checks. A TOO_MANY_REQUESTS where something else was expected gets a hint.
 */
export async function expectTRPCError(promise, expect, ErrClass = TRPCClientError) {
  let err;
  try {
    const v = await promise;
    assert.fail(`expected a ${expect.code} TRPCClientError, but the call succeeded with ${JSON.stringify(v)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err instanceof ErrClass, `expected TRPCClientError, got ${err?.constructor?.name}: ${err?.stack ?? err}`);
  const data = err.data ?? {};
  const hint = data.code === 'TOO_MANY_REQUESTS' && expect.code !== 'TOO_MANY_REQUESTS'
    ? ' (the stack rate-limits this client IP; raise TrpcAuthRateLimit for test stacks)' : '';
  assert.equal(data.code, expect.code, `data.code: ${err.message}${hint}`);
  if (expect.httpStatus !== undefined) assert.equal(data.httpStatus, expect.httpStatus, 'data.httpStatus');
  if (expect.jsonRpc !== undefined) assert.equal(err.shape?.code, expect.jsonRpc, 'shape.code (JSON-RPC code)');
  if (expect.message !== undefined) {
    if (expect.message instanceof RegExp) assert.match(err.message, expect.message);
    else assert.equal(err.message, expect.message);
  }
  if (expect.path !== undefined) assert.equal(data.path, expect.path, 'data.path');
  return err;
}

/** Wrap a success call so that a TRPCClientError shows its code/status/message in the failure. */
export async function ok(promise, what = 'call') {
  try {
    return await promise;
  } catch (e) {
    const d = e?.data;
    const hint = d?.code === 'TOO_MANY_REQUESTS'
      ? ' (the stack rate-limits this client IP; raise TrpcAuthRateLimit for test stacks)' : '';
    const m = d ? `${what} failed: ${d.code} ${d.httpStatus} ${JSON.stringify(e.message)}${hint}` : `${what} failed: ${e?.stack ?? e}`;
    const err = new Error(m, { cause: e });
    throw err;
  }
}

/** The keys of a transaction row, sorted. */
export const ROW_KEYS = ['amount', 'createdAt', 'id', 'summary', 'tag', 'txnType', 'updatedAt', 'userId'];
/** The keys of auth.me / a registered user, sorted. */
export const USER_KEYS = ['createdAt', 'email', 'emailVerified', 'id', 'updatedAt'];

export function sortedKeys(o) {
  return Object.keys(o).sort();
}
