// Time-series charts on uPlot. A chart keeps the last `max` points of its series in memory
// (bounded), is redrawn only from render() (one setData per animation frame at most, see
// schedule.js) and follows its container's width.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { invalidate } from './schedule.js';

const AXIS = { stroke: '#8b98a9', grid: { stroke: '#2a3340', width: 1 }, ticks: { show: false } };
const HEIGHT = 110;

function timeLabel(s, incr) {
  if (incr < 1) return `:${(s % 60).toFixed(1).padStart(4, '0')}`;
  return new Date(s * 1000).toLocaleTimeString([], { hour12: false });
}

function baseOptions(width, series, extra = {}) {
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: true } },
    axes: [
      // One line of local time ("14:03:12", or ":12.5" between ticks less than a second apart):
      // uPlot's default adds a date row that a 110 px chart clips.
      { ...AXIS, size: 22, font: '10px system-ui', values: (u, splits, axis, space, incr) => splits.map((x) => timeLabel(x, incr)) },
      { ...AXIS, size: 34, font: '10px system-ui' },
    ],
    series: [{}, ...series],
    ...extra,
  };
}

/** Width available to a chart inside `el` (its card may not be laid out yet). */
function widthOf(el) {
  return Math.max(160, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 300));
}

const resized = new ResizeObserver((entries) => {
  for (const e of entries) e.target._chart?.resize();
});

class ChartBase {
  constructor(el) {
    this.el = el;
    this.plot = null;
    el._chart = this;
    resized.observe(el);
  }

  resize() {
    if (this.plot && Math.abs(this.plot.width - widthOf(this.el)) > 1) invalidate(this);
  }

  /** Creates the plot on first use, else updates it; called from render() only. */
  draw(data, makeOptions) {
    const width = widthOf(this.el);
    if (!this.plot) {
      this.plot = new uPlot(makeOptions(width), data, this.el);
    } else {
      if (this.plot.width !== width) this.plot.setSize({ width, height: HEIGHT });
      this.plot.setData(data);
    }
    // For tests and diagnostics: how many points are drawn and the newest x (unix s).
    this.el.dataset.points = String(data[0].length);
    this.el.dataset.lastX = data[0].length ? String(data[0][data[0].length - 1]) : '';
  }

  destroy() {
    resized.unobserve(this.el);
    this.plot?.destroy();
    this.plot = null;
  }
}

/** One live series: push(x ms, y) points, the last `max` kept. */
export class LiveChart extends ChartBase {
  constructor(el, { color = '#4fc3f7', max = 100, unit = '' } = {}) {
    super(el);
    this.color = color;
    this.max = max;
    this.unit = unit;
    this.xs = [];
    this.ys = [];
  }

  push(tsMs, y) {
    if (typeof y !== 'number' || !Number.isFinite(y)) return;
    const x = tsMs / 1000;
    // uPlot wants ascending x: an out-of-order point (a producer's clock step) restarts the view.
    if (this.xs.length && x < this.xs[this.xs.length - 1]) {
      this.xs.length = 0;
      this.ys.length = 0;
    }
    this.xs.push(x);
    this.ys.push(y);
    if (this.xs.length > this.max) {
      this.xs.splice(0, this.xs.length - this.max);
      this.ys.splice(0, this.ys.length - this.max);
    }
    invalidate(this);
  }

  get length() {
    return this.xs.length;
  }

  render() {
    this.draw([this.xs.slice(), this.ys.slice()], (width) =>
      baseOptions(width, [{ stroke: this.color, width: 1.5, points: { show: false } }]),
    );
  }
}

/**
 * A forecast: the observed values (line), the forecast (dashed) and its interval (band between
 * upper and lower).
 */
export class ForecastChart extends ChartBase {
  constructor(el) {
    super(el);
    this.data = [[], [], [], [], []];
  }

  /**
   * @param {Array<[number, number]>} observed [unix ms, value] pairs, ascending
   * @param {object} f forecast data (docs/forecasts.md): start_ts, step_ms, points, lower, upper
   */
  set(observed, f) {
    const rows = new Map();
    const row = (x) => {
      let r = rows.get(x);
      if (!r) rows.set(x, (r = [x, null, null, null, null]));
      return r;
    };
    for (const [t, v] of observed) row(t / 1000)[1] = v;
    const step = Number(f.step_ms) || 1000;
    (f.points ?? []).forEach((p, i) => {
      const r = row((Number(f.start_ts) + i * step) / 1000);
      r[2] = p;
      r[3] = f.lower?.[i] ?? null;
      r[4] = f.upper?.[i] ?? null;
    });
    const sorted = [...rows.values()].sort((a, b) => a[0] - b[0]);
    this.data = [0, 1, 2, 3, 4].map((k) => sorted.map((r) => r[k]));
    invalidate(this);
  }

  render() {
    this.draw(this.data, (width) =>
      baseOptions(
        width,
        [
          // Observed and forecast rows interleave on x: join each series over the other's rows.
          { stroke: '#4fc3f7', width: 1.5, points: { show: false }, spanGaps: true },
          { stroke: '#ffb74d', width: 1.5, dash: [4, 3], points: { show: false }, spanGaps: true },
          { stroke: 'rgba(255,183,77,0.4)', width: 1, points: { show: false } },
          { stroke: 'rgba(255,183,77,0.4)', width: 1, points: { show: false } },
        ],
        { bands: [{ series: [4, 3], fill: 'rgba(255,183,77,0.18)' }] },
      ),
    );
  }
}
