#!/usr/bin/python3
"""FastAPI + uvicorn WebSocket broadcast server: a benchmark peer of make bench-peers (not part
of edgewatch). The plain pattern of FastAPI's WebSocket docs ("ConnectionManager.broadcast"):
a set of accepted sockets, and for each message from the publisher one `await send_text()` per
subscriber in turn. A WebSocket on /pub is the publisher; any other path is a subscriber, whose
messages are read and ignored. No authentication.

  /usr/bin/python3 fastapi_broadcast.py [--port N (0: ephemeral)] [--host ADDR]

Prints {"port":N,"pid":N} on stdout once listening; SIGINT/SIGTERM stop it (uvicorn's handlers).
Debian bookworm: python3-fastapi 0.92, python3-uvicorn 0.17 (asyncio loop, h11 and websockets:
uvloop and httptools are not installed).
"""
import argparse
import json
import os
import socket
import sys

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
subscribers = set()


@app.websocket("/pub")
async def publisher(ws: WebSocket):
    await ws.accept()
    try:
        while True:
            message = await ws.receive_text()
            for sub in list(subscribers):
                try:
                    await sub.send_text(message)
                except Exception:  # a subscriber that went away mid-send
                    subscribers.discard(sub)
    except WebSocketDisconnect:
        pass


@app.websocket("/{path:path}")
async def subscriber(ws: WebSocket, path: str):
    await ws.accept()
    subscribers.add(ws)
    try:
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        subscribers.discard(ws)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=9003)
    p.add_argument("--host", default="127.0.0.1")
    a = p.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((a.host, a.port))
    sock.listen(4096)  # uvicorn's create_server() listens again with its own backlog (2048)
    sys.stdout.write(json.dumps({"port": sock.getsockname()[1], "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws_max_size=1 << 20,
                            backlog=4096)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
