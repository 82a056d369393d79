// The JavaScript client's policies against scripted fake gateways (a `ws` server and a plain
// HTTP server): close-code table, resume op contents, dedupe and gap notices, watchdog,
// maxAttempts/onGiveUp, long-poll request format, token refresh, typed helpers, op splitting.
// Complements client_daemon.test.mjs, which runs the same client against the real edgewatchd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';

import {
  EdgewatchClient,
  backoffDelay,
  topicMatches,
  validatePattern,
} from '../../web/edgewatch-client.js';
import { Recorder, WebSocketServer, WebSocket, nextEvent, withTimeout } from './helpers.mjs';

/**
 * A scripted gateway: `script(conn, index)` runs for each connection. `conn.op(pred)` resolves
 * with the next client op matching `pred`; ops are also kept in `conn.ops`.
 */
class FakeGateway {
  static async start(script) {
    const g = new FakeGateway();
    g.conns = [];
    g._waiters = new Set();
    g.wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => g.wss.once('listening', resolve));
    g.url = `ws://127.0.0.1:${g.wss.address().port}/ws`;
    g.wss.on('connection', (ws) => {
      const conn = {
        ws,
        ops: [],
        waiters: new Set(),
        send: (obj) => ws.readyState === 1 && ws.send(JSON.stringify(obj)),
        welcome: (extra = {}) =>
          conn.send({ type: 'welcome', version: 1, server: 'fake', session: 's', epoch: 'A', heartbeat_s: 30, ...extra }),
        op(pred = () => true, ms = 5000) {
          const found = conn.ops.find((o) => !o._taken && pred(o));
          if (found) {
            found._taken = true;
            return Promise.resolve(found);
          }
          let w;
          const p = new Promise((resolve) => {
            w = (o) => {
              if (!o._taken && pred(o)) {
                o._taken = true;
                resolve(o);
              }
            };
            conn.waiters.add(w);
          });
          return withTimeout(p, ms, 'client op').finally(() => conn.waiters.delete(w));
        },
      };
      ws.on('message', (raw) => {
        const o = JSON.parse(String(raw));
        conn.ops.push(o);
        for (const w of [...conn.waiters]) w(o);
      });
      ws.on('error', () => {});
      g.conns.push(conn);
      for (const w of [...g._waiters]) w();
      Promise.resolve(script(conn, g.conns.length - 1)).catch((err) => {
        g.scriptError = err;
      });
    });
    return g;
  }
  /** Resolves when `n` connections have been accepted. */
  connections(n, ms = 5000) {
    if (this.conns.length >= n) return Promise.resolve();
    let w;
    const p = new Promise((resolve) => {
      w = () => this.conns.length >= n && resolve();
      this._waiters.add(w);
    });
    return withTimeout(p, ms, `${n} connections`).finally(() => this._waiters.delete(w));
  }
  close() {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((resolve) => this.wss.close(resolve));
  }
}

/** The usual handshake: welcome, auth → authenticated, subscribe → subscribed. */
async function handshake(conn, { epoch = 'A', heartbeat_s = 30, recovered } = {}) {
  conn.welcome({ epoch, heartbeat_s });
  const auth = await conn.op((o) => o.op === 'auth');
  conn.send({ type: 'authenticated', id: null, sub: 't', scope: 'read:#', exp: null });
  const sub = await conn.op((o) => o.op === 'subscribe');
  const reply = { type: 'subscribed', id: sub.id, topics: sub.topics };
  if (recovered !== undefined) reply.recovered = recovered;
  conn.send(reply);
  return { auth, sub };
}

const ev = (topic, seq, data = { n: seq }) => ({ type: 'event', topic, seq, ts: 1700000000000 + seq, data });

