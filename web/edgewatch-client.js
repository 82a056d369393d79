// edgewatch-client.js — the JavaScript client of edgewatch's wire protocol v1 (docs/protocol.md).
//
// An ES module with no dependencies, for browsers and Node 18+. It connects to the gateway's
// WebSocket with first-frame auth, subscribes to MQTT-style topic patterns, and keeps the stream
// whole across drops: it resumes each concrete topic from the last seq it delivered (with the
// gateway's epoch), drops duplicates by (topic, seq) so the application never sees an event twice
// or out of order, reports what could not be recovered as gap notices, falls back to HTTP
// long-poll when the WebSocket keeps failing, and returns to the WebSocket when it can.
//
//   import { EdgewatchClient } from './edgewatch-client.js';
//   const client = new EdgewatchClient({ url: 'ws://gateway:8080/ws', token });
//   client.on('state', (s) => showStatus(s.state, s.lastUpdateAgeMs));
//   client.onFrame('cam1', (update) => showFps(update.frame_data.fps));
//   client.connect();
//
// In Node (which has no global WebSocket before v22) pass a constructor, e.g. from the `ws`
// package: `new EdgewatchClient({ url, token, WebSocket })`.

/** Close codes the gateway uses (docs/protocol.md, "Close codes"). */
export const CloseCode = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  TRY_AGAIN_LATER: 1013,
  AUTH_FAILED: 4401,
  FORBIDDEN: 4403,
  SLOW_CONSUMER: 4408,
  RATE_LIMITED: 4429,
});

/** Close codes after which the client stops and reports: a new token is needed. */
export const FATAL_CLOSE_CODES = Object.freeze([CloseCode.AUTH_FAILED, CloseCode.FORBIDDEN]);

/** Default options (see {@link ClientOptions}). */
export const DEFAULTS = Object.freeze({
  initialDelayMs: 1000,
  maxDelayMs: 30000,
  backoffFactor: 2,
  maxAttempts: Infinity,
  longPollAfter: 3,
  pollTimeoutS: 25,
  wsRetryMs: 30000,
  heartbeatFactor: 2,
  connectTimeoutMs: 10000,
  maxMessageBytes: 4096,
});

const MAX_PATTERNS_PER_OP = 64;
const POLL_GRACE_MS = 10000;
const noop = () => {};

/**
 * Options of {@link EdgewatchClient}.
 * @typedef {object} ClientOptions
 * @property {string} url WebSocket URL of the gateway, e.g. `ws://host:8080/ws` (`wss://` with TLS).
 * @property {string | null | (() => string | null | Promise<string | null>)} [token] Access token
 *   (JWT), or a function returning one (called before each connection, each long-poll request and
 *   on `token_expired`). Sent as the first frame `{"op":"auth","token":...}` and as
 *   `Authorization: Bearer` on long-poll. Omit for a gateway run with `--no-auth`.
 * @property {typeof WebSocket | null} [WebSocket] WebSocket constructor; default
 *   `globalThis.WebSocket`. Without one (or with `null`) the client uses long-poll only.
 * @property {typeof fetch} [fetch] fetch implementation for long-poll; default `globalThis.fetch`.
 * @property {string} [pollUrl] Long-poll endpoint; default derived from `url`
 *   (`ws://h:p/ws` → `http://h:p/api/v1/poll`).
 * @property {number} [initialDelayMs=1000] First back-off cap. Delays use full jitter: a uniform
 *   random delay in [0, min(maxDelayMs, initialDelayMs × backoffFactor^failures)].
 * @property {number} [maxDelayMs=30000] Largest back-off cap.
 * @property {number} [backoffFactor=2] Growth of the cap per consecutive failure.
 * @property {number} [maxAttempts=Infinity] Consecutive failed attempts before giving up (seed 004:
 *   5, then ask the user). Giving up emits `giveup`, calls `onGiveUp` and goes `offline`.
 * @property {(info: {attempts: number, lastError: object | null}) => void} [onGiveUp]
 * @property {number} [longPollAfter=3] Consecutive failed WebSocket attempts after which the client
 *   switches to HTTP long-poll (K). `Infinity` disables the fallback.
 * @property {number} [pollTimeoutS=25] How long the gateway may hold a poll (max 30).
 * @property {number} [wsRetryMs=30000] While on long-poll, how often to try the WebSocket again.
 * @property {number} [heartbeatFactor=2] The connection is dead after `heartbeatFactor ×
 *   heartbeat_s` (from the welcome) without any frame.
 * @property {number} [connectTimeoutMs=10000] An attempt not authenticated within this fails.
 * @property {number} [maxMessageBytes=4096] The gateway's inbound message limit: larger subscribe
 *   ops are split.
 * @property {Position} [position] Where to resume from, as saved from {@link EdgewatchClient#position}
 *   (e.g. across a page reload): subscriptions made before the first connection resume from it.
 * @property {() => number} [random] Source of randomness for jitter (tests); default Math.random.
 */

/**
 * An event as delivered to subscribers.
 * @typedef {object} EdgewatchEvent
 * @property {string} topic Concrete topic, e.g. `pipeline/cam1/frame`.
 * @property {number} seq Per-topic sequence number (1, 2, ... for the life of one gateway epoch).
 * @property {number} ts Unix time in milliseconds.
 * @property {object} data The payload (seed 003 objects on `pipeline/<id>/...` topics).
 * @property {string | null} epoch The gateway run the seq belongs to.
 */

