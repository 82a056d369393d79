// Socket.IO v4 compatibility (docs/socketio.md): the real socket.io-client package from npm in
// Node against the real edgewatchd — websocket-only, polling-only, polling→websocket upgrade,
// auth failures as connect_error, ordered events under their seed-003 names too, reconnection
// after a daemon restart, seed 001's client options as written, server pings, and malformed
// input on a live connection answered by a clean close. One daemon per test; every wait is for
// an observable event with a generous deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import {
  Daemon,
  Observer,
  Producer,
  TcpProxy,
  WebSocket,
  frameUpdate,
  onceEvent,
  range,
  socketIoClient,
  withTimeout,
} from './helpers.mjs';

const { io } = socketIoClient();
const CAM1 = 'pipeline/cam1/frame';

/** Closes what a test opened, in reverse order; adds the daemons' stderr to a failure. */
function resources(t) {
  const items = [];
  const daemons = [];
  t.after(async () => {
    for (const close of items.reverse()) {
      try {
        await close();
      } catch {
        // already closed
      }
    }
    for (const d of daemons) d.removeDir();
  });
  return {
    add(close) {
      items.push(close);
    },
    daemon(d) {
      daemons.push(d);
      items.push(() => d.stop());
      return d;
    },
    async run(fn) {
      try {
        await fn();
      } catch (err) {
        err.message += daemons.map((d) => `\n--- edgewatchd stderr ---\n${d.stderrTail()}`).join('');
        throw err;
      }
    },
  };
}

/** Records `event` and `pipeline_frame_update` per topic and waits for a count. */
class SioRecorder {
  constructor(socket) {
    this.events = [];
    this.aliases = [];
    this.waiters = new Set();
    socket.on('event', (e) => this.push(this.events, e));
    socket.on('pipeline_frame_update', (d) => this.push(this.aliases, d));
  }
  push(list, item) {
    list.push(item);
    for (const w of [...this.waiters]) w();
  }
  seqs(topic) {
    return this.events.filter((e) => e.topic === topic).map((e) => e.seq);
  }
  waitFor(check, what, ms = 20000) {
    if (check()) return Promise.resolve();
    let w;
    const p = new Promise((resolve) => {
      w = () => check() && resolve();
      this.waiters.add(w);
    });
    return withTimeout(p, ms, what).finally(() => this.waiters.delete(w));
  }
}

function connect(url, options) {
  const socket = io(url, { reconnection: false, ...options });
  return socket;
}

async function connected(socket, ms = 15000) {
  if (socket.connected) return;
  const [err] = await withTimeout(
    new Promise((resolve) => {
      socket.once('connect', () => resolve([null]));
      socket.once('connect_error', (e) => resolve([e]));
    }),
    ms,
    'socket.io connect',
  );
  if (err) throw new Error(`connect_error: ${err.message}`);
}

/** Publishes frames from..to on `topic` and waits until the daemon has published the last. */
async function publishFrames(producer, observer, topic, from, to) {
  const cam = topic.split('/')[1];
  for (let n = from; n <= to; n++) await producer.publish(topic, frameUpdate(cam, n));
  await observer.waitForSeq(topic, to);
}

/** Subscribes, publishes 1..n and checks order and the seed-003 alias payloads. */
async function subscribeAndReceive(r, socket, d, token, n = 20) {
  const ack = await withTimeout(
    socket.emitWithAck('subscribe', { topics: ['pipeline/+/frame'] }),
    10000,
    'subscribe ack',
  );
  assert.equal(ack.type, 'subscribed');
  assert.deepEqual(ack.topics, ['pipeline/+/frame']);
  const rec = new SioRecorder(socket);
  const producer = await Producer.connect(d.ingest);
  r.add(() => producer.close());
  const observer = await Observer.open(d, token, [CAM1]);
  r.add(() => observer.close());
  await publishFrames(producer, observer, CAM1, 1, n);
  await rec.waitFor(() => rec.seqs(CAM1).length >= n && rec.aliases.length >= n, `${n} events`);
  assert.deepEqual(rec.seqs(CAM1), range(1, n));
  const first = rec.events[0];
  assert.equal(first.topic, CAM1);
  assert.equal(typeof first.ts, 'number');
  assert.deepEqual(first.data, frameUpdate('cam1', 1));
  assert.deepEqual(
    rec.aliases.map((a) => a.frame_data.frame_id),
    range(1, n),
  );
  assert.equal(rec.aliases[0].pipeline_id, 'cam1');
  return { rec, producer, observer };
}