function fastClient(url, extra = {}) {
  return new EdgewatchClient({
    url,
    token: 'tok',
    WebSocket,
    initialDelayMs: 5,
    maxDelayMs: 10,
    longPollAfter: Infinity,
    ...extra,
  });
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

test('topicMatches: + is one segment, trailing # any remainder including none', () => {
  const cases = [
    ['pipeline/+/frame', 'pipeline/cam1/frame', true],
    ['pipeline/+/frame', 'pipeline/cam1/status', false],
    ['pipeline/+/frame', 'pipeline/frame', false],
    ['pipeline/#', 'pipeline', true],
    ['pipeline/#', 'pipeline/cam1/frame', true],
    ['#', 'system/resources', true],
    ['+', 'a', true],
    ['+', 'a/b', false],
    ['a//b', 'a//b', true],
    ['a/+/b', 'a//b', true],
    ['system/resources', 'system/resources', true],
    ['system/resources', 'system/resources/x', false],
  ];
  for (const [p, t, want] of cases) assert.equal(topicMatches(p, t), want, `${p} vs ${t}`);
  assert.throws(() => validatePattern('a/#/b'), TypeError);
  assert.throws(() => validatePattern('a/b+'), TypeError);
  assert.throws(() => validatePattern(''), TypeError);
  validatePattern('pipeline/+/frame');
  validatePattern('#');
});

test('backoffDelay: exponential cap from initialDelayMs to maxDelayMs with full jitter', () => {
  const caps = [0, 1, 2, 3, 4, 5, 6, 10].map((f) => backoffDelay(f, {}, () => 0.999999999));
  assert.deepEqual(caps, [999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]);
  assert.equal(backoffDelay(3, {}, () => 0), 0);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(2, { initialDelayMs: 100, maxDelayMs: 1000 });
    assert.ok(d >= 0 && d < 400, String(d));
  }
});

for (const code of [4401, 4403]) {
  test(`close ${code}: stop and report, no reconnect`, async () => {
    const g = await FakeGateway.start(async (conn) => {
      await handshake(conn);
      conn.ws.close(code, 'token_expired');
    });
    const client = fastClient(g.url);
    const fatal = nextEvent(client, 'error', (e) => e.fatal);
    const stopped = nextEvent(client, 'state', (s) => s.state === 'error');
    client.subscribe('a/#', () => {});
    client.connect();
    const e = await fatal;
    assert.equal(e.code, code);
    assert.equal(e.reason, 'token_expired');
    assert.equal((await stopped).code, code);
    // Absence check: a retry would come within 10 ms.
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(g.conns.length, 1);
    client.close();
    await g.close();
  });
}

for (const code of [4408, 4429, 1013, 1001, 1011, 1006]) {
  test(`close ${code}: reconnect with back-off`, async () => {
    const g = await FakeGateway.start(async (conn, i) => {
      await handshake(conn);
      if (i > 0) return;
      if (code === 1006) conn.ws.terminate();
      else conn.ws.close(code, 'bye');
    });
    const client = fastClient(g.url);
    const retry = nextEvent(client, 'state', (s) => s.state === 'reconnecting');
    const back = nextEvent(client, 'state', (s) => s.state === 'connected' && s.previous === 'reconnecting');
    client.subscribe('a/#', () => {});
    client.connect();
    const s = await retry;
    assert.equal(s.code, code);
    await back;
    assert.equal(g.conns.length, 2);
    client.close();
    await g.close();
  });
}

test('resume: since per concrete topic and the epoch; duplicates dropped; epoch change resets', async () => {
  const gates = [deferred(), deferred()]; // released by the test: close connection 1, then 2
  const subOps = [];
  const g = await FakeGateway.start(async (conn, i) => {
    if (i === 0) {
      await handshake(conn);
      for (const m of [ev('t/x', 1), ev('t/y', 1), ev('t/x', 2), ev('t/x', 3), ev('t/y', 2)]) conn.send(m);
      await gates[0].promise;
      conn.ws.close(1001, 'going away');
    } else if (i === 1) {
      subOps.push((await handshake(conn, { recovered: true })).sub);
      // A replay overlapping what the client has (x:3) must not reach the application twice.
      for (const m of [ev('t/x', 3), ev('t/x', 4), ev('t/z', 1)]) conn.send(m);
      await gates[1].promise;
      conn.ws.close(4408, 'slow consumer');
    } else {
      subOps.push((await handshake(conn, { epoch: 'B', recovered: false })).sub);
      conn.send({ type: 'gap', topic: 't/x', from: 5, to: null, reason: 'epoch_changed' });
      conn.send(ev('t/x', 1, { fresh: true }));
    }
  });
  const client = fastClient(g.url);
  const rec = new Recorder();
  rec.attach(client, ['gap', 'epoch', 'subscribed']);
  client.subscribe('t/#', (e) => rec.push({ kind: 'event', topic: e.topic, seq: e.seq, epoch: e.epoch }));
  const count = (n) => (l) => l.filter((e) => e.kind === 'event').length >= n;
  client.connect();
  await rec.waitFor(count(5), 5000, '5 events');
  gates[0].resolve();
  await rec.waitFor(count(7), 5000, '7 events');
  assert.deepEqual(subOps[0].topics, ['t/#']);
  assert.equal(subOps[0].epoch, 'A');
  assert.deepEqual(subOps[0].since, { 't/x': 3, 't/y': 2 });
  gates[1].resolve();
  await rec.waitFor(count(8), 5000, '8 events');
  assert.equal(subOps[1].epoch, 'A', 'resume from the old epoch');
  assert.deepEqual(subOps[1].since, { 't/x': 4, 't/y': 2, 't/z': 1 });
  const events = rec.log.filter((e) => e.kind === 'event').map((e) => `${e.epoch}:${e.topic}:${e.seq}`);
  assert.deepEqual(events, ['A:t/x:1', 'A:t/y:1', 'A:t/x:2', 'A:t/x:3', 'A:t/y:2', 'A:t/x:4', 'A:t/z:1', 'B:t/x:1']);
  assert.equal(client.stats.duplicates, 1);
  const notices = rec.log.filter((e) => e.kind !== 'event').map((e) => e.kind);
  assert.deepEqual(notices, ['subscribed', 'subscribed', 'epoch', 'subscribed', 'gap']);
  assert.deepEqual(rec.log.find((e) => e.kind === 'epoch'), { kind: 'epoch', previous: 'A', epoch: 'B' });
  assert.deepEqual(client.position(), { epoch: 'B', since: { 't/x': 1 } });
  client.close();
  await g.close();
});

