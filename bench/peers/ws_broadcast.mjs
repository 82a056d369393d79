// ws_broadcast: a Node.js broadcast server on the `ws` package (npm), as a benchmark peer (not
// part of edgewatch). The plain pattern of ws's README ("broadcast to all other clients"): a
// WebSocket whose path is /pub is the publisher; every message it sends goes to every other open
// client with one ws.send() each. Anything else is a subscriber; what subscribers send is ignored.
// No authentication; permessage-deflate off (edgewatch does not compress either).
//
//   node ws_broadcast.mjs [--port N (default 9002; 0: ephemeral)] [--host ADDR (default 127.0.0.1)]
//
// When listening it prints one line {"port":N,"pid":N} on stdout. SIGINT/SIGTERM stop it.
import { WebSocketServer, WebSocket } from 'ws';

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(option('--port', '9002'));
const host = option('--host', '127.0.0.1');
const wss = new WebSocketServer({ port, host, perMessageDeflate: false });

wss.on('connection', (ws, req) => {
  if (req.url !== '/pub') return;
  ws.on('message', (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    }
  });
});

wss.on('listening', () => {
  process.stdout.write(JSON.stringify({ port: wss.address().port, pid: process.pid }) + '\n');
});
wss.on('error', (err) => {
  process.stderr.write(`ws_broadcast: ${err.message}\n`);
  process.exit(1);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const client of wss.clients) client.terminate();
    wss.close(() => process.exit(0));
  });
}