test('websocket-only transport: connect with auth, subscribe ack, ordered events and aliases', async (t) => {
  const r = resources(t);
  await r.run(async () => {
    const d = r.daemon(await Daemon.start());
    const token = await d.token();
    const socket = connect(d.httpUrl, { transports: ['websocket'], auth: { token } });
    r.add(() => socket.close());
    await connected(socket);
    assert.equal(socket.io.engine.transport.name, 'websocket');
    await subscribeAndReceive(r, socket, d, token);
    // Application ops and built-ins answer through the acknowledgement.
    const pong = await socket.emitWithAck('ping', {});
    assert.equal(pong.type, 'pong');
    // An application op (registered with Gateway::RegisterOp) with the token's scopes.
    const level = await socket.emitWithAck('log_level', { level: 'info' });
    assert.equal(level.type, 'error');
    assert.equal(level.code, 'forbidden');
    const unknown = await socket.emitWithAck('no_such_op', {});
    assert.equal(unknown.type, 'error');
    assert.equal(unknown.code, 'unknown_op');
    const unsub = await socket.emitWithAck('unsubscribe', { topics: ['pipeline/+/frame'] });
    assert.equal(unsub.type, 'unsubscribed');
  });
});

test('polling-only transport: handshake, batching, ordered events', async (t) => {
  const r = resources(t);
  await r.run(async () => {
    // A per-address rate far below the number of polls: only the handshake takes from it.
    const d = r.daemon(await Daemon.start({ args: ['--conn-rate', '1', '--conn-burst', '4'] }));
    const token = await d.token();
    const socket = connect(d.httpUrl, { transports: ['polling'], auth: { token } });
    r.add(() => socket.close());
    await connected(socket);
    assert.equal(socket.io.engine.transport.name, 'polling');
    await subscribeAndReceive(r, socket, d, token, 50);
    assert.equal(socket.io.engine.transport.name, 'polling');
  });
});

test('polling upgrades to websocket without losing or reordering events', async (t) => {
  const r = resources(t);
  await r.run(async () => {
    const d = r.daemon(await Daemon.start());
    const token = await d.token();
    const socket = connect(d.httpUrl, { transports: ['polling', 'websocket'], auth: { token } });
    r.add(() => socket.close());
    const upgraded = onceEvent(socket.io.engine, 'upgrade', 20000);
    await connected(socket);
    const { rec, producer, observer } = await subscribeAndReceive(r, socket, d, token, 10);
    await upgraded;
    assert.equal(socket.io.engine.transport.name, 'websocket');
    await publishFrames(producer, observer, CAM1, 11, 30);
    await rec.waitFor(() => rec.seqs(CAM1).length >= 30, '30 events');
    assert.deepEqual(rec.seqs(CAM1), range(1, 30));
  });
});

