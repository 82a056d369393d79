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

class ForecastCard {
  constructor(topic, client, data) {
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
      client.subscribe(data.source, (ev) => {
        const v = fieldOf(ev.data, data.field);
        if (v === null) return;
        this.observed.push([ev.ts, v]);
        if (this.observed.length > MAX_OBSERVED) this.observed.shift();
        invalidate(this);
      });
    }
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
  constructor(container, client) {
    this.container = container;
    this.cards = new Map();
    client.subscribe('forecast/#', (ev) => {
      let c = this.cards.get(ev.topic);
      if (!c) {
        if (this.cards.size >= MAX_CARDS) return;
        c = new ForecastCard(ev.topic, client, ev.data);
        this.cards.set(ev.topic, c);
        this.container.querySelector('.empty')?.remove();
        this.container.append(c.el);
      }
      c.update(ev.data);
    });
  }
}
