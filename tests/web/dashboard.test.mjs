// The dashboard in headless chromium at a phone viewport (360 x 740) against the real edgewatchd
// with --demo, serving the built bundle: live FPS and chart points for cam1, the connection
// indicator across a daemon restart on the same port, acknowledging an alert from the UI, the
// token screen for a refused token, and screenshots (artifacts under the build directory).
//
// Every wait is for an observable state (DOM attribute, daemon answer) with a generous failure
// deadline; nothing sleeps to synchronise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Daemon, Producer } from '../js/helpers.mjs';
import { launch, phonePage, screenshot, webArgs } from './browser.mjs';

const DEADLINE_MS = 30000; // failure bound for one observable step (ASan daemon, loaded machine)
const SCOPE = 'read:# write:alerts write:notifications/#';

// An alert rule on a pipeline the demo does not run, so the test alone raises alerts.
const CONFIG = JSON.stringify({
  rules: [
    {
      id: 'intrusion',
      when: { topic: 'pipeline/cam9/analytics', if: 'analytics.new_intrusions > 0' },
      then: { alert: { severity: 'critical', message: 'Intrusion on {pipeline_id}' } },
    },
  ],
});

const intrusion = {
  pipeline_id: 'cam9',
  analytics: { node_id: 'zones', node_type: 'zone_counter', results: null, people_count: 2, new_intrusions: 1 },
};

/** Resolves with the chart's {points, lastX} once it has at least one point. */
async function chartState(page, pipeline, chart) {
  const sel = `[data-pipeline="${pipeline}"] [data-chart="${chart}"]`;
  await page.waitForFunction((s) => Number(document.querySelector(s)?.dataset.points) > 0, sel, {
    timeout: DEADLINE_MS,
  });
  return page.$eval(sel, (el) => ({ points: Number(el.dataset.points), lastX: Number(el.dataset.lastX) }));
}

/** Waits until the chart has drawn a newer point than `before` (and did not lose points). */
async function chartAdvances(page, pipeline, chart, before) {
  const sel = `[data-pipeline="${pipeline}"] [data-chart="${chart}"]`;
  await page.waitForFunction(
    ([s, b]) => {
      const d = document.querySelector(s)?.dataset;
      return d && Number(d.lastX) > b.lastX && Number(d.points) >= Math.min(b.points + 1, 100);
    },
    [sel, before],
    { timeout: DEADLINE_MS },
  );
  return chartState(page, pipeline, chart);
}

function connState(page, state) {
  return page.waitForSelector(`#conn[data-state="${state}"]`, { state: 'attached', timeout: DEADLINE_MS });
}

async function startDaemon(dir, extra = []) {
  const configPath = path.join(dir, 'config.json');
  if (!fs.existsSync(configPath)) fs.writeFileSync(configPath, CONFIG);
  return Daemon.start({
    dir,
    args: webArgs('--demo', '--config', configPath, '--resources-ms', '1000', ...extra),
  });
}

