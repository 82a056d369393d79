// edgewatchd serving the built dashboard (app/daemon/web_assets.cc): / and every asset with its
// Content-Type, the precompressed gzip twin when the client accepts gzip (and the identity bytes
// when it does not), caching headers (hashed assets immutable, index.html revalidated), no token
// needed, 404 for unknown paths, 405 for other methods; and a daemon without a bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { Daemon } from '../js/helpers.mjs';
import { webRoot, webArgs } from './browser.mjs';

/** A raw HTTP exchange (no automatic decompression): {status, headers, body: Buffer}. */
function request(port, urlPath, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(20000, () => req.destroy(new Error(`timeout: ${method} ${urlPath}`)));
    req.on('error', reject);
    req.end();
  });
}

test('static files: content types, gzip negotiation, caching, 404 and 405', { timeout: 60000 }, async (t) => {
  const d = await Daemon.start({ args: webArgs() });
  t.after(async () => {
    await d.stop();
    d.removeDir();
  });
  const index = fs.readFileSync(path.join(webRoot, 'index.html'));
  const gz = { 'accept-encoding': 'gzip, deflate, br' };

  const root = await request(d.port, '/', { headers: gz });
  assert.equal(root.status, 200);
  assert.equal(root.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(root.headers['content-encoding'], 'gzip');
  assert.equal(root.headers.vary, 'Accept-Encoding');
  assert.equal(root.headers['cache-control'], 'no-cache');
  assert.match(root.headers['content-security-policy'], /default-src 'self'/);
  assert.equal(root.headers['x-content-type-options'], 'nosniff');
  assert.deepEqual(zlib.gunzipSync(root.body), index);

  const plain = await request(d.port, '/index.html');
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.deepEqual(plain.body, index);
  const refused = await request(d.port, '/', { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
  assert.equal(refused.headers['content-encoding'], undefined);
  assert.deepEqual(refused.body, index);

  // The assets index.html names, with long-lived caching (their names carry a content hash).
  const names = [...index.toString().matchAll(/(?:src|href)="\/([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(names.map((n) => path.extname(n)).sort(), ['.css', '.js']);
  for (const name of names) {
    const r = await request(d.port, `/${name}`, { headers: gz });
    assert.equal(r.status, 200, name);
    assert.equal(r.headers['content-type'], name.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.deepEqual(zlib.gunzipSync(r.body), fs.readFileSync(path.join(webRoot, name)));
  }

  const missing = await request(d.port, '/nope.js', { headers: gz });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['cache-control'], 'no-store');
  assert.equal(JSON.parse(missing.body).error, 'not_found');
  assert.equal((await request(d.port, '/index.html.gz')).status, 404);

  const post = await request(d.port, '/', { method: 'POST', headers: { 'content-length': '0' } });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET');

  // The API keeps its no-store answers and its token requirement.
  const api = await request(d.port, '/api/v1/topics');
  assert.equal(api.status, 401);
  assert.equal(api.headers['cache-control'], 'no-store');
});

test('without a bundle the gateway runs and / answers 404 with a hint', { timeout: 60000 }, async (t) => {
  const d = await Daemon.start({ args: ['--web-root', '/nonexistent/edgewatch-web'] });
  t.after(async () => {
    await d.stop();
    d.removeDir();
  });
  const r = await request(d.port, '/');
  assert.equal(r.status, 404);
  assert.match(JSON.parse(r.body).message, /dashboard is not installed/);
  assert.equal((await request(d.port, '/healthz')).status, 200);
  assert.match(d.stderrTail(), /dashboard not served: web root \/nonexistent\/edgewatch-web cannot be opened/);
});
