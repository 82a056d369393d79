// Forecasts (docs/forecasts.md): one card per forecast topic, the observed values of its source
// field (last 100) as a line and the forecast with its 95 % interval as a band.
import { ForecastChart } from '../charts.js';
import { h, setText, num, clock } from '../dom.js';
import { invalidate } from '../schedule.js';

const MAX_OBSERVED = 100;
const MAX_CARDS = 32;

/** The numeric `field` of a source event's data (seed 003 analytics nest it). */
function fieldOf(data, field) {
  const v = data?.[field] ?? data?.analytics?.[field] ?? data?.frame_data?.[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The last events of `topic` from GET /api/v1/history (empty on any failure). */
async function history(topic, token) {
  try {
    const url = `${location.protocol}//${location.host}/api/v1/history?topic=${encodeURIComponent(topic)}&limit=${MAX_OBSERVED}`;
    const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
    return res.ok ? ((await res.json()).events ?? []) : [];
  } catch {
    return [];
  }
}

class ForecastCard {
  constructor(topic, client, data, token) {
    this.topic = topic;
    this.forecast = data;
    this.observed = [];
    const chartEl = h('div', { class: 'chart', 'data-chart': 'forecast' });
    this.info = h('p', { class: 'muted' });
    this.el = h(
      'article',
      { class: 'card', 'data-forecast': topic },
      h('header', {}, h('h2', {}, `${data.source ?? topic}`), h('span', { class: 'badge' }, data.field ?? '')),
      h('figure', {}, chartEl),
      this.info,
    );
    this.chart = new ForecastChart(chartEl);
    if (typeof data.source === 'string' && typeof data.field === 'string') {
      this.field = data.field;
      // The source's recent past from the gateway's ring, then live values.
      history(data.source, token()).then((events) => {
        const live = this.observed;
        const firstLive = live.length ? live[0][0] : Infinity;
        this.observed = [];
        for (const ev of events) if (ev.ts < firstLive) this.add(ev);
        this.observed.push(...live);
        this.observed.splice(0, Math.max(0, this.observed.length - MAX_OBSERVED));
        invalidate(this);
      });
      client.subscribe(data.source, (ev) => this.add(ev));
    }
  }

  add(ev) {
    const v = fieldOf(ev.data, this.field);
    if (v === null || !Number.isFinite(ev.ts)) return;
    const last = this.observed[this.observed.length - 1];
    if (last && ev.ts <= last[0]) return; // snapshot repeats and out-of-order events
    this.observed.push([ev.ts, v]);
    if (this.observed.length > MAX_OBSERVED) this.observed.shift();
    invalidate(this);
  }

  update(data) {
    this.forecast = data;
    invalidate(this);
  }

  render() {
    const f = this.forecast;
    this.chart.set(this.observed, f);
    const n = f.points?.length ?? 0;
    const last = n ? `${num(f.points[n - 1], 1)} (${num(f.lower?.[n - 1], 1)}–${num(f.upper?.[n - 1], 1)})` : '—';
    setText(
      this.info,
      `${f.model ?? 'model'} · ${n} steps of ${num((f.step_ms ?? 0) / 1000)} s · end ${last} · ${f.level ?? 95} % band · fitted ${clock(f.generated_at)}`,
    );
  }
}

export class ForecastsView {
  /**
   * @param {HTMLElement} container
   * @param {import('../../edgewatch-client.js').EdgewatchClient} client
   * @param {() => string | null} token for the history request
   */
  constructor(container, client, token) {
    this.container = container;
    this.cards = new Map();
    client.subscribe('forecast/#', (ev) => {
      let c = this.cards.get(ev.topic);
      if (!c) {
        if (this.cards.size >= MAX_CARDS) return;
        c = new ForecastCard(ev.topic, client, ev.data, token);
        this.cards.set(ev.topic, c);
        this.container.querySelector('.empty')?.remove();
        this.container.append(c.el);
      }
      c.update(ev.data);
    });
  }
}
