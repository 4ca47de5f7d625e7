// login.js - the page at /: register, log in, then go to ?next= (a same-site path) or /app/.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const params = new URLSearchParams(window.location.search);
  const next = safeNext(params.get('next'), '/app/');

  function selectTab(which) {
    const login = which === 'login';
    $('tab-login').setAttribute('aria-selected', String(login));
    $('tab-register').setAttribute('aria-selected', String(!login));
    $('login-form').hidden = !login;
    $('register-form').hidden = login;
    showStatus(status, '');
  }

  async function logIn(email, password) {
    await trpc.mutation('auth.login', { email, password });
    showStatus(status, 'Logged in. Opening ' + next + ' …', 'ok');
    window.location.assign(next);
  }

  /** Runs a form's action with its button disabled, and reports errors on the page. */
  function onSubmit(form, button, action) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const email = form.elements.email.value.trim();
      const password = form.elements.password.value;
      showFieldErrors(form, null);
      if (!email || !password) {
        showStatus(status, 'Please enter an email and a password.', 'error');
        return;
      }
      button.disabled = true;
      showStatus(status, 'Please wait …', 'info');
      try {
        await action(email, password);
      } catch (err) {
        const fields = err instanceof TrpcError && err.code === 'BAD_REQUEST' && showFieldErrors(form, err);
        let msg = describeError(err);
        if (err instanceof TrpcError && err.code === 'CONFLICT') msg = 'An account with this email already exists. Log in instead.';
        showStatus(status, fields ? 'Please correct the highlighted fields.' : msg, 'error');
      } finally {
        button.disabled = false;
      }
    });
  }

  onSubmit($('login-form'), $('login-submit'), logIn);
  onSubmit($('register-form'), $('register-submit'), async (email, password) => {
    await trpc.mutation('auth.register', { email, password });
    await logIn(email, password);
  });
  $('tab-login').addEventListener('click', () => selectTab('login'));
  $('tab-register').addEventListener('click', () => selectTab('register'));

  // Already logged in? auth.me answers only with a valid access cookie (HttpOnly: asking is the only way to know).
  trpc.query('auth.me').then((me) => {
    $('me-email').textContent = me.email;
    $('go-app').href = next;
    $('signed-in').hidden = false;
  }).catch(() => { /* not logged in: the forms are the page */ });

  if (params.has('next')) {
    showStatus(status, 'Please log in to open ' + next + '.', 'info');
  }
  if (params.get('loggedout') === '1') {
    showStatus(status, 'You have been logged out.', 'ok');
  }
})();
