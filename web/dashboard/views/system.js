// System: CPU (with a chart), memory, temperature, connections and budget use. `system/resources`
// comes every few seconds over the stream; the budgets (max connections, accounted memory against
// the memory budget, load shedding) from GET /api/v1/diagnostics, polled while the view is shown.
import { LiveChart } from '../charts.js';
import { h, setText, num, bytes } from '../dom.js';
import { invalidate } from '../schedule.js';

const DIAGNOSTICS_EVERY_MS = 10000;

export class SystemView {
  /**
   * @param {HTMLElement} container
   * @param {import('../../edgewatch-client.js').EdgewatchClient} client
   * @param {() => string | null} token for the diagnostics request
   */
  constructor(container, client, token) {
    this.token = token;
    this.res = null;
    this.diag = null;
    this.fields = {};
    const row = (name, label) => {
      this.fields[name] = h('b', { 'data-field': name }, '—');
      return h('div', { class: 'kv' }, h('span', {}, label), this.fields[name]);
    };
    const cpuEl = h('div', { class: 'chart', 'data-chart': 'cpu' });
    container.append(
      h('header', {}, h('h2', {}, 'Gateway')),
      h(
        'div',
        { class: 'grid' },
        row('cpu', 'CPU'),
        row('memory', 'Memory'),
        row('temperature', 'Temperature'),
        row('connections', 'Connections'),
        row('memory_budget', 'Memory budget'),
        row('uptime', 'Uptime'),
      ),
      h('figure', {}, h('figcaption', {}, 'CPU (%)'), cpuEl),
      (this.shedding = h('p', { class: 'muted', 'data-field': 'shedding' })),
    );
    this.cpu = new LiveChart(cpuEl, { color: '#4db6ac' });
    client.subscribe('system/resources', (ev) => {
      this.res = ev.data;
      this.cpu.push(ev.ts, ev.data.cpu_percent);
      invalidate(this);
    });
    this.baseUrl = `${location.protocol}//${location.host}`;
    this.timer = null;
  }

  /** Starts (or stops) polling the diagnostics, e.g. while the view is visible. */
  setActive(active) {
    clearInterval(this.timer);
    this.timer = null;
    if (!active) return;
    this.fetchDiagnostics();
    this.timer = setInterval(() => this.fetchDiagnostics(), DIAGNOSTICS_EVERY_MS);
  }

  async fetchDiagnostics() {
    const token = this.token();
    try {
      const res = await fetch(`${this.baseUrl}/api/v1/diagnostics`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        cache: 'no-store',
      });
      this.diag = res.ok ? (await res.json()).metrics ?? null : null;
    } catch {
      this.diag = null;
    }
    invalidate(this);
  }

  render() {
    const r = this.res ?? {};
    const d = this.diag;
    const f = this.fields;
    setText(f.cpu, `${num(r.cpu_percent, 1)} %`);
    setText(f.memory, `${bytes(r.memory_used_bytes)} / ${bytes(r.memory_total_bytes)} (${num(r.memory_percent, 0)} %)`);
    setText(f.temperature, r.temperature_c === undefined ? 'n/a' : `${num(r.temperature_c, 1)} °C`);
    const conns = r.connections ?? d?.connections;
    setText(f.connections, d?.max_connections ? `${num(conns)} / ${d.max_connections}` : num(conns));
    setText(
      f.memory_budget,
      d?.memory_budget_bytes
        ? `${bytes(d.accounted_bytes)} / ${bytes(d.memory_budget_bytes)} (${num((100 * d.accounted_bytes) / d.memory_budget_bytes, 1)} %)`
        : '—',
    );
    const up = Number(r.uptime_s);
    setText(f.uptime, Number.isFinite(up) ? `${Math.floor(up / 3600)} h ${Math.floor((up % 3600) / 60)} min` : '—');
    setText(this.shedding, d ? (d.load_shedding ? 'Load shedding: ON (new connections refused, frame topics down-sampled)' : 'Load shedding: off') : '');
  }
}
