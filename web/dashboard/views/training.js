// Training runs: one card per `training/<run>/metrics` topic with loss and mAP charts.
import { LiveChart } from '../charts.js';
import { h, setText, num } from '../dom.js';
import { invalidate } from '../schedule.js';

class RunCard {
  constructor(run) {
    this.run = run;
    this.last = null;
    const lossEl = h('div', { class: 'chart', 'data-chart': 'loss' });
    const mapEl = h('div', { class: 'chart', 'data-chart': 'map' });
    this.summary = h('p', { class: 'muted', 'data-field': 'summary' });
    this.el = h(
      'article',
      { class: 'card', 'data-run': run },
      h('header', {}, h('h2', {}, run)),
      this.summary,
      h('figure', {}, h('figcaption', {}, 'Loss'), lossEl),
      h('figure', {}, h('figcaption', {}, 'mAP@50'), mapEl),
    );
    this.loss = new LiveChart(lossEl, { color: '#e57373', max: 500 });
    this.map = new LiveChart(mapEl, { color: '#81c784', max: 500 });
  }

  onMetrics(ev) {
    this.last = ev.data;
    this.loss.push(ev.ts, ev.data.loss);
    this.map.push(ev.ts, ev.data.map50 ?? ev.data.map);
    invalidate(this);
  }

  render() {
    const d = this.last ?? {};
    const step = d.step !== undefined ? ` · step ${d.step}` : '';
    setText(this.summary, `epoch ${num(d.epoch)}${step} · loss ${num(d.loss, 4)} · mAP@50 ${num(d.map50 ?? d.map, 3)}`);
  }
}

export class TrainingView {
  constructor(container, client) {
    this.container = container;
    this.runs = new Map();
    client.subscribe('training/+/metrics', (ev) => {
      const run = ev.topic.split('/')[1];
      let c = this.runs.get(run);
      if (!c) {
        c = new RunCard(run);
        this.runs.set(run, c);
        this.container.querySelector('.empty')?.remove();
        this.container.append(c.el);
      }
      c.onMetrics(ev);
    });
  }
}