test('dedupe and gaps: stale seqs dropped, a jump reported once, server gap notices trimmed', async () => {
  const g = await FakeGateway.start(async (conn) => {
    await handshake(conn);
    for (const s of [1, 2, 2, 1, 3, 6]) conn.send(ev('t', s));
    conn.send({ type: 'gap', topic: 't', from: 5, to: 8, reason: 'ring_overflow' }); // 5-6 held
    conn.send(ev('t', 9));
    conn.send({ type: 'gap', topic: 't', from: 2, to: 9, reason: 'ring_overflow' }); // all held
  });
  const client = fastClient(g.url);
  const rec = new Recorder();
  rec.attach(client, ['gap']);
  const gapsFromHandler = [];
  client.subscribe('t', (e) => rec.push({ kind: 'event', seq: e.seq }), { onGap: (gp) => gapsFromHandler.push(gp) });
  client.connect();
  await rec.waitFor((l) => l.some((e) => e.kind === 'event' && e.seq === 9), 5000, 'seq 9');
  assert.deepEqual(rec.events().map((e) => e.seq), [1, 2, 3, 6, 9]);
  assert.equal(client.stats.duplicates, 2);
  const gaps = rec.log.filter((e) => e.kind === 'gap').map(({ from, to, reason, source }) => ({ from, to, reason, source }));
  assert.deepEqual(gaps, [
    { from: 4, to: 5, reason: 'seq_jump', source: 'client' },
    { from: 7, to: 8, reason: 'ring_overflow', source: 'server' },
  ]);
  assert.equal(gapsFromHandler.length, 2);
  client.close();
  await g.close();
});

test('heartbeat watchdog: no frame for 2 x heartbeat_s means dead; reconnect', async () => {
  const g = await FakeGateway.start(async (conn, i) => {
    await handshake(conn, { heartbeat_s: i === 0 ? 0.05 : 30 });
    // First connection: silent from now on (no heartbeats).
  });
  const client = fastClient(g.url);
  const dead = nextEvent(client, 'state', (s) => s.state === 'reconnecting');
  client.subscribe('a', () => {});
  client.connect();
  const s = await dead;
  assert.equal(s.reason, 'heartbeat_timeout');
  await g.connections(2);
  client.close();
  await g.close();
});

test('maxAttempts: gives up after N failed attempts, calls onGiveUp, connect() starts over', async () => {
  const port = await freePort(); // nothing listens: connection refused
  const gaveUp = [];
  const client = fastClient(`ws://127.0.0.1:${port}/ws`, { maxAttempts: 3, onGiveUp: (i) => gaveUp.push(i) });
  const states = [];
  client.on('state', (s) => states.push(`${s.state}:${s.attempt}`));
  const offline = nextEvent(client, 'giveup');
  client.connect();
  const info = await offline;
  assert.equal(info.attempts, 3);
  assert.equal(gaveUp.length, 1);
  assert.equal(client.state, 'offline');
  assert.deepEqual(states, ['connecting:0', 'reconnecting:1', 'reconnecting:2', 'offline:3']);
  const again = nextEvent(client, 'giveup');
  client.connect();
  await again;
  assert.equal(gaveUp.length, 2);
  client.close();
});

