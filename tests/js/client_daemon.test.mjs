// The JavaScript client (web/edgewatch-client.js) against the real edgewatchd: resume after a
// cut TCP connection, a daemon restart, the long-poll fallback and back, close-code policy and
// the heartbeat watchdog. One daemon per test, in a temporary directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { EdgewatchClient } from '../../web/edgewatch-client.js';
import {
  Daemon,
  Observer,
  Producer,
  Recorder,
  TcpProxy,
  WebSocket,
  daemonPath,
  frameUpdate,
  nextEvent,
  range,
  seqsOf,
} from './helpers.mjs';

const CAM1 = 'pipeline/cam1/frame';
const CAM2 = 'pipeline/cam2/frame';

/** Event i (1-based) of an interleaved two-camera stream: odd → cam1, even → cam2. */
function publishInterleaved(producer, i) {
  const cam = i % 2 ? 'cam1' : 'cam2';
  return producer.publish(`pipeline/${cam}/frame`, frameUpdate(cam, Math.ceil(i / 2)));
}

/**
 * Everything a test opened, closed in reverse order at the end. `run` appends the daemons'
 * stderr to the error of a failing test.
 */
function resources(t) {
  const items = [];
  const daemons = [];
  t.after(async () => {
    for (const close of items.reverse()) {
      try {
        await close();
      } catch {
        /* best effort */
      }
    }
    for (const d of daemons) {
      try {
        await d.stop();
      } catch {
        /* killed */
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
      return d;
    },
    daemons,
  };
}

/** test() whose failures carry the tail of each daemon's stderr. */
function daemonTest(name, fn) {
  test(name, async (t) => {
    if (!fs.existsSync(daemonPath)) {
      t.skip(`edgewatchd not built (${daemonPath})`);
      return;
    }
    const r = resources(t);
    try {
      await fn(t, r);
    } catch (err) {
      for (const d of r.daemons) {
        err.message += `\n---- edgewatchd stderr (${d.stderrPath}) ----\n${d.stderrTail()}`;
      }
      throw err;
    }
  });
}

function newClient(url, token, extra = {}) {
  return new EdgewatchClient({
    url,
    token,
    WebSocket,
    initialDelayMs: 20,
    maxDelayMs: 200,
    longPollAfter: Infinity,
    ...extra,
  });
}

/** Records delivered events (with the transport they came over) and client events. */
function record(client, pattern) {
  const rec = new Recorder();
  rec.attach(client, ['state', 'subscribed', 'gap', 'epoch', 'error']);
  client.subscribe(pattern, (ev) => rec.push({ kind: 'event', ...ev, transport: client.transport }));
  return rec;
}

const countEvents = (n) => (log) => log.filter((e) => e.kind === 'event').length >= n;

daemonTest('TCP connection destroyed mid-stream: after resume every seq exactly once, in order', async (t, r) => {
  const d = r.daemon(await Daemon.start({ args: ['--history', '1000'] }));
  const token = await d.token();
  const proxy = await TcpProxy.start(d.port);
  r.add(() => proxy.close());
  const client = newClient(proxy.wsUrl, token);
  r.add(() => client.close());
  const rec = record(client, 'pipeline/+/frame');
  const subscribed = nextEvent(client, 'subscribed');
  client.connect();
  assert.equal((await subscribed).recovered, null, 'first subscribe is plain (snapshot)');

  const producer = await Producer.connect(d.ingest);
  r.add(() => producer.close());
  const observer = await Observer.open(d, token, ['pipeline/+/frame']);
  r.add(() => observer.close());

  for (let i = 1; i <= 100; i++) await publishInterleaved(producer, i);
  await rec.waitFor(countEvents(100), 15000, '100 live events');

  // Cut the client's TCP connection while the producer keeps publishing; the proxy refuses
  // reconnections until the daemon has taken all 500 events.
  const reconnecting = nextEvent(client, 'state', (s) => s.state === 'reconnecting');
  const publishing = (async () => {
    for (let i = 101; i <= 500; i++) await publishInterleaved(producer, i);
  })();
  proxy.refuse = true;
  proxy.cut();
  const lost = await reconnecting;
  assert.equal(lost.code, 1006);
  await publishing;
  await observer.waitForSeq(CAM1, 250);
  await observer.waitForSeq(CAM2, 250);
  assert.ok(rec.events().length < 500, 'the cut happened before every event was delivered');

  const resumed = nextEvent(client, 'subscribed', (s) => s.recovered !== null, 15000);
  proxy.refuse = false;
  assert.equal((await resumed).recovered, true, 'the ring covered the gap');
  await rec.waitFor(countEvents(500), 20000, '500 events after resume');

  assert.deepEqual(seqsOf(rec, CAM1), range(1, 250));
  assert.deepEqual(seqsOf(rec, CAM2), range(1, 250));
  assert.deepEqual(rec.log.filter((e) => e.kind === 'gap'), []);
  assert.ok(client.stats.connections >= 2);
  assert.deepEqual(producer.rejections, []);
  // Frames are seed 003 PipelineFrameUpdate objects.
  const last = rec.events(CAM1).at(-1);
  assert.equal(last.data.pipeline_id, 'cam1');
  assert.equal(last.data.frame_data.frame_id, 250);
});

daemonTest('daemon restarted mid-stream: recovered:false, a gap notice, the snapshot, then live events', async (t, r) => {
  const d1 = r.daemon(await Daemon.start());
  const token = await d1.token();
  const proxy = await TcpProxy.start(d1.port);
  r.add(() => proxy.close());
  const client = newClient(proxy.wsUrl, token);
  r.add(() => client.close());
  const rec = record(client, 'pipeline/cam1/#');
  const subscribed = nextEvent(client, 'subscribed');
  client.connect();
  await subscribed;

  const p1 = await Producer.connect(d1.ingest);
  for (let n = 1; n <= 10; n++) await p1.publish(CAM1, frameUpdate('cam1', n));
  await rec.waitFor(countEvents(10), 15000, '10 events from the first daemon');
  p1.close();
  assert.equal(client.epoch, d1.epoch);

  // Restart: SIGTERM (clients get 1001 and reconnect), a new process on the same state directory
  // (same JWT secret), events published before the client gets back.
  proxy.refuse = true;
  const goingAway = nextEvent(client, 'state', (s) => s.state === 'reconnecting' && s.code === 1001);
  await d1.stop();
  await goingAway;
  const d2 = r.daemon(await Daemon.start({ dir: d1.dir }));
  assert.notEqual(d2.epoch, d1.epoch);
  proxy.targetPort = d2.port;
  const p2 = await Producer.connect(d2.ingest);
  r.add(() => p2.close());
  const observer = await Observer.open(d2, token, [CAM1]);
  r.add(() => observer.close());
  for (let n = 1; n <= 5; n++) await p2.publish(CAM1, frameUpdate('cam1', 100 + n));
  await observer.waitForSeq(CAM1, 5);

  const mark = rec.log.length;
  proxy.refuse = false;
  await rec.waitFor((log) => log.slice(mark).some((e) => e.kind === 'event'), 15000, 'the snapshot');
  for (let n = 6; n <= 8; n++) await p2.publish(CAM1, frameUpdate('cam1', 100 + n));
  await rec.waitFor((log) => log.slice(mark).filter((e) => e.kind === 'event').length >= 4, 15000, 'live events');

  const after = rec.log
    .slice(mark)
    .filter((e) => e.kind !== 'state')
    .map((e) => {
      switch (e.kind) {
        case 'epoch':
          return { kind: 'epoch', previous: e.previous, epoch: e.epoch };
        case 'subscribed':
          return { kind: 'subscribed', recovered: e.recovered };
        case 'gap':
          return { kind: 'gap', topic: e.topic, from: e.from, to: e.to, reason: e.reason };
        case 'event':
          return { kind: 'event', topic: e.topic, seq: e.seq, epoch: e.epoch };
        default:
          return { kind: e.kind, code: e.code };
      }
    });
  assert.deepEqual(after, [
    { kind: 'epoch', previous: d1.epoch, epoch: d2.epoch },
    { kind: 'subscribed', recovered: false },
    { kind: 'gap', topic: CAM1, from: 11, to: null, reason: 'epoch_changed' },
    { kind: 'event', topic: CAM1, seq: 5, epoch: d2.epoch },
    { kind: 'event', topic: CAM1, seq: 6, epoch: d2.epoch },
    { kind: 'event', topic: CAM1, seq: 7, epoch: d2.epoch },
    { kind: 'event', topic: CAM1, seq: 8, epoch: d2.epoch },
  ]);
  assert.equal(rec.events(CAM1).at(-1).data.frame_data.frame_id, 108);
});

daemonTest('long-poll fallback: the same sequence arrives through long-poll, then back on WebSocket', async (t, r) => {
  const d = r.daemon(await Daemon.start({ args: ['--history', '1000'] }));
  const token = await d.token();
  const proxy = await TcpProxy.start(d.port);
  r.add(() => proxy.close());
  proxy.blockUpgrades = true; // a proxy that breaks WebSockets but passes plain HTTP
  const client = newClient(proxy.wsUrl, token, {
    longPollAfter: 2,
    wsRetryMs: 300,
    pollTimeoutS: 5,
    maxDelayMs: 100,
  });
  r.add(() => client.close());
  const rec = record(client, 'pipeline/+/frame');
  const polling = nextEvent(client, 'state', (s) => s.state === 'connected' && s.transport === 'long-poll');
  client.connect();
  await polling;
  assert.ok(proxy.upgradesBlocked >= 2, 'two failed WebSocket attempts before the fallback');

  const producer = await Producer.connect(d.ingest);
  r.add(() => producer.close());
  const observer = await Observer.open(d, token, ['pipeline/+/frame']);
  r.add(() => observer.close());
  for (let i = 1; i <= 100; i++) await publishInterleaved(producer, i);
  await rec.waitFor(countEvents(100), 15000, '100 events over long-poll');

  // Cut the poll's connection while the producer keeps publishing: the next poll resumes.
  const publishing = (async () => {
    for (let i = 101; i <= 300; i++) await publishInterleaved(producer, i);
  })();
  proxy.cut();
  await publishing;
  await rec.waitFor(countEvents(300), 20000, '300 events over long-poll');
  assert.deepEqual(
    rec.events().filter((e) => e.transport !== 'long-poll'),
    [],
    'everything so far came over long-poll',
  );

  // The WebSocket works again: the client returns to it and resumes there.
  const backOnWs = nextEvent(client, 'state', (s) => s.state === 'connected' && s.transport === 'websocket', 15000);
  proxy.blockUpgrades = false;
  await backOnWs;
  for (let i = 301; i <= 500; i++) await publishInterleaved(producer, i);
  await observer.waitForSeq(CAM2, 250);
  await rec.waitFor(countEvents(500), 20000, '500 events in all');

  assert.deepEqual(seqsOf(rec, CAM1), range(1, 250));
  assert.deepEqual(seqsOf(rec, CAM2), range(1, 250));
  assert.deepEqual(rec.events().slice(-10).map((e) => e.transport), Array(10).fill('websocket'));
  assert.deepEqual(rec.log.filter((e) => e.kind === 'gap'), []);
});

daemonTest('4401 stops reconnecting; a new token and connect() recover', async (t, r) => {
  const d = r.daemon(await Daemon.start());
  const foreign = await d.token({ secretFile: path.join(d.dir, 'other.secret') });
  let sockets = 0;
  class CountingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets++;
    }
  }
  const client = newClient(d.wsUrl, foreign, { WebSocket: CountingWebSocket, initialDelayMs: 5, maxDelayMs: 10 });
  r.add(() => client.close());
  const states = [];
  client.on('state', (s) => states.push(s.state));
  const fatal = nextEvent(client, 'error', (e) => e.fatal);
  client.connect();
  const err = await fatal;
  assert.equal(err.code, 4401);
  assert.equal(err.reason, 'token_bad_signature');
  assert.equal(client.state, 'error');
  assert.equal(client.status().nextRetryAt, null, 'no retry scheduled');
  // Absence check (not synchronisation): a retry would come within 10 ms; watch for 25x that.
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(sockets, 1);
  assert.deepEqual(states, ['connecting', 'error']);

  client.setToken(await d.token());
  const connected = nextEvent(client, 'state', (s) => s.state === 'connected');
  client.connect();
  await connected;
  assert.equal(sockets, 2);
});

