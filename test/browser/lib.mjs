// lib.mjs - shared by the browser tests of test/browser: the stack's base URL and Debian's Chromium, headless,
// started by playwright-core (which downloads no browser).
import { chromium } from 'playwright-core';

/** The stack under test (TRPCAUTH_BASE_URL, default the one scripts/test starts), without a trailing slash. */
export const BASE = (process.env.TRPCAUTH_BASE_URL || 'http://127.0.0.1:18080').replace(/\/+$/, '');

/** Chromium as the tests run it: CHROMIUM or /usr/bin/chromium, headless, no sandbox (root in CI), quiet. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
