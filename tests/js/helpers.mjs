// Test support for the JavaScript client's tests: the real edgewatchd per test, tokens from the
// edgewatch CLI, an ingest producer, an observer that waits for seqs, and a TCP proxy that can
// cut, refuse, freeze and re-target connections. Every wait is event-driven with a bounded
// timeout; nothing sleeps to synchronise.
//
// Environment (set by tests/js/CMakeLists.txt): EDGEWATCHD, EDGEWATCH_CLI (built binaries),
// EDGEWATCH_SOURCE_DIR (boards/), EDGEWATCH_KEEP_TEST_DIRS=1 keeps the temporary directories.
import { spawn, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
export const sourceDir = process.env.EDGEWATCH_SOURCE_DIR ?? path.resolve(here, '../..');
const buildDir = process.env.EDGEWATCH_BINARY_DIR ?? path.join(sourceDir, 'build/asan');
export const daemonPath = process.env.EDGEWATCHD ?? path.join(buildDir, 'app/edgewatchd');
export const cliPath = process.env.EDGEWATCH_CLI ?? path.join(buildDir, 'app/cli/edgewatch');

// `ws` is a test-only dependency pinned in web/package-lock.json (installed by `npm ci --prefix
// web`, which `make test` runs through scripts/js-deps.sh).
const requireFromWeb = createRequire(path.join(sourceDir, 'web/package.json'));
let wsModule;
try {
  wsModule = requireFromWeb('ws');
} catch (err) {
  throw new Error(`the 'ws' package is missing: run 'npm ci --prefix web' (${err.message})`);
}
export const WebSocket = wsModule.WebSocket;
export const WebSocketServer = wsModule.WebSocketServer;

const execFileP = promisify(execFile);

/** Rejects after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    // A pending bound alone does not keep the process alive.
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Resolves with the first `type` event of `client` for which `pred` holds (bounded).
 * Events emitted before the call are not seen: call it before causing the event.
 */
export function nextEvent(client, type, pred = () => true, ms = 10000) {
  let off;
  const p = new Promise((resolve) => {
    off = client.on(type, (detail) => {
      if (pred(detail)) resolve(detail);
    });
  });
  return withTimeout(p, ms, `client event '${type}'`).finally(() => off());
}

/** Records what a client emits, and waits for conditions on the record. */
export class Recorder {
  constructor() {
    this.log = [];
    this._waiters = new Set();
  }
  push(entry) {
    this.log.push(entry);
    for (const w of [...this._waiters]) w();
  }
  /** Records client events of the given types as {kind: type, ...detail}. */
  attach(client, types) {
    for (const t of types) client.on(t, (d) => this.push({ kind: t, ...d }));
  }
  /** Resolves once `check(log)` is truthy (re-checked on every push), bounded by `ms`. */
  waitFor(check, ms, what) {
    if (check(this.log)) return Promise.resolve();
    let w;
    const p = new Promise((resolve) => {
      w = () => {
        if (check(this.log)) resolve();
      };
      this._waiters.add(w);
    });
    return withTimeout(p, ms, what).finally(() => this._waiters.delete(w));
  }
  events(topic) {
    return this.log.filter((e) => e.kind === 'event' && (!topic || e.topic === topic));
  }
}

function mkTempDir() {
  const base = process.env.TMPDIR && process.env.TMPDIR.length < 60 ? process.env.TMPDIR : '/tmp';
  return fs.mkdtempSync(path.join(base, 'ew-js-')); // short: Unix socket paths are limited
}

/**
 * A running edgewatchd. Start with Daemon.start(); `stop()` sends SIGTERM and waits.
 */
export class Daemon {
  /**
   * @param {object} [o]
   * @param {string[]} [o.args] extra flags
   * @param {string} [o.dir] reuse a directory (state, ingest socket) of an earlier daemon
   */
  static async start({ args = [], dir } = {}) {
    if (!fs.existsSync(daemonPath)) throw new Error(`edgewatchd not built: ${daemonPath}`);
    const d = new Daemon();
    d.dir = dir ?? mkTempDir();
    d.stateDir = path.join(d.dir, 'state');
    fs.mkdirSync(d.stateDir, { recursive: true });
    d.ingest = path.join(d.dir, 'ingest.sock');
    const n = fs.readdirSync(d.dir).filter((f) => f.startsWith('stderr')).length;
    d.stderrPath = path.join(d.dir, `stderr.${n}.log`);
    const argv = [
      '--listen', '127.0.0.1:0',
      '--ready-fd', '3',
      '--board', path.join(sourceDir, 'boards/generic-x86_64.json'),
      '--ingest', d.ingest,
      '--state-dir', d.stateDir,
      '--refresh-s', '0',
      '--resources-ms', '60000',
      // Long-poll makes one request per response; keep the per-address limit out of the way.
      '--conn-rate', '1000',
      '--conn-burst', '1000',
      ...args,
    ];
    const err = fs.openSync(d.stderrPath, 'w');
    d.proc = spawn(daemonPath, argv, { stdio: ['ignore', 'ignore', err, 'pipe'] });
    fs.closeSync(err);
    d.exited = new Promise((resolve) => d.proc.once('exit', (code, signal) => resolve({ code, signal })));
    let text = '';
    const ready = new Promise((resolve, reject) => {
      d.proc.stdio[3].on('data', (chunk) => {
        text += chunk;
        const nl = text.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(text.slice(0, nl)));
      });
      d.proc.stdio[3].on('end', () => reject(new Error(`edgewatchd exited before ready:\n${d.stderrTail()}`)));
      d.proc.once('error', reject);
    });
    const info = await withTimeout(ready, 20000, 'edgewatchd ready line');
    d.proc.stdio[3].destroy();
    d.port = info.port;
    d.epoch = info.epoch;
    d.wsUrl = `ws://127.0.0.1:${d.port}/ws`;
    d.httpUrl = `http://127.0.0.1:${d.port}`;
    return d;
  }

  stderrTail(n = 4000) {
    try {
      const s = fs.readFileSync(this.stderrPath, 'utf8');
      return s.length > n ? `...${s.slice(-n)}` : s;
    } catch {
      return '';
    }
  }

  /** SIGTERM (clients get 1001) and wait for the exit; SIGKILL after `ms`. */
  async stop(ms = 5000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill('SIGTERM');
    try {
      return await withTimeout(this.exited, ms, 'edgewatchd exit');
    } catch (err) {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw err;
    }
  }

  removeDir() {
    if (process.env.EDGEWATCH_KEEP_TEST_DIRS === '1') return;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** A token signed with this daemon's secret (the edgewatch CLI). */
  async token({ sub = 'js-test', scope = 'read:#', ttl = '1h', secretFile } = {}) {
    const { stdout } = await execFileP(cliPath, [
      'token',
      '--secret-file', secretFile ?? path.join(this.stateDir, 'jwt.secret'),
      '--sub', sub,
      '--scope', scope,
      '--ttl', ttl,
    ]);
    return stdout.trim();
  }
}

/** A producer on the ingest socket: newline-delimited JSON; rejected lines fail the test. */
export class Producer {
  static async connect(ingestPath) {
    const p = new Producer();
    p.rejections = [];
    p.sock = net.createConnection(ingestPath);
    p.sock.setEncoding('utf8');
    let buf = '';
    p.sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        p.rejections.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    await withTimeout(new Promise((resolve, reject) => {
      p.sock.once('connect', resolve);
      p.sock.once('error', reject);
    }), 5000, 'ingest connection');
    return p;
  }
  /** Queues one event; resolves when the kernel has taken the line. */
  publish(topic, data) {
    const line = `${JSON.stringify({ topic, data })}\n`;
    return new Promise((resolve, reject) => this.sock.write(line, (err) => (err ? reject(err) : resolve())));
  }
  close() {
    this.sock.end();
  }
}

/** Seed 003 PipelineFrameUpdate for frame `n` of `pipeline`. */
export function frameUpdate(pipeline, n) {
  return {
    pipeline_id: pipeline,
    frame_data: {
      frame_id: n,
      timestamp: 1700000000 + n / 30,
      detections_count: n % 7,
      processing_time: 0.012,
      fps: 30,
      node_results: { detector: { boxes: n % 7 } },
    },
  };
}

/**
 * A plain WebSocket client that waits until it has seen `seq` on `topic` — used to know the
 * daemon has taken what the producer wrote, without sleeping.
 */
export class Observer {
  static async open(daemon, token, patterns) {
    const o = new Observer();
    o.latest = new Map();
    o._waiters = new Set();
    o.ws = new WebSocket(daemon.wsUrl);
    await withTimeout(new Promise((resolve, reject) => {
      o.ws.on('error', reject);
      o.ws.on('open', () => {
        if (token) o.ws.send(JSON.stringify({ op: 'auth', token }));
        o.ws.send(JSON.stringify({ op: 'subscribe', id: 1, topics: patterns }));
      });
      o.ws.on('message', (raw) => {
        const m = JSON.parse(String(raw));
        if (m.type === 'subscribed') resolve();
        if (m.type === 'event') {
          o.latest.set(m.topic, m.seq);
          for (const w of [...o._waiters]) w();
        }
      });
    }), 10000, 'observer subscribed');
    return o;
  }
  waitForSeq(topic, seq, ms = 15000) {
    const ok = () => (this.latest.get(topic) ?? 0) >= seq;
    if (ok()) return Promise.resolve();
    let w;
    const p = new Promise((resolve) => {
      w = () => ok() && resolve();
      this._waiters.add(w);
    });
    return withTimeout(p, ms, `observer: ${topic} seq ${seq}`).finally(() => this._waiters.delete(w));
  }
  close() {
    this.ws.terminate();
  }
}

/**
 * A TCP proxy in front of the daemon. `refuse`: new connections are closed at once (the gateway
 * looks unreachable); `blockUpgrades`: WebSocket upgrade requests get HTTP 503 while plain HTTP
 * (long-poll) passes (a proxy that breaks WebSockets); `cut()` destroys every open connection;
 * `freeze()` stops forwarding on the open connections without closing them (a dead link).
 */
export class TcpProxy {
  static async start(targetPort) {
    const p = new TcpProxy();
    p.targetPort = targetPort;
    p.refuse = false;
    p.blockUpgrades = false;
    p.accepted = 0;
    p.upgradesBlocked = 0;
    p.pairs = new Set();
    p.server = net.createServer((client) => p._onConnection(client));
    await new Promise((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.port = p.server.address().port;
    p.wsUrl = `ws://127.0.0.1:${p.port}/ws`;
    p.pollUrl = `http://127.0.0.1:${p.port}/api/v1/poll`;
    return p;
  }

  _onConnection(client) {
    this.accepted++;
    if (this.refuse) {
      client.destroy();
      return;
    }
    const pair = { client, upstream: null, frozen: false };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', drop);
    client.on('close', drop);
    client.once('data', (first) => {
      const head = first.toString('latin1');
      if (this.blockUpgrades && /^upgrade:\s*websocket/im.test(head)) {
        this.upgradesBlocked++;
        client.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        return;
      }
      const up = net.createConnection(this.targetPort, '127.0.0.1');
      pair.upstream = up;
      up.on('error', drop);
      up.on('close', drop);
      up.write(first);
      client.on('data', (d) => pair.frozen || up.write(d));
      up.on('data', (d) => pair.frozen || client.write(d));
    });
  }

  cut() {
    for (const { client, upstream } of [...this.pairs]) {
      client.destroy();
      upstream?.destroy();
    }
    this.pairs.clear();
  }

  freeze() {
    for (const pair of this.pairs) pair.frozen = true;
  }

  close() {
    this.cut();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

/** Asserts that per topic the recorded seqs are exactly from..to, each once, in order. */
export function seqsOf(recorder, topic) {
  return recorder.events(topic).map((e) => e.seq);
}

export function range(from, to) {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export const tmpdir = os.tmpdir;

/**
 * The real `socket.io-client` package (pinned in web/package-lock.json), for the Socket.IO
 * compatibility tests (tests/js/socketio.test.mjs).
 */
export function socketIoClient() {
  try {
    return requireFromWeb('socket.io-client');
  } catch (err) {
    throw new Error(`the 'socket.io-client' package is missing: run 'npm ci --prefix web' (${err.message})`);
  }
}

/** Resolves with the arguments of the next `name` event of an emitter (bounded). */
export function onceEvent(emitter, name, ms = 10000) {
  let handler;
  const p = new Promise((resolve) => {
    handler = (...args) => resolve(args);
    emitter.once(name, handler);
  });
  return withTimeout(p, ms, `'${name}'`).finally(() => emitter.off(name, handler));
}