test('auth failures surface as connect_error with the token reason', async (t) => {
  const r = resources(t);
  await r.run(async () => {
    const d = r.daemon(await Daemon.start());
    for (const [transports, auth, reason] of [
      [['websocket'], { token: 'not-a-jwt' }, 'token_malformed'],
      [['polling'], {}, 'token_missing'],
      [['websocket'], { token: await d.token({ secretFile: path.join(d.dir, 'other.secret') }) },
        'token_bad_signature'],
    ]) {
      const socket = connect(d.httpUrl, { transports, auth });
      r.add(() => socket.close());
      const [err] = await onceEvent(socket, 'connect_error', 15000);
      assert.equal(err.message, reason, `${transports} ${JSON.stringify(auth).slice(0, 20)}`);
      assert.equal(socket.connected, false);
      socket.close();
    }
    // A token whose scopes do not cover the pattern: the subscribe is refused.
    const narrow = await d.token({ scope: 'read:system/#' });
    const socket = connect(d.httpUrl, { transports: ['websocket'], auth: { token: narrow } });
    r.add(() => socket.close());
    await connected(socket);
    const ack = await socket.emitWithAck('subscribe', { topics: ['pipeline/+/frame'] });
    assert.equal(ack.type, 'error');
    assert.equal(ack.code, 'forbidden');
  });
});

