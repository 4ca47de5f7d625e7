// trpc.js - a tiny tRPC client over plain fetch, for the pages of the development stack.
//
// Speaks the tRPC HTTP protocol as @trpc/client's httpLink does (docs/trpc-http-protocol.md):
//   query     GET  /trpc/<path>?input=<urlencoded JSON>
//   mutation  POST /trpc/<path>, body = JSON input, content-type application/json
//   answer    {"result":{"data":...}} or {"error":{"message","code","data":{"code","httpStatus","zodError"}}}
// The cookies are HttpOnly: the browser sends them (same origin), this code never sees them.
'use strict';

const TRPC_BASE = '/trpc';

/** An error answered by the server (or the network), with the tRPC code and a message fit for a person. */
class TrpcError extends Error {
  constructor(message, { code = 'NETWORK_ERROR', httpStatus = 0, path = '', fieldErrors = null, retryAfter = 0 } = {}) {
    super(message);
    this.name = 'TrpcError';
    this.code = code;              // "UNAUTHORIZED", "BAD_REQUEST", ... or "NETWORK_ERROR"
    this.httpStatus = httpStatus;
    this.path = path;              // the procedure, e.g. "auth.login"
    this.fieldErrors = fieldErrors; // {field: [message, ...]} for input validation errors
    this.retryAfter = retryAfter;  // seconds, from Retry-After (TOO_MANY_REQUESTS)
  }
}

/** A message a person can act on, for any error of a call. */
function describeError(err) {
  if (!(err instanceof TrpcError)) return 'Something unexpected happened: ' + (err && err.message ? err.message : err);
  switch (err.code) {
    case 'NETWORK_ERROR':
      return 'Cannot reach the server. Check that the development stack is running, then try again.';
    case 'BAD_REQUEST':
      if (err.fieldErrors && Object.keys(err.fieldErrors).length) {
        return Object.entries(err.fieldErrors)
          .map(([field, msgs]) => field + ': ' + [].concat(msgs).join(', '))
          .join('; ');
      }
      return err.message;
    case 'TOO_MANY_REQUESTS':
      return 'Too many attempts. Try again' + (err.retryAfter ? ' in ' + formatSeconds(err.retryAfter) : ' later') + '.';
    case 'SERVICE_UNAVAILABLE':
      return 'The server cannot reach its database or session store right now. Try again in a moment.';
    case 'NOT_FOUND':
      return 'This server does not offer "' + err.path + '" (' + err.message + ').';
    case 'INTERNAL_SERVER_ERROR':
      return 'The server failed to answer (' + err.message + '). Try again later.';
    default:
      return err.message;
  }
}

function formatSeconds(s) {
  if (s < 90) return s + ' s';
  if (s < 5400) return Math.round(s / 60) + ' min';
  return Math.round(s / 3600) + ' h';
}

/** One call: kind is "query" or "mutation"; input may be undefined (no input). Resolves to result.data. */
async function trpcCall(kind, path, input) {
  let url = TRPC_BASE + '/' + path;
  const init = { credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (kind === 'query') {
    init.method = 'GET';
    if (input !== undefined) url += '?input=' + encodeURIComponent(JSON.stringify(input));
  } else {
    init.method = 'POST';
    init.headers['content-type'] = 'application/json';
    if (input !== undefined) init.body = JSON.stringify(input);
  }

  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new TrpcError('Network error: ' + e.message, { path });
  }
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new TrpcError('Unexpected answer from the server (HTTP ' + res.status + ', not JSON)', {
      code: res.status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_RESPONSE', httpStatus: res.status, path,
    });
  }
  if (body && body.error) {
    const e = body.error;
    const data = e.data || {};
    throw new TrpcError(e.message || data.code || 'Error', {
      code: data.code || 'INTERNAL_SERVER_ERROR',
      httpStatus: data.httpStatus || res.status,
      path,
      fieldErrors: data.zodError && data.zodError.fieldErrors,
      retryAfter: parseInt(res.headers.get('retry-after') || '0', 10) || 0,
    });
  }
  if (!body || !('result' in body)) {
    throw new TrpcError('Unexpected answer from the server (no result)', { code: 'BAD_RESPONSE', httpStatus: res.status, path });
  }
  return body.result.data;
}

const trpc = {
  query: (path, input) => trpcCall('query', path, input),
  mutation: (path, input) => trpcCall('mutation', path, input),
};

/**
 * Like trpc.query/mutation for procedures that need a session: on UNAUTHORIZED it refreshes the access token once
 * (auth.refreshAccessToken, with the refresh cookie) and retries, as the tutorial's frontend does. onLoggedOut() is
 * called when that fails too.
 */
async function withSession(kind, path, input, onLoggedOut) {
  try {
    return await trpcCall(kind, path, input);
  } catch (err) {
    if (!(err instanceof TrpcError) || err.code !== 'UNAUTHORIZED') throw err;
    try {
      await trpcCall('mutation', 'auth.refreshAccessToken');
    } catch (refreshErr) {
      if (refreshErr instanceof TrpcError && refreshErr.code === 'UNAUTHORIZED' && onLoggedOut) onLoggedOut();
      throw err;
    }
    return trpcCall(kind, path, input);
  }
}

/** A same-site path from ?next=, or the fallback: never another origin ("//host", "/\host", "https:..."). */
function safeNext(raw, fallback) {
  if (typeof raw !== 'string' || raw[0] !== '/' || raw[1] === '/' || raw[1] === '\\') return fallback;
  try {
    const u = new URL(raw, window.location.origin);
    if (u.origin !== window.location.origin) return fallback;
    return u.pathname + u.search + u.hash;
  } catch (e) {
    return fallback;
  }
}

/** Shows a message in a status element: kind is "error", "ok" or "info"; an empty text hides it. */
function showStatus(el, text, kind) {
  el.textContent = text || '';
  el.className = 'status' + (text ? ' status-' + (kind || 'info') : '');
  el.hidden = !text;
}

/**
 * Puts the field errors of a BAD_REQUEST under their inputs (elements .field-error with data-for="<field>") and
 * clears the others; err = null clears all. Returns true when some field got a message.
 */
function showFieldErrors(form, err) {
  let shown = false;
  form.querySelectorAll('.field-error').forEach((el) => {
    const msgs = err && err.fieldErrors && err.fieldErrors[el.dataset.for];
    el.textContent = msgs ? [].concat(msgs).join(', ') : '';
    if (msgs) shown = true;
  });
  return shown;
}
