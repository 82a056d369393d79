// Overview: one card per pipeline — status badge, live FPS and processing-time charts (last 100
// points), detections, people count with its trend, crossings, intrusions and the last error.
import { LiveChart } from '../charts.js';
import { h, setText, num, clock } from '../dom.js';
import { invalidate } from '../schedule.js';

const TREND = { up: '▲', down: '▼', stable: '▶' };

class PipelineCard {
  constructor(id) {
    this.id = id;
    this.status = 'unknown';
    this.frame = null;
    this.analytics = null;
    this.intrusions = 0; // new_intrusions seen since this page opened
    this.error = null; // {message, severity, ts}
    const f = (name) => h('b', { 'data-field': name }, '—');
    this.fields = {};
    const field = (name, label, unit = '') => {
      this.fields[name] = f(name);
      return h('div', { class: 'kv' }, h('span', {}, label), this.fields[name], unit && h('small', {}, unit));
    };
    this.badge = h('span', { class: 'badge status', 'data-field': 'status' }, '…');
    this.errorEl = h('p', { class: 'last-error', 'data-field': 'error', hidden: true });
    const fpsChart = h('div', { class: 'chart', 'data-chart': 'fps' });
    const procChart = h('div', { class: 'chart', 'data-chart': 'processing' });
    this.el = h(
      'article',
      { class: 'card pipeline', 'data-pipeline': id },
      h('header', {}, h('h2', {}, id), this.badge),
      h(
        'div',
        { class: 'grid' },
        field('fps', 'FPS'),
        field('processing', 'Processing', 'ms'),
        field('detections', 'Detections'),
        field('people', 'People'),
        field('crossings', 'Crossings'),
        field('intrusions', 'Intrusions'),
      ),
      h('figure', {}, h('figcaption', {}, 'FPS'), fpsChart),
      h('figure', {}, h('figcaption', {}, 'Processing time (ms)'), procChart),
      this.errorEl,
    );
    this.fps = new LiveChart(fpsChart, { color: '#4fc3f7' });
    this.processing = new LiveChart(procChart, { color: '#ba68c8' });
  }

  onStatus(update) {
    this.status = String(update.status ?? 'unknown');
    const msg = update.detailed_status?.error_message;
    if (msg && (!this.error || this.error.message !== msg)) {
      this.error = { message: msg, severity: 'status', ts: Date.now() };
    }
    invalidate(this);
  }

  onFrame(update, ev) {
    this.frame = update.frame_data ?? null;
    if (this.frame) {
      this.fps.push(ev.ts, this.frame.fps);
      this.processing.push(ev.ts, this.frame.processing_time);
    }
    invalidate(this);
  }

  onAnalytics(update) {
    this.analytics = update.analytics ?? null;
    this.intrusions += Number(this.analytics?.new_intrusions) || 0;
    invalidate(this);
  }

  onError(update, ev) {
    this.error = { message: String(update.error_message), severity: String(update.severity), ts: ev.ts };
    invalidate(this);
  }

  render() {
    const f = this.fields;
    setText(this.badge, this.status);
    this.badge.dataset.status = this.status;
    setText(f.fps, num(this.frame?.fps, 1));
    setText(f.processing, num(this.frame?.processing_time, 1));
    setText(f.detections, num(this.frame?.detections_count));
    const a = this.analytics;
    const trend = TREND[a?.trend] ?? '';
    setText(f.people, a?.people_count === undefined ? '—' : `${num(a.people_count)} ${trend}`.trim());
    f.people.dataset.trend = a?.trend ?? '';
    setText(f.crossings, num(a?.total_crossings ?? a?.new_crossings));
    const zones = a?.active_zones ? ` · ${a.active_zones} zone${a.active_zones === 1 ? '' : 's'}` : '';
    setText(f.intrusions, `${this.intrusions}${zones}`);
    if (this.error) {
      this.errorEl.hidden = false;
      setText(this.errorEl, `${clock(this.error.ts)} ${this.error.severity}: ${this.error.message}`);
      this.errorEl.dataset.severity = this.error.severity;
    }
  }
}

/** The overview: cards appear as pipelines are first seen, sorted by id. */
export class PipelinesView {
  constructor(container, client) {
    this.container = container;
    this.cards = new Map();
    client.onPipelineStatus((u) => this.card(u.pipeline_id)?.onStatus(u));
    client.onFrame((u, ev) => this.card(u.pipeline_id)?.onFrame(u, ev));
    client.onAnalytics((u, ev) => this.card(u.pipeline_id)?.onAnalytics(u, ev));
    client.onPipelineError((u, ev) => this.card(u.pipeline_id)?.onError(u, ev));
  }

  /** The pipeline's card, created on first sight; null for a malformed id. */
  card(id) {
    if (typeof id !== 'string' || !id) return null;
    let c = this.cards.get(id);
    if (c) return c;
    c = new PipelineCard(id);
    this.cards.set(id, c);
    this.container.querySelector('.empty')?.remove();
    const after = [...this.cards.keys()].filter((k) => k > id).sort()[0];
    this.container.insertBefore(c.el, after ? this.cards.get(after).el : null);
    return c;
  }
}