/**
 * What could not be delivered: seqs `from`..`to` (inclusive; `to` null = everything after
 * `from - 1` in the previous epoch) of `topic`. Followed by the topic's latest event.
 * @typedef {object} GapNotice
 * @property {string} topic
 * @property {number} from
 * @property {number | null} to
 * @property {string} reason `ring_overflow`, `epoch_changed` (gateway restarted), or `seq_jump`
 *   (detected by the client: the gateway skipped seqs without a notice, e.g. after `lagged`).
 * @property {'server' | 'client'} source
 */

/**
 * Connection status, the payload of `state` events and of {@link EdgewatchClient#status}.
 * @typedef {object} ConnectionStatus
 * @property {'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'error'} state
 *   `connecting`: first attempt; `connected`: live; `reconnecting`: lost or failing, retrying;
 *   `offline`: not trying (closed, or gave up after maxAttempts); `error`: stopped because the
 *   gateway refused the token (4401/4403, HTTP 401/403) — set a new token and call connect().
 * @property {string | null} previous The state before this one.
 * @property {'websocket' | 'long-poll' | null} transport
 * @property {number} attempt Consecutive failed attempts so far.
 * @property {number | null} delayMs When reconnecting: the delay before the next attempt.
 * @property {number | null} nextRetryAt Unix ms of the next attempt, if one is scheduled.
 * @property {number | string | null} code Close code or HTTP status that caused this state.
 * @property {string | null} reason Close reason or error text.
 * @property {string | null} epoch The gateway epoch the client's positions refer to.
 * @property {number | null} lastUpdateAt Unix ms of the last delivered event.
 * @property {number | null} lastUpdateAgeMs Age of the last delivered event, for "updated 12 s ago".
 */

/**
 * A resume position: the gateway epoch and the last seq delivered per concrete topic.
 * @typedef {object} Position
 * @property {string | null} epoch
 * @property {Record<string, number>} since
 */

/**
 * True when the MQTT-style `pattern` (`+` = one segment, trailing `#` = any remainder, including
 * none) matches the concrete `topic`.
 * @param {string} pattern
 * @param {string} topic
 * @returns {boolean}
 */
