// The edgewatch dashboard: wires the JavaScript client (web/edgewatch-client.js) to the views.
// Token first (fragment, storage or the login screen); a refused token (close 4401/4403) brings
// the login screen back with the reason.
import { EdgewatchClient, CloseCode } from '../edgewatch-client.js';
import './style.css';
import { loadToken, saveToken, forgetToken, parseToken, token } from './token.js';
import { ConnectionIndicator } from './views/connection.js';
import { PipelinesView } from './views/pipelines.js';
import { ForecastsView } from './views/forecasts.js';
import { AlertsView } from './views/alerts.js';
import { TrainingView } from './views/training.js';
import { SystemView } from './views/system.js';

const $ = (id) => document.getElementById(id);

const REASONS = {
  token_missing: 'no token was sent',
  token_malformed: 'the token is malformed',
  token_bad_signature: 'the token was not signed by this gateway',
  token_expired: 'the token has expired',
  token_not_yet_valid: 'the token is not valid yet',
  token_wrong_audience: 'the token is for another gateway',
  auth_timeout: 'the token came too late',
};

let toastTimer = null;
function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}

function showLogin(reason) {
  $('app').hidden = true;
  $('tabs').hidden = true;
  $('login').hidden = false;
  $('login-reason').textContent = reason ?? '';
  $('login-reason').hidden = !reason;
  $('login-token').focus();
}

function showApp() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('tabs').hidden = false;
}

const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
const client = new EdgewatchClient({ url: wsUrl, token: () => token() });

new ConnectionIndicator($('conn'), client);
new PipelinesView($('pipelines'), client);
new ForecastsView($('forecasts'), client, token);
new AlertsView({ alerts: $('alerts'), notifications: $('notifications'), badge: $('alerts-badge') }, client, toast);
new TrainingView($('training'), client);
const system = new SystemView($('system'), client, token);

client.on('error', (e) => {
  if (!e.fatal) return;
  const why = REASONS[e.reason] ?? e.reason ?? '';
  const what =
    e.code === CloseCode.FORBIDDEN || e.code === 403 ? 'The token may not read this gateway' : 'The gateway refused the token';
  if (e.code === CloseCode.AUTH_FAILED || e.code === 401) forgetToken();
  showLogin(`${what} (${e.code}${why ? `: ${why}` : ''}). Paste a new one.`);
});

// Tabs: one view at a time; the system view polls diagnostics only while shown.
function selectTab(name) {
  for (const b of document.querySelectorAll('#tabs button')) {
    if (b.dataset.tab === name) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  for (const v of document.querySelectorAll('.view')) v.hidden = v.dataset.view !== name;
  system.setActive(name === 'system');
  window.dispatchEvent(new Event('resize'));
}
$('tabs').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-tab]');
  if (b) selectTab(b.dataset.tab);
});

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = parseToken($('login-token').value);
  if (!t) {
    $('login-reason').hidden = false;
    $('login-reason').textContent = 'That does not look like a token.';
    return;
  }
  saveToken(t);
  $('login-token').value = '';
  showApp();
  client.connect();
});

// A pairing link opened while the page is open only changes the fragment: use its token.
window.addEventListener('hashchange', () => {
  if (!parseToken(location.hash)) return;
  loadToken();
  showApp();
  client.close();
  client.connect();
});

if (loadToken()) {
  showApp();
  client.connect();
} else {
  showLogin(null);
}