test('long-poll: request format, resume by since and epoch, gaps, 401 stops', async () => {
  const requests = [];
  const responses = [
    { epoch: 'E', events: [ev('pipeline/cam1/frame', 5)], gaps: [], more: false, next: { 'pipeline/cam1/frame': 5 } },
    {
      epoch: 'E',
      recovered: false,
      events: [ev('pipeline/cam1/frame', 9)],
      gaps: [{ type: 'gap', topic: 'pipeline/cam1/frame', from: 6, to: 8, reason: 'ring_overflow' }],
      more: false,
      next: { 'pipeline/cam1/frame': 9 },
    },
    { epoch: 'E', recovered: true, events: [ev('pipeline/cam1/frame', 10)], gaps: [], more: false, next: {} },
  ];
  const srv = http.createServer((req, res) => {
    requests.push({ url: req.url, auth: req.headers.authorization });
    const body = responses.shift();
    if (!body) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"unauthorized","reason":"token_expired"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const base = `ws://127.0.0.1:${srv.address().port}/ws`;
  const client = fastClient(base, { WebSocket: null, pollTimeoutS: 7 });
  const rec = new Recorder();
  rec.attach(client, ['gap', 'state']);
  client.onFrame((update, e) => rec.push({ kind: 'event', seq: e.seq, update }));
  client.subscribe('system/#', () => {});
  const fatal = nextEvent(client, 'state', (s) => s.state === 'error');
  client.connect();
  const s = await fatal;
  assert.equal(s.code, 401);
  assert.equal(s.reason, 'token_expired');
  srv.close();

  assert.deepEqual(rec.events().map((e) => e.seq), [5, 9, 10]);
  const gap = rec.log.find((e) => e.kind === 'gap');
  assert.deepEqual([gap.from, gap.to, gap.reason], [6, 8, 'ring_overflow']);
  assert.deepEqual(
    rec.log.filter((e) => e.kind === 'state').map((e) => `${e.state}/${e.transport}`),
    ['connecting/null', 'connected/long-poll', 'error/null'],
  );
  // '+', '/', '#' are percent-encoded ('+' would otherwise read as a space); the first poll asks
  // for an immediate answer, later ones wait up to pollTimeoutS.
  assert.equal(requests[0].url, '/api/v1/poll?topics=pipeline%2F%2B%2Fframe,system%2F%23&timeout=0');
  assert.equal(
    requests[1].url,
    '/api/v1/poll?topics=pipeline%2F%2B%2Fframe,system%2F%23&epoch=E&since=pipeline%2Fcam1%2Fframe:5&timeout=7',
  );
  assert.match(requests[2].url, /since=pipeline%2Fcam1%2Fframe:9&timeout=7$/);
  assert.ok(requests.every((r) => r.auth === 'Bearer tok'));
  client.close();
});

test('token provider: called per connection and again on token_expired (refresh in place)', async () => {
  let n = 0;
  const g = await FakeGateway.start(async (conn) => {
    await handshake(conn);
    conn.send({ type: 'error', id: null, code: 'token_expired', message: 'refresh' });
    const refresh = await conn.op((o) => o.op === 'auth');
    conn.send({ type: 'authenticated', id: refresh.id, sub: 't', scope: 'read:#', exp: null });
  });
  const client = fastClient(g.url, { token: async () => `tok-${++n}` });
  const expired = nextEvent(client, 'tokenexpired');
  const refreshed = nextEvent(client, 'authenticated', (m) => m.id !== null);
  client.subscribe('a', () => {});
  client.connect();
  await expired;
  await refreshed;
  assert.deepEqual(g.conns[0].ops.filter((o) => o.op === 'auth').map((o) => o.token), ['tok-1', 'tok-2']);
  client.close();
  await g.close();
});

test('typed helpers, local snapshot for late subscribers, unsubscribe, op splitting', async () => {
  const g = await FakeGateway.start(async (conn) => {
    conn.welcome();
    await conn.op((o) => o.op === 'auth');
    conn.send({ type: 'authenticated', id: null, sub: 't', scope: 'read:#', exp: null });
    // Answer every subscribe.
    for (;;) {
      const sub = await conn.op((o) => o.op === 'subscribe', 60000);
      conn.send({ type: 'subscribed', id: sub.id, topics: sub.topics });
      if (sub.topics.includes('pipeline/+/status')) {
        conn.send(ev('pipeline/cam1/status', 1, { pipeline_id: 'cam1', status: 'running' }));
        conn.send(ev('pipeline/cam2/frame', 1, { pipeline_id: 'cam2', frame_data: { fps: 15 } }));
        conn.send(ev('pipeline/cam1/frame', 1, { pipeline_id: 'cam1', frame_data: { fps: 30 } }));
        conn.send(ev('pipeline/cam1/analytics', 1, { pipeline_id: 'cam1', analytics: { people_count: 3 } }));
        conn.send(ev('pipeline/cam1/error', 1, { pipeline_id: 'cam1', error_message: 'x', severity: 'high' }));
      }
    }
  });
  const client = fastClient(g.url, { maxMessageBytes: 120 });
  const got = [];
  const done = new Recorder();
  const onFrame = client.onFrame('cam1', (u, e) => {
    got.push(`frame:${u.frame_data.fps}:${e.topic}`);
    done.push({});
  });
  client.onPipelineStatus((u) => {
    got.push(`status:${u.status}`);
    done.push({});
  });
  client.onAnalytics('cam1', (u) => {
    got.push(`analytics:${u.analytics.people_count}`);
    done.push({});
  });
  client.onPipelineError('cam1', (u) => {
    got.push(`error:${u.severity}`);
    done.push({});
  });
  for (let i = 0; i < 6; i++) client.subscribe(`padding/long-pattern-name-${i}/#`, () => {});
  assert.throws(() => client.onFrame('a/b', () => {}), TypeError);
  client.connect();
  await done.waitFor((l) => l.length >= 4, 5000, 'typed events');
  assert.deepEqual(got.sort(), ['analytics:3', 'error:high', 'frame:30:pipeline/cam1/frame', 'status:running']);
  // Ops were split to respect maxMessageBytes (the gateway refuses larger messages).
  const subs = g.conns[0].ops.filter((o) => o.op === 'subscribe');
  assert.ok(subs.length > 1);
  assert.ok(subs.every((o) => Buffer.byteLength(JSON.stringify(o)) <= 120));
  assert.deepEqual(subs.flatMap((o) => o.topics).sort(), [
    ...Array.from({ length: 6 }, (_, i) => `padding/long-pattern-name-${i}/#`),
    'pipeline/+/status',
    'pipeline/cam1/analytics',
    'pipeline/cam1/error',
    'pipeline/cam1/frame',
  ].sort());
  // A late subscriber to a held topic gets its latest event at once, from the client.
  const late = await new Promise((resolve) => client.subscribe('pipeline/+/frame', (e) => resolve(e)));
  assert.equal(late.topic, 'pipeline/cam2/frame');
  onFrame();
  const unsub = await g.conns[0].op((o) => o.op === 'unsubscribe');
  assert.deepEqual(unsub.topics, ['pipeline/cam1/frame']);
  client.close();
  await g.close();
});

test('send: application ops on the live WebSocket with an id; null when not connected', async () => {
  const g = await FakeGateway.start(async (conn) => {
    await handshake(conn);
    const ack = await conn.op((o) => o.op === 'ack');
    conn.send({ type: 'acked', id: ack.id, alert: ack.alert });
    const read = await conn.op((o) => o.op === 'mark_read');
    conn.send({ type: 'error', id: read.id, code: 'forbidden', message: 'no write scope' });
  });
  const client = fastClient(g.url);
  assert.equal(client.send({ op: 'ack', alert: 'x' }), null); // not connected yet
  assert.throws(() => client.send({ alert: 'x' }), TypeError);
  client.subscribe('alerts', () => {});
  const connected = nextEvent(client, 'state', (s) => s.state === 'connected');
  client.connect();
  await connected;
  const acked = nextEvent(client, 'message', (m) => m.type === 'acked');
  const id = client.send({ op: 'ack', alert: '9f2c' });
  assert.equal(typeof id, 'number');
  assert.deepEqual(await acked, { type: 'acked', id, alert: '9f2c' });
  const refused = nextEvent(client, 'error', (e) => e.code === 'forbidden');
  assert.equal(client.send({ op: 'mark_read', id: 77, ids: ['n1'] }), 77); // a given id is kept
  const err = await refused;
  assert.equal(err.id, 77);
  assert.equal(err.fatal, false);
  client.close();
  assert.equal(client.send({ op: 'ack', alert: 'x' }), null);
  await g.close();
});