test("seed 001's client options work as written, and reconnect after a daemon restart", async (t) => {
  const r = resources(t);
  await r.run(async () => {
    const d1 = r.daemon(await Daemon.start());
    const token = await d1.token();
    const proxy = await TcpProxy.start(d1.port);
    r.add(() => proxy.close());
    // Seed 001, ResilientWebSocketService.connect(), as written (plus quicker retries).
    const socket = io(`http://127.0.0.1:${proxy.port}`, {
      auth: { token },
      timeout: 30000,
      transports: ['websocket', 'polling'],
      upgrade: true,
      rememberUpgrade: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    });
    r.add(() => socket.close());
    // The app re-subscribes on every connect (socket.io does not replay emits).
    socket.on('connect', () => socket.emit('subscribe', { topics: ['pipeline/+/frame'] }));
    const rec = new SioRecorder(socket);
    await connected(socket);
    const producer1 = await Producer.connect(d1.ingest);
    r.add(() => producer1.close());
    const observer1 = await Observer.open(d1, token, [CAM1]);
    r.add(() => observer1.close());
    // The subscribe is in flight: wait for its first event rather than for the ack.
    await producer1.publish(CAM1, frameUpdate('cam1', 1));
    await rec.waitFor(() => rec.events.length >= 1, 'first event');

    const disconnected = onceEvent(socket, 'disconnect', 15000);
    observer1.close();
    producer1.close();
    await d1.stop();
    const [reason] = await disconnected;
    assert.notEqual(reason, 'io server disconnect');  // the client reconnects by itself

    const reconnected = onceEvent(socket, 'connect', 30000);
    const d2 = r.daemon(await Daemon.start({ dir: d1.dir }));  // same secret: the token holds
    proxy.targetPort = d2.port;
    await reconnected;
    const producer2 = await Producer.connect(d2.ingest);
    r.add(() => producer2.close());
    const observer2 = await Observer.open(d2, token, [CAM1]);
    r.add(() => observer2.close());
    // The re-subscribe raced the observer: publish until the socket sees the new daemon's events.
    const before = rec.events.length;
    let n = 0;
    await withTimeout(
      (async () => {
        while (rec.events.length === before) {
          n++;
          await producer2.publish(CAM1, frameUpdate('cam1', n));
          await observer2.waitForSeq(CAM1, n);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })(),
      20000,
      'events after the restart',
    );
    assert.ok(rec.events.length > before);
  });
});

test('server pings keep an idle polling session alive; a client that stops ponging is closed', async (t) => {
  const r = resources(t);
  await r.run(async () => {
    // A 7 s interval: the idle client's GET is held past lws's 5 s HTTP content timeout.
    const d = r.daemon(
      await Daemon.start({ args: ['--sio-ping-interval-ms', '7000', '--sio-ping-timeout-ms', '5000'] }),
    );
    const token = await d.token();
    const socket = connect(d.httpUrl, { transports: ['polling'], auth: { token } });
    r.add(() => socket.close());
    let disconnects = 0;
    socket.on('disconnect', () => disconnects++);
    await connected(socket);
    await withTimeout(
      new Promise((resolve) => socket.io.on('ping', resolve)),
      30000,
      'a ping after an idle hold',
    );
    assert.equal(disconnects, 0);
    assert.equal(socket.connected, true);
    const pong = await socket.emitWithAck('ping', {});
    assert.equal(pong.type, 'pong');

    // A raw Engine.IO client that never answers pings is closed once the timeout passes.
    const d2 = r.daemon(
      await Daemon.start({ args: ['--sio-ping-interval-ms', '200', '--sio-ping-timeout-ms', '2000'] }),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${d2.port}/socket.io/?EIO=4&transport=websocket`);
    r.add(() => ws.terminate());
    const seen = [];
    ws.on('message', (m) => seen.push(String(m)));
    const [code] = await onceEvent(ws, 'close', 20000);
    assert.equal(code, 1001);
    assert.match(seen[0], /^0\{"sid":/);
    assert.ok(seen.includes('2'), 'was pinged');
  });
});

/** Opens a raw Engine.IO WebSocket and waits for the open packet. */
async function rawWs(d) {
  const ws = new WebSocket(`ws://127.0.0.1:${d.port}/socket.io/?EIO=4&transport=websocket`);
  const [open] = await onceEvent(ws, 'message');
  assert.match(String(open), /^0\{"sid":"[0-9a-f]+","upgrades":\[\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":\d+\}$/);
  return ws;
}

test('malformed input on a live connection is answered by a clean close', async (t) => {
  const r = resources(t);
  await r.run(async () => {
    const d = r.daemon(await Daemon.start({ args: ['--no-auth'] }));
    for (const [bad, expect] of [
      ['9', /unknown Engine.IO packet type/],
      ['4x', /unknown Socket.IO packet type/],
      ['42["a"', /invalid JSON/],
      ['42{}', /EVENT data must be an array/],
      ['451-["a",{"_placeholder":true,"num":0}]', /binary/],
      ['5', /upgrade outside a probe/],
    ]) {
      const ws = await rawWs(d);
      r.add(() => ws.terminate());
      const closed = onceEvent(ws, 'close');
      ws.send(bad);
      const [code, reason] = await closed;
      assert.equal(code, 1002, bad);
      assert.match(String(reason), expect, bad);
    }
    // Binary frames and oversized messages.
    const bin = await rawWs(d);
    r.add(() => bin.terminate());
    const binClosed = onceEvent(bin, 'close');
    bin.send(Buffer.from([4, 1, 2]));
    assert.equal((await binClosed)[0], 1003);
    const big = await rawWs(d);
    r.add(() => big.terminate());
    const bigClosed = onceEvent(big, 'close');
    big.send(`42["x","${'y'.repeat(10000)}"]`);
    assert.equal((await bigClosed)[0], 1009);

    // Polling: a malformed POST gets 400 and ends the session; an unknown sid gets 400 code 1.
    const hs = await fetch(`${d.httpUrl}/socket.io/?EIO=4&transport=polling`);
    const open = await hs.text();
    const { sid } = JSON.parse(open.slice(1));
    const post = await fetch(`${d.httpUrl}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: 'POST',
      body: '4\x1e\x1e9',
    });
    assert.equal(post.status, 400);
    const again = await fetch(`${d.httpUrl}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), { code: 1, message: 'Session ID unknown' });
    const v3 = await fetch(`${d.httpUrl}/socket.io/?EIO=3&transport=polling`);
    assert.equal(v3.status, 400);
    assert.equal((await v3.json()).code, 5);

    // The daemon is still serving.
    const socket = connect(d.httpUrl, { transports: ['websocket'] });
    r.add(() => socket.close());
    await connected(socket);
  });
});

/** The value of a Prometheus counter of the daemon's /metrics (0 when absent). */
async function metric(d, name) {
  const text = await (await fetch(`${d.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

test('admission and the slow-consumer policy apply as on /ws', async (t) => {
  const r = resources(t);
  await r.run(async () => {
    const d = r.daemon(
      await Daemon.start({ args: ['--no-auth', '--max-connections', '2', '--session-queue-kb', '64'] }),
    );
    // A client that stops reading: its socket is paused after it subscribed.
    const ws = await rawWs(d);
    r.add(() => ws.terminate());
    const acked = onceEvent(ws, 'message');
    ws.send('40');
    assert.match(String((await acked)[0]), /^40\{"sid":/);
    const subscribed = onceEvent(ws, 'message');
    ws.send('421["subscribe",{"topics":["bulk/#"]}]');
    assert.match(String((await subscribed)[0]), /^431\[\{"type":"subscribed"/);
    ws._socket.pause();

    // Admission: the paused client and the observer's /ws session fill --max-connections 2.
    const observer = await Observer.open(d, null, ['bulk/#']);
    r.add(() => observer.close());
    for (const transports of [['websocket'], ['polling']]) {
      const refused = connect(d.httpUrl, { transports });
      r.add(() => refused.close());
      await onceEvent(refused, 'connect_error', 15000);
      refused.close();
    }
    assert.ok((await metric(d, 'edgewatch_connections_rejected_total{reason="max_connections"}')) >= 2);

    // Flood a topic (not of a latest-value kind: nothing to coalesce) until the daemon gives up
    // on the paused client: the kernel's socket buffers fill first, then its 64 KiB queue. The
    // observer reads everything and waits for each batch, so its own queue stays far below.
    const producer = await Producer.connect(d.ingest);
    r.add(() => producer.close());
    const blob = 'x'.repeat(4 * 1024);
    let n = 0;
    await withTimeout(
      (async () => {
        while ((await metric(d, 'edgewatch_slow_consumer_closes_total')) < 1) {
          for (let batch = 0; batch < 8; batch++) {
            for (let i = 0; i < 4; i++) await producer.publish('bulk/a', { n: ++n, blob });
            await observer.waitForSeq('bulk/a', n);
          }
        }
      })(),
      90000,
      'a slow-consumer close',
    );
    // The close frame is sent when the socket has room for it; a client whose buffers are still
    // full may see the TCP connection end first (as on /ws).
    const closed = onceEvent(ws, 'close', 30000);
    ws._socket.resume();
    const [code] = await closed;
    assert.ok(code === 4408 || code === 1006, `close code ${code}`);
    assert.equal(await metric(d, 'edgewatch_slow_consumer_closes_total'), 1);  // the observer kept up
  });
});

test('an expired token without refresh ends in a server disconnect; a refresh keeps the socket', async (t) => {
  const r = resources(t);
  await r.run(async () => {
    const d = r.daemon(await Daemon.start({ args: ['--leeway-s', '0', '--expiry-grace-s', '1'] }));
    const short = await d.token({ ttl: '4s' });
    const socket = connect(d.httpUrl, { transports: ['websocket'], auth: { token: short } });
    r.add(() => socket.close());
    const expired = onceEvent(socket, 'error', 30000);
    const disconnected = onceEvent(socket, 'disconnect', 30000);
    await connected(socket);
    const [notice] = await expired;
    assert.equal(notice.code, 'token_expired');
    const [reason] = await disconnected;
    assert.equal(reason, 'io server disconnect');  // socket.io-client does not reconnect by itself

    // Refreshing within the grace keeps the socket connected.
    const short2 = await d.token({ ttl: '4s' });
    const kept = connect(d.httpUrl, { transports: ['polling'], auth: { token: short2 } });
    r.add(() => kept.close());
    const expired2 = onceEvent(kept, 'error', 30000);
    await connected(kept);
    await expired2;
    const refreshed = await kept.emitWithAck('auth', { token: await d.token() });
    assert.equal(refreshed.type, 'authenticated');
    const pong = await kept.emitWithAck('ping', {});
    assert.equal(pong.type, 'pong');
    assert.equal(kept.connected, true);
  });
});