daemonTest('503 at max connections (the 1013 case before the upgrade): backs off exponentially and retries', async (t, r) => {
  const d = r.daemon(await Daemon.start({ args: ['--max-connections', '1'] }));
  const token = await d.token();
  // Take the only slot (authenticated, so the auth timeout does not free it).
  const occupant = new WebSocket(d.wsUrl);
  await nextEventOf(occupant, 'open');
  occupant.send(JSON.stringify({ op: 'auth', token }));
  r.add(() => occupant.terminate());

  const client = newClient(d.wsUrl, token, {
    initialDelayMs: 20,
    maxDelayMs: 160,
    random: () => 0.5,
  });
  r.add(() => client.close());
  const rec = new Recorder();
  rec.attach(client, ['state']);
  const retries = () => rec.log.filter((s) => s.state === 'reconnecting');
  client.connect();
  await rec.waitFor(() => retries().length >= 4, 10000, 'four retries');
  const firstFour = retries().slice(0, 4);
  assert.deepEqual(firstFour.map((s) => s.attempt), [1, 2, 3, 4]);
  // Full jitter with random() = 0.5: half of min(160, 20 * 2^failures).
  assert.deepEqual(firstFour.map((s) => s.delayMs), [20, 40, 80, 80]);
  assert.ok(firstFour.every((s) => s.code === 1006 && /503/.test(s.reason)), JSON.stringify(firstFour[0]));

  const connected = nextEvent(client, 'state', (s) => s.state === 'connected');
  occupant.terminate();
  await connected;
  assert.equal(client.status().attempt, 0);
});