export function topicMatches(pattern, topic) {
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return i === p.length - 1;
    if (i >= t.length) return false;
    if (p[i] !== '+' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/**
 * Throws a TypeError unless `pattern` is a valid subscription pattern.
 * @param {string} pattern
 */
export function validatePattern(pattern) {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new TypeError('pattern must be a non-empty string');
  }
  const segs = pattern.split('/');
  segs.forEach((s, i) => {
    if (s === '#' && i !== segs.length - 1) throw new TypeError(`${pattern}: '#' must be last`);
    if (s !== '#' && s !== '+' && /[+#]/.test(s)) {
      throw new TypeError(`${pattern}: '+' and '#' must fill a whole segment`);
    }
  });
}

/**
 * Back-off with full jitter: a uniform random delay in [0, cap), cap =
 * min(maxDelayMs, initialDelayMs × backoffFactor^failures).
 * @param {number} failures Consecutive failures so far (0 after a drop of a live connection).
 * @param {{initialDelayMs?: number, maxDelayMs?: number, backoffFactor?: number}} [opts]
 * @param {() => number} [random]
 * @returns {number} milliseconds
 */
export function backoffDelay(failures, opts = {}, random = Math.random) {
  const { initialDelayMs, maxDelayMs, backoffFactor } = { ...DEFAULTS, ...opts };
  const cap = Math.min(maxDelayMs, initialDelayMs * backoffFactor ** Math.max(0, failures));
  return Math.floor(random() * cap);
}

/** Derives the long-poll URL from the WebSocket URL. */
function defaultPollUrl(wsUrl) {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/api/v1/poll';
  u.search = '';
  u.hash = '';
  return u.toString();
}

const monotonic = () => globalThis.performance?.now?.() ?? Date.now();
const utf8Length = (s) => new TextEncoder().encode(s).length;

/**
 * The edgewatch client. Create it, register listeners and subscriptions, then call
 * {@link EdgewatchClient#connect}. Not tied to any UI framework.
 *
 * Events (`client.on(type, listener)`):
 * - `state` ({@link ConnectionStatus}) on every state change and every scheduled retry;
 * - `subscribed` `{topics, recovered, transport}`: the gateway confirmed a subscription;
 *   `recovered` (on resume) says whether every missed event is being replayed;
 * - `gap` ({@link GapNotice}); `epoch` `{previous, epoch}` when the gateway restarted;
 * - `error` `{code, reason, message, fatal, source}`: error frames from the gateway
 *   (`forbidden`, `lagged`, ...) and refusals (4401/4403: `fatal: true`);
 * - `welcome`, `authenticated`, `tokenexpired`, `giveup`, and `message` for frames of types this
 *   client does not know.
 */
export class EdgewatchClient {
  /** @param {ClientOptions} options */
  constructor(options) {
    if (!options || typeof options.url !== 'string') throw new TypeError('options.url is required');
    this._opts = { ...options };
    for (const [k, v] of Object.entries(DEFAULTS)) this._opts[k] = options[k] ?? v;
    this._url = options.url;
    this._pollUrl = options.pollUrl ?? defaultPollUrl(options.url);
    // `WebSocket: null` forces long-poll only.
    this._WebSocket = ('WebSocket' in options ? options.WebSocket : globalThis.WebSocket) ?? null;
    const f = options.fetch ?? globalThis.fetch;
    this._fetch = typeof f === 'function' ? f.bind(globalThis) : null;
    this._token = options.token ?? null;
    this._random = options.random ?? Math.random;

    /** @type {Map<string, Set<Function>>} */
    this._listeners = new Map();
    /** Local subscriptions by pattern. @type {Map<string, {handlers: Set<object>, resumable: boolean, sentOn: object | null}>} */
    this._subs = new Map();
    /** Last delivered seq per concrete topic, in epoch `_epoch`. @type {Map<string, number>} */
    this._seqs = new Map();
    /** Last delivered event per topic (replayed locally to new subscribers). */
    this._latest = new Map();
    /** Topics with a server gap notice not yet followed by an event. */
    this._gapNoticed = new Set();
    this._epoch = options.position?.epoch ?? null;
    for (const [t, s] of Object.entries(options.position?.since ?? {})) this._seqs.set(t, s);
    this._restored = this._epoch !== null;

    this._state = 'idle';
    this._transport = null;
    this._active = false; // trying to be connected
    this._runId = 0; // bumped by connect()/close(): stale async work checks it
    this._failures = 0;
    this._lastError = null;
    this._lastUpdateAt = null;
    this._nextRetryAt = null;
    this._retryTimer = null;
    this._probeTimer = null;
    this._conn = null; // the current WebSocket attempt or connection
    this._polling = false;
    this._pollAbort = null;
    this._pollRestart = false;
    this._pollLive = false; // a poll succeeded since polling started
    this._sleepers = new Set(); // pending _sleep()s, ended early by _halt()
    this._subWaiters = new Set(); // a poll loop waiting for a first subscription
    this._everConnected = false;
    this._nextId = 1;
    this._onOnline = () => {
      if (this._retryTimer && this._active) {
        clearTimeout(this._retryTimer);
        this._retryTimer = null;
        this._attempt();
      }
    };
    /** Counters for diagnostics. */
    this.stats = { delivered: 0, duplicates: 0, gaps: 0, connections: 0, polls: 0 };
  }

  // ---- public API ---------------------------------------------------------------------------

  /**
   * Starts connecting (and reconnecting) until {@link EdgewatchClient#close}. Calling it again
   * after `offline` or `error` starts over with a fresh attempt count; positions are kept, so the
   * stream resumes where it stopped.
   * @returns {this}
   */
  connect() {
    if (this._active) return this;
    this._active = true;
    this._runId++;
    this._failures = 0;
    globalThis.addEventListener?.('online', this._onOnline);
    this._setState('connecting', { transport: null });
    if (this._WebSocket) this._openSocket(false);
    else this._startPolling();
    return this;
  }

  /** Closes the connection and stops reconnecting; state becomes `offline`. */
  close() {
    const wasActive = this._active;
    this._halt();
    if (wasActive || this._state !== 'offline') {
      this._setState('offline', { transport: null, reason: 'closed' });
    }
  }

  /**
   * Subscribes `onEvent` to every event whose topic matches `pattern`. Events arrive once each,
   * in seq order per topic; a new subscriber first gets the latest known event of each matching
   * topic (the snapshot), then live events.
   * @param {string} pattern MQTT-style pattern, e.g. `pipeline/+/frame` or `system/#`.
   * @param {(event: EdgewatchEvent) => void} onEvent
   * @param {{onGap?: (gap: GapNotice) => void}} [options]
   * @returns {() => void} unsubscribe
   */
  subscribe(pattern, onEvent, options = {}) {
    validatePattern(pattern);
    if (typeof onEvent !== 'function') throw new TypeError('onEvent must be a function');
    const handler = { onEvent, onGap: options.onGap };
    let sub = this._subs.get(pattern);
    const isNew = !sub;
    if (isNew) {
      // Resumable: subscribed before (on an earlier connection, or in a restored position).
      sub = { handlers: new Set(), resumable: this._restored && !this._everConnected, sentOn: null };
      this._subs.set(pattern, sub);
    }
    sub.handlers.add(handler);
    // Local snapshot: what this client already holds for the pattern.
    const held = [...this._latest.values()].filter((ev) => topicMatches(pattern, ev.topic));
    if (held.length) {
      queueMicrotask(() => {
        if (!sub.handlers.has(handler)) return;
        for (const ev of held) if (this._latest.get(ev.topic) === ev) this._call(handler.onEvent, ev);
      });
    }
    if (isNew) {
      const conn = this._conn;
      if (conn?.ready) this._sendSubscriptions(conn);
      else if (this._polling) this._restartPoll();
      for (const w of [...this._subWaiters]) w();
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this._unsubscribe(pattern, handler);
    };
  }

  /**
   * Status updates of one pipeline (`pipeline/<id>/status`), or of all with no id. The listener
   * gets seed 003's PipelineStatusUpdate `{pipeline_id, status, detailed_status?}` and the event.
   * @param {string | ((update: object, event: EdgewatchEvent) => void)} pipelineId
   * @param {(update: object, event: EdgewatchEvent) => void} [listener]
   * @returns {() => void} unsubscribe
   */
  onPipelineStatus(pipelineId, listener) {
    return this._typed('status', pipelineId, listener);
  }

  /**
   * Frame updates (`pipeline/<id>/frame`): seed 003's PipelineFrameUpdate
   * `{pipeline_id, frame_data: {frame_id, timestamp, detections_count, processing_time, fps,
   * node_results}}`.
   * @param {string | ((update: object, event: EdgewatchEvent) => void)} pipelineId
   * @param {(update: object, event: EdgewatchEvent) => void} [listener]
   * @returns {() => void} unsubscribe
   */
  onFrame(pipelineId, listener) {
    return this._typed('frame', pipelineId, listener);
  }

  /**
   * Analytics updates (`pipeline/<id>/analytics`): seed 003's PipelineAnalyticsUpdate
   * `{pipeline_id, analytics: {node_id, node_type, people_count?, trend?, new_crossings?,
   * total_crossings?, new_intrusions?, active_zones?, results}}`.
   * @param {string | ((update: object, event: EdgewatchEvent) => void)} pipelineId
   * @param {(update: object, event: EdgewatchEvent) => void} [listener]
   * @returns {() => void} unsubscribe
   */
  onAnalytics(pipelineId, listener) {
    return this._typed('analytics', pipelineId, listener);
  }

  /**
   * Pipeline errors (`pipeline/<id>/error`): seed 003's PipelineErrorUpdate
   * `{pipeline_id, error_message, severity}`.
   * @param {string | ((update: object, event: EdgewatchEvent) => void)} pipelineId
   * @param {(update: object, event: EdgewatchEvent) => void} [listener]
   * @returns {() => void} unsubscribe
   */
  onPipelineError(pipelineId, listener) {
    return this._typed('error', pipelineId, listener);
  }

  /**
   * Adds a listener for a client event (see the class comment). Listeners are called
   * synchronously; an exception thrown by one is rethrown asynchronously and does not disturb
   * the client.
   * @param {string} type
   * @param {(detail: any) => void} listener
   * @returns {() => void} removes the listener
   */
  on(type, listener) {
    let set = this._listeners.get(type);
    if (!set) this._listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Replaces the token. On a live WebSocket it is sent at once as `{"op":"auth"}` (refresh in
   * place; it must keep the same `sub`); otherwise it is used from the next attempt on. After a
   * 4401/4403 (`error` state), call connect() again.
   * @param {string | null | (() => string | null | Promise<string | null>)} token
   */
  setToken(token) {
    this._token = token;
    const conn = this._conn;
    if (conn?.ready && conn.token) this._refreshAuth(conn);
  }

  /**
   * Sends an application op (`ack`, `mark_read`, `notifications`, `command`; docs/protocol.md)
   * on the live WebSocket. An `id` is assigned when `op.id` is absent; the reply arrives as a
   * `message` event (`acked`, `marked_read`, ...) or an `error` event with that id. Long-poll
   * cannot carry ops: returns null when not connected over a WebSocket.
   * @param {{op: string, id?: number}} op
   * @returns {number | null} the op's id, or null when it was not sent
   */
  send(op) {
    if (!op || typeof op.op !== 'string') throw new TypeError('op.op must be a string');
    const conn = this._conn;
    if (!conn?.ready || this._transport !== 'websocket') return null;
    const msg = { ...op, id: op.id ?? this._nextId++ };
    return this._send(conn, msg) ? msg.id : null;
  }

  /** @returns {ConnectionStatus} */
  status() {
    return this._status(this._state, {});
  }

  /** @returns {ConnectionStatus['state']} */
  get state() {
    return this._state;
  }

  /** @returns {'websocket' | 'long-poll' | null} */
  get transport() {
    return this._state === 'connected' ? this._transport : null;
  }

  /** @returns {string | null} the gateway epoch the positions refer to */
  get epoch() {
    return this._epoch;
  }

  /** Unix ms of the last delivered event, or null. */
  get lastUpdateAt() {
    return this._lastUpdateAt;
  }

  /** Milliseconds since the last delivered event, or null when none yet. */
  lastUpdateAge() {
    return this._lastUpdateAt === null ? null : Math.max(0, Date.now() - this._lastUpdateAt);
  }

  /**
   * The last seq delivered for `topic` in the current epoch (0 when none).
   * @param {string} topic
   */
  lastSeq(topic) {
    return this._seqs.get(topic) ?? 0;
  }

  /**
   * The resume position: save it (e.g. in localStorage) and pass it back as `options.position`
   * to resume after a page reload.
   * @returns {Position}
   */
  position() {
    return { epoch: this._epoch, since: Object.fromEntries(this._seqs) };
  }

  // ---- events and state ---------------------------------------------------------------------

  _emit(type, detail) {
    const set = this._listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) this._call(fn, detail);
  }

  _call(fn, arg) {
    try {
      fn(arg);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  _status(state, extra) {
    return {
      state,
      previous: extra.previous ?? null,
      transport: extra.transport !== undefined ? extra.transport : this._transport,
      attempt: this._failures,
      delayMs: extra.delayMs ?? null,
      nextRetryAt: this._nextRetryAt,
      code: extra.code ?? null,
      reason: extra.reason ?? null,
      epoch: this._epoch,
      lastUpdateAt: this._lastUpdateAt,
      lastUpdateAgeMs: this.lastUpdateAge(),
    };
  }

  _setState(state, extra = {}) {
    const previous = this._state;
    if ('transport' in extra) this._transport = extra.transport;
    this._state = state;
    this._emit('state', this._status(state, { ...extra, previous }));
  }

  /** Stops everything: timers, socket, polling. */
  _halt() {
    this._active = false;
    this._runId++;
    clearTimeout(this._retryTimer);
    clearTimeout(this._probeTimer);
    this._retryTimer = this._probeTimer = null;
    this._nextRetryAt = null;
    globalThis.removeEventListener?.('online', this._onOnline);
    this._stopPolling();
    if (this._conn) this._discard(this._conn, CloseCode.NORMAL, 'client closing');
    this._wake();
  }

  /** 4401/4403 or HTTP 401/403: stop and report; a new token is needed. */
  _fatal(info) {
    this._halt();
    this._lastError = info;
    this._emit('error', { ...info, fatal: true });
    this._setState('error', { transport: null, code: info.code, reason: info.reason });
  }

  _giveUp() {
    const attempts = this._failures;
    this._halt();
    const info = { attempts, lastError: this._lastError };
    this._emit('giveup', info);
    if (this._opts.onGiveUp) this._call(this._opts.onGiveUp, info);
    this._setState('offline', {
      transport: null,
      code: this._lastError?.code ?? null,
      reason: 'gave_up',
    });
  }

  /** After a failed attempt or a lost connection: back off, fall back to long-poll, or give up. */
  _retry(cause) {
    if (!this._active) return;
    this._lastError = cause;
    if (this._failures >= this._opts.maxAttempts) {
      this._giveUp();
      return;
    }
    if (this._fetch && this._failures >= this._opts.longPollAfter) {
      this._startPolling(cause);
      return;
    }
    const delay = backoffDelay(this._failures, this._opts, this._random);
    this._nextRetryAt = Date.now() + delay;
    const runId = this._runId;
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this._nextRetryAt = null;
      if (runId === this._runId) this._attempt();
    }, delay);
    this._setState('reconnecting', { delayMs: delay, code: cause.code, reason: cause.reason });
  }

  _attempt() {
    if (this._WebSocket) this._openSocket(false);
    else this._startPolling();
  }

  _wake() {
    for (const w of [...this._sleepers, ...this._subWaiters]) w();
  }

  /** Resolves after `ms`, or at once when the client halts. */
  _sleep(ms) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this._sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this._sleepers.add(done);
    });
  }

  async _resolveToken() {
    const t = this._token;
    return typeof t === 'function' ? await t() : t;
  }

  // ---- subscriptions and delivery -----------------------------------------------------------

  _typed(kind, pipelineId, listener) {
    if (typeof pipelineId === 'function') [listener, pipelineId] = [pipelineId, '+'];
    if (typeof pipelineId !== 'string' || !/^[^/#]+$/.test(pipelineId)) {
      throw new TypeError('pipelineId must be one topic segment (or omitted for all pipelines)');
    }
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    return this.subscribe(`pipeline/${pipelineId}/${kind}`, (ev) => listener(ev.data, ev));
  }

  _unsubscribe(pattern, handler) {
    const sub = this._subs.get(pattern);
    if (!sub) return;
    sub.handlers.delete(handler);
    if (sub.handlers.size) return;
    this._subs.delete(pattern);
    const conn = this._conn;
    if (conn?.ready && sub.sentOn === conn) {
      this._send(conn, { op: 'unsubscribe', id: this._nextId++, topics: [pattern] });
    }
    if (this._polling) this._restartPoll();
    // Forget topics no longer covered: a later subscription starts from a fresh snapshot.
    for (const topic of [...this._seqs.keys()]) {
      if (![...this._subs.keys()].some((p) => topicMatches(p, topic))) {
        this._seqs.delete(topic);
        this._latest.delete(topic);
        this._gapNoticed.delete(topic);
      }
    }
  }

  /** Delivers one event unless it is a duplicate or older than what was delivered. */
  _deliver(msg) {
    const { topic, seq } = msg;
    if (typeof topic !== 'string' || !Number.isSafeInteger(seq)) return;
    const last = this._seqs.get(topic) ?? 0;
    if (seq <= last) {
      this.stats.duplicates++;
      return;
    }
    if (last > 0 && seq > last + 1 && !this._gapNoticed.has(topic)) {
      this._gap({ topic, from: last + 1, to: seq - 1, reason: 'seq_jump', source: 'client' });
    }
    this._gapNoticed.delete(topic);
    this._seqs.set(topic, seq);
    /** @type {EdgewatchEvent} */
    const ev = { topic, seq, ts: msg.ts, data: msg.data, epoch: this._epoch };
    this._latest.set(topic, ev);
    this._lastUpdateAt = Date.now();
    this.stats.delivered++;
    for (const [pattern, sub] of this._subs) {
      if (!topicMatches(pattern, topic)) continue;
      for (const h of [...sub.handlers]) this._call(h.onEvent, ev);
    }
  }

  /** A gap notice from the gateway: trimmed to what this client has not already delivered. */
  _serverGap(msg) {
    if (typeof msg.topic !== 'string') return;
    let from = Number(msg.from) || 1;
    const to = msg.to ?? null;
    if (msg.reason !== 'epoch_changed') {
      from = Math.max(from, (this._seqs.get(msg.topic) ?? 0) + 1);
      if (to !== null && from > to) return;
      this._gapNoticed.add(msg.topic);
    }
    this._gap({ topic: msg.topic, from, to, reason: msg.reason ?? 'unknown', source: 'server' });
  }

  _gap(gap) {
    this.stats.gaps++;
    this._emit('gap', gap);
    for (const [pattern, sub] of this._subs) {
      if (!topicMatches(pattern, gap.topic)) continue;
      for (const h of [...sub.handlers]) if (h.onGap) this._call(h.onGap, gap);
    }
  }

  _switchEpoch(epoch) {
    const previous = this._epoch;
    if (previous === epoch) return;
    this._epoch = epoch;
    this._seqs.clear();
    this._gapNoticed.clear();
    if (previous !== null) this._emit('epoch', { previous, epoch });
  }

  /** `since` for the topics matching any of `patterns`. */
  _sinceFor(patterns, seqs) {
    const since = {};
    for (const [topic, seq] of seqs) {
      if (patterns.some((p) => topicMatches(p, topic))) since[topic] = seq;
    }
    return since;
  }

  // ---- WebSocket ----------------------------------------------------------------------------

  async _openSocket(probe) {
    const runId = this._runId;
    let token;
    try {
      token = await this._resolveToken();
    } catch (err) {
      if (runId !== this._runId) return;
      this._emit('error', { code: 'token_provider', message: String(err), fatal: false });
      if (!probe) {
        this._failures++;
        this._retry({ code: 'token_provider', reason: String(err?.message ?? err) });
      } else this._scheduleProbe();
      return;
    }
    if (runId !== this._runId || this._conn) return;
    const conn = {
      ws: null,
      probe,
      token,
      welcome: null,
      authed: false,
      ready: false,
      closed: false,
      error: null,
      lastFrameAt: monotonic(),
      deadMs: 0,
      watchdog: null,
      connectTimer: null,
      resumeFrom: null,
    };
    this._conn = conn;
    this.stats.connections++;
    try {
      conn.ws = new this._WebSocket(this._url);
    } catch (err) {
      conn.error = err;
      this._onClose(conn, CloseCode.ABNORMAL, String(err?.message ?? err));
      return;
    }
    const ws = conn.ws;
    ws.onopen = () => {
      if (!conn.closed && token) this._send(conn, { op: 'auth', token });
    };
    ws.onmessage = (e) => this._onFrame(conn, e.data);
    ws.onerror = (e) => {
      conn.error = e?.error ?? e?.message ?? 'websocket error';
    };
    ws.onclose = (e) => this._onClose(conn, e.code, e.reason || (conn.error ? String(conn.error.message ?? conn.error) : ''));
    conn.connectTimer = setTimeout(() => this._abandon(conn, 'connect_timeout'), this._opts.connectTimeoutMs);
  }

  _send(conn, obj) {
    if (conn.closed || conn.ws?.readyState !== 1) return false;
    conn.ws.send(JSON.stringify(obj));
    return true;
  }

  _onFrame(conn, raw) {
    if (conn.closed) return;
    conn.lastFrameAt = monotonic();
    let msg;
    try {
      msg = JSON.parse(typeof raw === 'string' ? raw : String(raw));
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'event':
        if (conn.ready) this._deliver(msg);
        break;
      case 'heartbeat':
      case 'pong':
        break;
      case 'welcome':
        this._onWelcome(conn, msg);
        break;
      case 'authenticated':
        if (!conn.authed) {
          conn.authed = true;
          this._maybeReady(conn);
        }
        this._emit('authenticated', msg);
        break;
      case 'subscribed':
        for (const p of msg.topics ?? []) {
          const sub = this._subs.get(p);
          if (sub) sub.resumable = true;
        }
        this._emit('subscribed', {
          id: msg.id ?? null,
          topics: msg.topics ?? [],
          recovered: msg.recovered ?? null,
          transport: 'websocket',
        });
        break;
      case 'unsubscribed':
        break;
      case 'gap':
        this._serverGap(msg);
        break;
      case 'error':
        this._onServerError(conn, msg);
        break;
      default:
        this._emit('message', msg);
    }
  }

  _onWelcome(conn, msg) {
    conn.welcome = msg;
    const hb = Number(msg.heartbeat_s);
    if (hb > 0) {
      conn.deadMs = hb * 1000 * this._opts.heartbeatFactor;
      this._armWatchdog(conn, conn.deadMs);
    }
    if (typeof msg.epoch === 'string' && msg.epoch !== this._epoch) {
      // Ask to resume from the old epoch (the gateway answers recovered:false, epoch_changed
      // gaps and its latest events); from now on seqs are the new epoch's.
      if (this._epoch !== null) conn.resumeFrom = { epoch: this._epoch, seqs: new Map(this._seqs) };
      this._switchEpoch(msg.epoch);
    }
    this._emit('welcome', msg);
    this._maybeReady(conn);
  }

  _onServerError(conn, msg) {
    const info = {
      code: msg.code ?? 'error',
      reason: msg.code ?? null,
      message: msg.message ?? '',
      id: msg.id ?? null,
      fatal: false,
      source: 'server',
    };
    if (msg.code === 'auth_disabled' && !conn.authed) {
      // The gateway runs with --no-auth: the token is not needed.
      conn.authed = true;
      this._maybeReady(conn);
      return;
    }
    this._emit('error', info);
    if (msg.code === 'token_expired') {
      this._emit('tokenexpired', info);
      if (typeof this._token === 'function') this._refreshAuth(conn);
    }
  }

  async _refreshAuth(conn) {
    let token;
    try {
      token = await this._resolveToken();
    } catch (err) {
      this._emit('error', { code: 'token_provider', message: String(err), fatal: false });
      return;
    }
    if (token && !conn.closed) {
      conn.token = token;
      this._send(conn, { op: 'auth', id: this._nextId++, token });
    }
  }

  _maybeReady(conn) {
    if (conn.ready || conn.closed || !conn.welcome || (conn.token && !conn.authed)) return;
    conn.ready = true;
    clearTimeout(conn.connectTimer);
    this._failures = 0;
    this._everConnected = true;
    this._nextRetryAt = null;
    if (conn.probe) {
      conn.probe = false;
      this._stopPolling();
    }
    this._sendSubscriptions(conn);
    this._setState('connected', { transport: 'websocket' });
  }

  /**
   * Subscribes `conn` to every pattern not yet sent on it: first one resume op (epoch and since)
   * for patterns subscribed before, then plain ops (snapshot) for new patterns. Ops are split to
   * respect the gateway's per-op pattern count and message size.
   */
  _sendSubscriptions(conn) {
    const resume = [];
    const fresh = [];
    for (const [pattern, sub] of this._subs) {
      if (sub.sentOn === conn) continue;
      sub.sentOn = conn;
      (sub.resumable ? resume : fresh).push(pattern);
    }
    const from = conn.resumeFrom ?? { epoch: this._epoch, seqs: this._seqs };
    for (const op of this._buildOps(resume, from)) this._send(conn, op);
    for (const op of this._buildOps(fresh, null)) this._send(conn, op);
  }

  _buildOps(patterns, from) {
    const max = this._opts.maxMessageBytes;
    const make = (ps) => {
      const op = { op: 'subscribe', id: this._nextId, topics: ps };
      if (from) {
        if (from.epoch) op.epoch = from.epoch;
        op.since = this._sinceFor(ps, from.seqs);
      }
      return op;
    };
    const size = (op) => utf8Length(JSON.stringify(op));
    const groups = [];
    let group = [];
    for (const p of patterns) {
      const trial = [...group, p];
      if (group.length && (trial.length > MAX_PATTERNS_PER_OP || size(make(trial)) > max)) {
        groups.push(group);
        group = [p];
      } else {
        group = trial;
      }
    }
    if (group.length) groups.push(group);
    return groups.map((g) => {
      const op = make(g);
      op.id = this._nextId++;
      // Still too large: drop since entries. Safe: those topics replay from the ring and the
      // duplicates are dropped here.
      if (op.since) {
        const keys = Object.keys(op.since);
        while (keys.length && size(op) > max) delete op.since[keys.pop()];
      }
      return op;
    });
  }

  _armWatchdog(conn, ms) {
    clearTimeout(conn.watchdog);
    conn.watchdog = setTimeout(() => {
      if (conn.closed) return;
      const idle = monotonic() - conn.lastFrameAt;
      if (idle >= conn.deadMs) this._abandon(conn, 'heartbeat_timeout');
      else this._armWatchdog(conn, conn.deadMs - idle);
    }, Math.max(1, ms));
  }

  /** Gives up on a socket that is silent or never completed: treated as an abnormal close. */
  _abandon(conn, reason) {
    if (conn.closed) return;
    this._discard(conn, CloseCode.NORMAL, reason);
    this._onClose(conn, CloseCode.ABNORMAL, reason, true);
  }

  /** Detaches from a socket and closes it without waiting for the closing handshake. */
  _discard(conn, code, reason) {
    const ws = conn.ws;
    conn.closed = true;
    clearTimeout(conn.watchdog);
    clearTimeout(conn.connectTimer);
    if (this._conn === conn) this._conn = null;
    if (!ws) return;
    // Handlers become no-ops (not null: an EventEmitter-based WebSocket would throw on an
    // 'error' event without a listener).
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = noop;
    try {
      if (reason !== 'client closing' && typeof ws.terminate === 'function') ws.terminate();
      else ws.close(code, reason);
    } catch {
      /* already closed */
    }
  }

  _onClose(conn, code, reason, force = false) {
    if (conn.closed && !force) return;
    const wasReady = conn.ready;
    const wasProbe = conn.probe;
    conn.closed = true;
    clearTimeout(conn.watchdog);
    clearTimeout(conn.connectTimer);
    if (this._conn === conn) this._conn = null;
    if (!this._active) return;
    const cause = { code: code ?? CloseCode.ABNORMAL, reason: reason ?? '', transport: 'websocket' };
    if (FATAL_CLOSE_CODES.includes(cause.code)) {
      this._fatal(cause);
      return;
    }
    if (wasProbe) {
      // On long-poll: the WebSocket is still unavailable; try again later.
      this._scheduleProbe();
      return;
    }
    if (wasReady) this._failures = 0;
    else this._failures++;
    this._retry(cause);
  }

  // ---- HTTP long-poll -----------------------------------------------------------------------

  _startPolling(cause) {
    if (this._polling || !this._fetch) return;
    this._polling = true;
    this._pollLive = false;
    if (this._state === 'connecting') {
      this._transport = 'long-poll';
    } else {
      this._setState('reconnecting', {
        transport: 'long-poll',
        code: cause?.code ?? null,
        reason: cause?.reason ?? null,
      });
    }
    this._pollLoop(this._runId);
    this._scheduleProbe();
  }

  _stopPolling() {
    this._polling = false;
    clearTimeout(this._probeTimer);
    this._probeTimer = null;
    const ctrl = this._pollAbort;
    this._pollAbort = null;
    ctrl?.abort();
    this._wake();
  }

  _restartPoll() {
    if (!this._pollAbort) return;
    this._pollRestart = true;
    this._pollAbort.abort();
  }

  _scheduleProbe() {
    if (!this._polling || !this._WebSocket || !Number.isFinite(this._opts.wsRetryMs)) return;
    clearTimeout(this._probeTimer);
    const runId = this._runId;
    this._probeTimer = setTimeout(() => {
      this._probeTimer = null;
      if (runId === this._runId && this._polling && !this._conn) this._openSocket(true);
    }, this._opts.wsRetryMs);
  }

  _pollRequestUrl(patterns, quick) {
    const enc = encodeURIComponent;
    let url = `${this._pollUrl}?topics=${patterns.map(enc).join(',')}`;
    if (this._epoch !== null) {
      url += `&epoch=${enc(this._epoch)}`;
      const since = Object.entries(this._sinceFor(patterns, this._seqs));
      if (since.length) url += `&since=${since.map(([t, s]) => `${enc(t)}:${s}`).join(',')}`;
    }
    const timeout = quick ? 0 : Math.min(30, Math.max(0, Math.round(this._opts.pollTimeoutS)));
    return { url: `${url}&timeout=${timeout}`, timeoutMs: timeout * 1000 + POLL_GRACE_MS };
  }

  async _pollLoop(runId) {
    const alive = () => this._polling && runId === this._runId;
    while (alive()) {
      const patterns = [...this._subs.keys()];
      if (!patterns.length) {
        await new Promise((resolve) => {
          const w = () => {
            this._subWaiters.delete(w);
            resolve();
          };
          this._subWaiters.add(w);
        });
        continue;
      }
      // Until a poll has succeeded, ask for an immediate answer (confirms reachability).
      const quick = !this._pollLive;
      const { url, timeoutMs } = this._pollRequestUrl(patterns, quick);
      const ctrl = new AbortController();
      this._pollAbort = ctrl;
      const timer = setTimeout(() => ctrl.abort(), timeoutMs);
      let body = null;
      let failure = null;
      try {
        const token = await this._resolveToken();
        const headers = { accept: 'application/json' };
        if (token) headers.authorization = `Bearer ${token}`;
        this.stats.polls++;
        const res = await this._fetch(url, { headers, signal: ctrl.signal, cache: 'no-store' });
        if (res.ok) {
          body = await res.json();
        } else {
          const text = await res.text().catch(() => '');
          let detail = {};
          try {
            detail = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          failure = {
            code: res.status,
            reason: detail.reason ?? detail.error ?? `HTTP ${res.status}`,
            retryAfterS: Number(res.headers.get('retry-after')) || null,
            transport: 'long-poll',
          };
        }
      } catch (err) {
        failure = { code: 'network', reason: String(err?.message ?? err), transport: 'long-poll' };
      } finally {
        clearTimeout(timer);
        if (this._pollAbort === ctrl) this._pollAbort = null;
      }
      if (!alive()) return;
      if (this._pollRestart) {
        this._pollRestart = false;
        if (!body) continue; // aborted to change patterns: not a failure
      }
      if (failure) {
        if (failure.code === 401 || failure.code === 403) {
          this._fatal(failure);
          return;
        }
        this._failures++;
        this._lastError = failure;
        if (this._failures >= this._opts.maxAttempts) {
          this._giveUp();
          return;
        }
        this._pollLive = false;
        const delay = failure.retryAfterS
          ? failure.retryAfterS * 1000
          : backoffDelay(this._failures, this._opts, this._random);
        this._nextRetryAt = Date.now() + delay;
        this._setState('reconnecting', {
          transport: 'long-poll',
          delayMs: delay,
          code: failure.code,
          reason: failure.reason,
        });
        await this._sleep(delay);
        this._nextRetryAt = null;
        continue;
      }
      this._failures = 0;
      this._everConnected = true;
      const first = !this._pollLive;
      this._pollLive = true;
      if (typeof body?.epoch === 'string') this._switchEpoch(body.epoch);
      // The gateway now knows these patterns' positions: a later WebSocket resumes them.
      for (const p of patterns) {
        const sub = this._subs.get(p);
        if (sub) sub.resumable = true;
      }
      if (first) this._setState('connected', { transport: 'long-poll' });
      this._applyPoll(body, patterns, first);
    }
  }

  _applyPoll(body, patterns, first) {
    if (typeof body?.recovered === 'boolean' && (first || !body.recovered)) {
      this._emit('subscribed', {
        id: null,
        topics: patterns,
        recovered: body.recovered,
        transport: 'long-poll',
      });
    }
    for (const g of body?.gaps ?? []) this._serverGap(g);
    for (const m of body?.events ?? []) {
      if (m?.type === 'gap') this._serverGap(m);
      else this._deliver(m);
    }
  }
}

export default EdgewatchClient;
