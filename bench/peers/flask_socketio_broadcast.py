#!/usr/bin/python3
"""Flask-SocketIO broadcast server: a benchmark peer of make bench-peers (not part of edgewatch).
The plain pattern of Flask-SocketIO's docs: `emit(..., broadcast=True, include_self=False)` from
the handler of the publisher's "pub" event; every other client receives it as event "ev".
Clients speak Socket.IO 5 over Engine.IO 4's WebSocket transport
(`/socket.io/?EIO=4&transport=websocket`). No authentication.

  /usr/bin/python3 flask_socketio_broadcast.py [--port N (0: ephemeral)] [--host ADDR]
      [--max-size N (eventlet's concurrent connections, default 20000)]

Served by eventlet (what `socketio.run()` picks when it is installed; Flask-SocketIO's threading
mode needs simple-websocket, which Debian bookworm does not package). eventlet.wsgi's default
pool of 1024 connections is raised with --max-size, otherwise no client past the 1024th is ever
accepted. Packets are serialised compactly (separators "," and ":"), so an event's data reaches
the subscribers byte for byte as the publisher sent it.

Prints {"port":N,"pid":N} on stdout once listening; SIGINT/SIGTERM stop it.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import eventlet.wsgi  # noqa: E402
from flask import Flask  # noqa: E402
from flask_socketio import SocketIO, emit  # noqa: E402


class CompactJson:
    """The json "module" python-socketio serialises packets with."""

    @staticmethod
    def dumps(obj, *args, **kwargs):
        kwargs["separators"] = (",", ":")
        return json.dumps(obj, *args, **kwargs)

    @staticmethod
    def loads(text, *args, **kwargs):
        return json.loads(text, *args, **kwargs)


app = Flask(__name__)
socketio = SocketIO(app, async_mode="eventlet", json=CompactJson, cors_allowed_origins="*",
                    logger=False, engineio_logger=False)


@socketio.on("pub")
def on_pub(data):
    emit("ev", data, broadcast=True, include_self=False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=9004)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--max-size", type=int, default=20000)
    a = p.parse_args()
    sock = eventlet.listen((a.host, a.port), backlog=4096)
    sys.stdout.write(json.dumps({"port": sock.getsockname()[1], "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    # What socketio.run(app) does with eventlet, on our pre-bound socket and a larger pool.
    eventlet.wsgi.server(sock, app, log_output=False, max_size=a.max_size)


if __name__ == "__main__":
    main()