daemonTest('heartbeat watchdog: a silent connection is declared dead and replaced, nothing lost', async (t, r) => {
  const d = r.daemon(await Daemon.start({ args: ['--heartbeat-s', '1'] }));
  const token = await d.token();
  const proxy = await TcpProxy.start(d.port);
  r.add(() => proxy.close());
  const client = newClient(proxy.wsUrl, token);
  r.add(() => client.close());
  const rec = record(client, CAM1);
  const subscribed = nextEvent(client, 'subscribed');
  client.connect();
  await subscribed;
  const producer = await Producer.connect(d.ingest);
  r.add(() => producer.close());
  for (let n = 1; n <= 5; n++) await producer.publish(CAM1, frameUpdate('cam1', n));
  await rec.waitFor(countEvents(5), 10000, '5 events');

  // The link goes silent without closing (no FIN, no RST): only the watchdog can tell.
  const dead = nextEvent(client, 'state', (s) => s.state === 'reconnecting', 10000);
  proxy.freeze();
  for (let n = 6; n <= 10; n++) await producer.publish(CAM1, frameUpdate('cam1', n));
  const s = await dead;
  assert.equal(s.reason, 'heartbeat_timeout');
  await rec.waitFor(countEvents(10), 10000, '10 events after the watchdog reconnect');
  assert.deepEqual(seqsOf(rec, CAM1), range(1, 10));
});

function nextEventOf(emitter, type, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), ms);
    emitter.once(type, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
    emitter.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
