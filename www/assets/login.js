// login.js - the page at /: register, log in, then go to ?next= (a same-site path) or /app/; "forgot password" and
// "check your email"; and the end of the links that mails carry (/#verify-email&token=..., /#reset-password&token=...,
// the defaults of TrpcAuthMailPage): the token is in the fragment, which the browser never sends to a server.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const params = new URLSearchParams(window.location.search);
  const next = safeNext(params.get('next'), '/app/');

  const FORMS = { login: 'login-form', register: 'register-form', forgot: 'forgot-form', reset: 'reset-form' };

  /** One view at a time: login, register, forgot, reset (forms of the card) or check (the "check your email" card). */
  function showView(view, keepStatus) {
    for (const [name, id] of Object.entries(FORMS)) $(id).hidden = name !== view;
    $('tabs').hidden = view !== 'login' && view !== 'register';
    $('tab-login').setAttribute('aria-selected', String(view === 'login'));
    $('tab-register').setAttribute('aria-selected', String(view === 'register'));
    $('auth-card').hidden = view === 'check';
    $('check-email').hidden = view !== 'check';
    if (!keepStatus) showStatus(status, '');
  }
  const selectTab = (which) => showView(which);

  function checkEmail(text) {
    $('check-email-text').textContent = text;
    showView('check');
  }

  async function logIn(email, password) {
    try {
      await trpc.mutation('auth.login', { email, password });
    } catch (err) {
      // TrpcAuthRequireVerifiedEmail On: the module has mailed a fresh verification link.
      if (err instanceof TrpcError && err.code === 'FORBIDDEN') {
        checkEmail('The address ' + email + ' is not verified yet. We have mailed it a new verification link: ' +
                   'open it, then log in.');
        return;
      }
      throw err;
    }
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
  $('forgot-link').addEventListener('click', () => {
    $('forgot-email').value = $('login-email').value;
    showView('forgot');
  });
  $('forgot-back').addEventListener('click', () => showView('login'));
  $('check-email-back').addEventListener('click', () => showView('login'));

  $('forgot-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const email = $('forgot-email').value.trim();
    showFieldErrors($('forgot-form'), null);
    if (!email) {
      showStatus(status, 'Please enter the email address of your account.', 'error');
      return;
    }
    $('forgot-submit').disabled = true;
    try {
      await trpc.mutation('auth.requestPasswordReset', { email });
      // The same answer whether or not the address has an account: so says the page.
      checkEmail('If an account exists for ' + email + ', we have mailed it a link to choose a new password. ' +
                 'The link works once, for a limited time.');
    } catch (err) {
      const fields = err instanceof TrpcError && err.code === 'BAD_REQUEST' && showFieldErrors($('forgot-form'), err);
      showStatus(status, fields ? 'Please correct the highlighted field.' : describeError(err), 'error');
    } finally {
      $('forgot-submit').disabled = false;
    }
  });

  // ---- the end of a mail link: the token is in the fragment; it leaves the address bar and the history at once
  const hash = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const linkToken = hash.get('token');
  const linkKind = hash.has('verify-email') ? 'verify-email' : hash.has('reset-password') ? 'reset-password' : null;
  if (linkToken && linkKind) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  // A link opened in a tab that shows this page already changes only the fragment: start over with it.
  window.addEventListener('hashchange', () => {
    if (new URLSearchParams(window.location.hash.replace(/^#/, '')).has('token')) window.location.reload();
  });
  const badLink = 'This link is invalid or has expired (a link works once, and a newer one replaces it).';

  if (linkToken && linkKind === 'verify-email') {
    showStatus(status, 'Verifying your email address …', 'info');
    trpc.mutation('auth.verifyEmail', { token: linkToken }).then(
      () => showStatus(status, 'Your email address is verified.', 'ok'),
      (err) => showStatus(status, err instanceof TrpcError && err.code === 'BAD_REQUEST'
        ? badLink + ' Log in to ask for a new one.' : describeError(err), 'error'));
  }

  if (linkToken && linkKind === 'reset-password') {
    showView('reset');
    $('reset-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const newPassword = $('reset-password').value;
      showFieldErrors($('reset-form'), null);
      $('reset-submit').disabled = true;
      try {
        await trpc.mutation('auth.resetPassword', { token: linkToken, newPassword });
        showView('login');
        showStatus(status, 'Your password was changed, and every session of your account has ended. ' +
                           'Log in with the new password.', 'ok');
      } catch (err) {
        if (err instanceof TrpcError && err.code === 'BAD_REQUEST' && showFieldErrors($('reset-form'), err)) {
          showStatus(status, 'Please correct the highlighted field.', 'error');
        } else if (err instanceof TrpcError && err.code === 'BAD_REQUEST') {
          showView('forgot', true);
          showStatus(status, badLink + ' Ask for a new one here.', 'error');
        } else {
          showStatus(status, describeError(err), 'error');
        }
      } finally {
        $('reset-submit').disabled = false;
      }
    });
  }

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
