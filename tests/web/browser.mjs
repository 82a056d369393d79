// Test support for the dashboard's browser tests: Debian's chromium driven by playwright-core
// (pinned in web/package-lock.json; no browser download), the built bundle and an artifacts
// directory under the build tree.
//
// Environment (set by tests/web/CMakeLists.txt): EDGEWATCH_WEB_ROOT (the bundle),
// EDGEWATCH_ARTIFACTS (screenshots), CHROMIUM (default /usr/bin/chromium); the daemon and CLI
// as for tests/js (helpers.mjs).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { sourceDir } from '../js/helpers.mjs';

const requireFromWeb = createRequire(path.join(sourceDir, 'web/package.json'));
const { chromium } = requireFromWeb('playwright-core');

export const webRoot = process.env.EDGEWATCH_WEB_ROOT ?? path.join(sourceDir, 'build/asan/dashboard');
export const artifactsDir = process.env.EDGEWATCH_ARTIFACTS ?? path.join(sourceDir, 'build/asan/tests/web/artifacts');
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The phone viewport the dashboard is designed for. */
export const PHONE = { width: 360, height: 740 };

/** Launches headless chromium (no sandbox: containers usually run the tests as root). */
export async function launch() {
  if (!fs.existsSync(path.join(webRoot, 'index.html'))) {
    throw new Error(`dashboard not built in ${webRoot} (node web/build.mjs --out ${webRoot})`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: 60000,
  });
}

/** A page at the phone viewport whose console errors and page errors are collected. */
export async function phonePage(browser) {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2 });
  const page = await context.newPage();
  page.errors = [];
  // `phase` labels what the test is doing, so failures can be told apart (e.g. a restart).
  page.phase = 'start';
  page.on('pageerror', (err) => page.errors.push(`[${page.phase}] ${err}`));
  page.on('console', (msg) => {
    // Failed requests are reported with their URL by 'requestfailed' and 'response' below.
    if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text())) {
      page.errors.push(`[${page.phase}] ${msg.text()}`);
    }
  });
  page.on('requestfailed', (req) => page.errors.push(`[${page.phase}] ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) page.errors.push(`[${page.phase}] ${res.request().method()} ${res.url()}: HTTP ${res.status()}`);
  });
  return page;
}

/** Saves a screenshot under the artifacts directory; returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, name);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Flags for a daemon serving the built dashboard. Load shedding is off (as in tests/support's
 * DaemonProcess): on a busy test machine it would refuse the page's connections.
 */
export function webArgs(...extra) {
  return ['--web-root', webRoot, '--cpu-shed-percent', '101', ...extra];
}
