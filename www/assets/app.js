// app.js - the protected page /app/: transactions, sessions, logout.
// Every value from the server goes into the page with textContent, never as HTML.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  /** Back to the login page, which comes back here after logging in. */
  function toLogin(reason) {
    window.location.assign('/?' + (reason === 'loggedout' ? 'loggedout=1' : 'next=' + encodeURIComponent('/app/')));
  }

  const call = (kind, path, input) => withSession(kind, path, input, () => toLogin('expired'));

  function fail(err, what) {
    showStatus(status, what + ': ' + describeError(err), 'error');
  }

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function emptyRow(tbody, cols, text) {
    const tr = document.createElement('tr');
    const td = cell(text, 'empty');
    td.colSpan = cols;
    tr.appendChild(td);
    tbody.replaceChildren(tr);
  }

  function formatDate(iso) {
    const d = new Date(iso);
    return isNaN(d) ? String(iso || '') : when.format(d);
  }

  // ---- transactions -------------------------------------------------------------------------------------------

  function renderTransactions(rows) {
    const tbody = $('txns');
    let income = 0, expenses = 0;
    if (!rows.length) {
      emptyRow(tbody, 4, 'No transactions yet: add your first one above.');
    } else {
      tbody.replaceChildren(...rows.map((t) => {
        const tr = document.createElement('tr');
        const incoming = t.txnType === 'Incoming';
        if (incoming) income += t.amount; else expenses += t.amount;
        tr.dataset.id = t.id;
        tr.append(cell(formatDate(t.createdAt)), cell(t.summary || '—'), cell(t.tag || 'Others'),
                  cell((incoming ? '+' : '−') + money.format(t.amount), 'num ' + (incoming ? 'in' : 'out')));
        return tr;
      }));
    }
    $('sum-in').textContent = money.format(income);
    $('sum-out').textContent = money.format(expenses);
    $('sum-balance').textContent = money.format(income - expenses);
  }

  async function loadTransactions() {
    try {
      renderTransactions(await call('query', 'transaction.getAll'));
    } catch (err) {
      emptyRow($('txns'), 4, 'Could not load the transactions.');
      fail(err, 'Loading transactions failed');
    }
  }

  $('txn-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const raw = form.elements.amount.value.trim();
    showFieldErrors(form, null);
    if (!/^-?\d+$/.test(raw)) {
      form.querySelector('[data-for="amount"]').textContent = 'Enter a whole number.';
      return;
    }
    const input = {
      amount: parseInt(raw, 10),
      txnType: form.elements.txnType.value,
      summary: form.elements.summary.value.trim() || null,
      tag: form.elements.tag.value,
    };
    $('txn-submit').disabled = true;
    try {
      await call('mutation', 'transaction.create', input);
      form.reset();
      showStatus(status, 'Transaction added.', 'ok');
      await loadTransactions();
    } catch (err) {
      if (!(err instanceof TrpcError && err.code === 'BAD_REQUEST' && showFieldErrors(form, err))) {
        fail(err, 'Adding the transaction failed');
      }
    } finally {
      $('txn-submit').disabled = false;
    }
  });

  // ---- sessions -----------------------------------------------------------------------------------------------

  function describeDevice(s) {
    const ua = s.userAgent || 'unknown browser';
    return (s.ip ? s.ip + ' · ' : '') + ua;
  }

  function renderSessions(list) {
    const tbody = $('sessions');
    if (!list.length) {
      emptyRow(tbody, 3, 'No active sessions.');
      return;
    }
    tbody.replaceChildren(...list.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.sessionId = s.id;
      const device = cell('', 'ua');
      device.textContent = describeDevice(s);
      if (s.current) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'this browser';
        device.appendChild(badge);
      }
      const since = document.createElement('div');
      since.textContent = 'since ' + formatDate(s.createdAt);
      device.appendChild(since);
      const action = document.createElement('td');
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'small danger';
      btn.textContent = s.current ? 'Log out' : 'Revoke';
      btn.addEventListener('click', () => (s.current ? logout() : revoke(s.id, btn)));
      action.appendChild(btn);
      tr.append(device, cell(formatDate(s.lastSeenAt)), action);
      return tr;
    }));
  }

  async function loadSessions() {
    try {
      renderSessions(await call('query', 'auth.sessions'));
    } catch (err) {
      emptyRow($('sessions'), 3, 'Could not load the sessions.');
      fail(err, 'Loading sessions failed');
    }
  }

  async function revoke(sessionId, btn) {
    btn.disabled = true;
    try {
      await call('mutation', 'auth.revokeSession', { sessionId });
      showStatus(status, 'Session revoked: that device is logged out.', 'ok');
      await loadSessions();
    } catch (err) {
      btn.disabled = false;
      fail(err, 'Revoking the session failed');
    }
  }

  // ---- logout -------------------------------------------------------------------------------------------------

  async function logout() {
    try {
      await trpc.mutation('auth.logout');
      toLogin('loggedout');
    } catch (err) {
      if (err instanceof TrpcError && err.code === 'UNAUTHORIZED') return toLogin('loggedout');
      fail(err, 'Logging out failed');
    }
  }

  async function logoutAll() {
    if (!window.confirm('Log out on every device, this one included?')) return;
    try {
      await call('mutation', 'auth.logoutAll');
      toLogin('loggedout');
    } catch (err) {
      fail(err, 'Logging out everywhere failed');
    }
  }

  $('logout').addEventListener('click', logout);
  $('logout-all').addEventListener('click', logoutAll);

  // ---- start --------------------------------------------------------------------------------------------------

  call('query', 'auth.me')
    .then((me) => { $('who').textContent = me.email; })
    .catch((err) => fail(err, 'Loading your profile failed'));
  loadTransactions();
  loadSessions();
})();