test('dashboard at 360x740: live FPS, restart, alert acknowledged from the UI', { timeout: 240000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR && process.env.TMPDIR.length < 60 ? process.env.TMPDIR : '/tmp', 'ew-web-'));
  let daemon = await startDaemon(dir);
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    await daemon.stop().catch(() => {});
    daemon.removeDir();
  });
  const token = await daemon.token({ sub: 'web-test', scope: SCOPE });
  const page = await phonePage(browser);
  await page.goto(`${daemon.httpUrl}/#token=${token}`);

  // The token moved from the fragment to storage; the address bar no longer shows it.
  assert.equal(new URL(page.url()).hash, '');
  assert.equal(await page.evaluate(() => localStorage.getItem('edgewatch.token')), token);

  // Live: cam1's FPS shows a number and its chart gains points.
  await connState(page, 'connected');
  const fpsSel = '[data-pipeline="cam1"] [data-field="fps"]';
  await page.waitForFunction((s) => Number.parseFloat(document.querySelector(s)?.textContent) > 0, fpsSel, {
    timeout: DEADLINE_MS,
  });
  const first = await chartState(page, 'cam1', 'fps');
  const later = await chartAdvances(page, 'cam1', 'fps', first);
  assert.ok(later.points > 1, `cam1's FPS chart has ${later.points} points`);
  await chartAdvances(page, 'cam1', 'processing', await chartState(page, 'cam1', 'processing'));
  await page.waitForSelector('[data-pipeline="cam2"] [data-field="status"]', { timeout: DEADLINE_MS });
  // Charts fill (the first screenshot shows history); the ring holds the last 100 points.
  await page.waitForFunction(
    () => Number(document.querySelector('[data-pipeline="cam1"] [data-chart="fps"]')?.dataset.points) >= 60,
    null,
    { timeout: DEADLINE_MS },
  );
  await screenshot(page, 'dashboard.png');

  // Restart on the same port: reconnecting while it is down, connected once it is back.
  const port = daemon.port;
  page.phase = 'restart'; // requests may fail until the daemon is back
  await daemon.stop();
  await connState(page, 'reconnecting');
  assert.match(await page.textContent('#conn-text'), /reconnecting/);
  daemon = await startDaemon(dir, ['--listen', `127.0.0.1:${port}`]);
  await connState(page, 'connected');
  page.phase = 'after restart';
  assert.match(await page.textContent('#conn-text'), /connected/);
  await chartAdvances(page, 'cam1', 'fps', await chartState(page, 'cam1', 'fps'));

  // An alert, raised by the rule from a producer's event, acknowledged from the UI.
  const producer = await Producer.connect(daemon.ingest);
  t.after(() => producer.close());
  await producer.publish('pipeline/cam9/analytics', intrusion);
  await page.click('#tabs button[data-tab="alerts"]');
  const item = '#alerts li[data-alert-id]';
  await page.waitForSelector(`${item}[data-state="active"]`, { timeout: DEADLINE_MS });
  const alertId = await page.getAttribute(item, 'data-alert-id');
  assert.equal(await page.textContent('#alerts-badge'), '1');
  await page.click(`${item}[data-alert-id="${alertId}"] button.ack`);
  await page.waitForSelector(`${item}[data-alert-id="${alertId}"][data-state="acked"]`, { timeout: DEADLINE_MS });
  // The stored alert event (with who acknowledged it) replaces the local outcome.
  await page.waitForFunction(
    (id) => /acknowledged by web-test/.test(document.querySelector(`#alerts li[data-alert-id="${id}"]`)?.textContent ?? ''),
    alertId,
    { timeout: DEADLINE_MS },
  );
  assert.equal(await page.isHidden('#alerts-badge'), true);
  // The gateway agrees: no active alert left.
  const res = await fetch(`${daemon.httpUrl}/api/v1/alerts`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.active.map((a) => a.id).filter((id) => id === alertId), []);
  await screenshot(page, 'dashboard-alerts.png');

  // The other views render from live data without errors.
  await page.click('#tabs button[data-tab="system"]');
  await page.waitForFunction(() => /%/.test(document.querySelector('#system [data-field="cpu"]')?.textContent ?? ''), null, {
    timeout: DEADLINE_MS,
  });
  await page.waitForFunction(() => /\//.test(document.querySelector('#system [data-field="memory_budget"]')?.textContent ?? ''), null, {
    timeout: DEADLINE_MS,
  });
  await page.click('#tabs button[data-tab="training"]');
  await page.waitForSelector('#training [data-run] [data-chart="loss"][data-points]', { timeout: DEADLINE_MS });
  // Forecasts (the demo forecasts each camera's people_count): the observed values from the
  // history endpoint and live events, plus the forecast's points with their band.
  await page.click('#tabs button[data-tab="forecasts"]');
  await page.waitForFunction(
    () => Number(document.querySelector('#forecasts [data-forecast] [data-chart="forecast"]')?.dataset.points) > 10,
    null,
    { timeout: 3 * DEADLINE_MS },
  );
  await screenshot(page, 'dashboard-forecasts.png');
  // No script errors and no failed request, except while the daemon was down.
  assert.deepEqual(page.errors.filter((e) => !e.startsWith('[restart]')), []);
});

test('a refused token brings the token screen back with the reason; a pasted token connects', { timeout: 120000 }, async (t) => {
  const daemon = await Daemon.start({ args: webArgs() });
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    await daemon.stop().catch(() => {});
    daemon.removeDir();
  });
  const page = await phonePage(browser);

  // No token at all: the token screen, without a reason.
  await page.goto(`${daemon.httpUrl}/`);
  await page.waitForSelector('#login', { state: 'visible', timeout: DEADLINE_MS });

  // A token signed with another secret: close 4401, the screen says why.
  const other = path.join(daemon.dir, 'other.secret');
  fs.writeFileSync(other, 'x'.repeat(48), { mode: 0o600 });
  const forged = await daemon.token({ sub: 'intruder', secretFile: other });
  await page.goto(`${daemon.httpUrl}/#token=${forged}`);
  await page.waitForSelector('#login', { state: 'visible', timeout: DEADLINE_MS });
  await page.waitForFunction(() => /4401/.test(document.querySelector('#login-reason')?.textContent ?? ''), null, {
    timeout: DEADLINE_MS,
  });
  assert.match(await page.textContent('#login-reason'), /4401: the token was not signed by this gateway/);
  assert.equal(await page.evaluate(() => localStorage.getItem('edgewatch.token')), null);
  assert.equal(await page.getAttribute('#conn', 'data-state'), 'error');

  // Pasting a pairing URL with a good token connects.
  const good = await daemon.token({ sub: 'web-test' });
  await page.fill('#login-token', `http://gateway.local:8080/#token=${good}`);
  await page.click('#login button[type="submit"]');
  await connState(page, 'connected');
  assert.equal(await page.isVisible('#app'), true);
  assert.deepEqual(page.errors, []);
});
