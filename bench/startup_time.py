#!/usr/bin/python3
"""Start-up time of edgewatchd to its first accepted WebSocket, and its idle RSS (make bench-peers).

Each run starts the daemon on a free loopback port with a fresh state directory, then tries a
TCP connect every 0.2 ms; once one succeeds it sends a WebSocket upgrade for /ws and waits for
the 101. The figure is exec() to the 101 (wall clock), so it includes loading the shared
libraries, reading the board file, creating the JWT secret and the lws context. One second after
the 101 it reads VmRSS of the process (idle, one connection open). Prints one JSON object:
{"runs":[{"startup_ms":..,"rss_kib":..},..],"startup_ms_median":..,"rss_kib_median":..}.

  startup_time.py --daemon PATH --board FILE [--runs N] [--cpu C] [--wrapper "qemu-aarch64-static -L SYSROOT"]

With --wrapper the time is the emulator's (qemu-user translating aarch64 code on this x86_64
machine): a ceiling, not a board figure; the RSS is then qemu's and is not reported.
"""
import argparse
import base64
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def upgrade(sock, port):
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed before the upgrade answer")
        head += chunk
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status:
        raise RuntimeError(f"upgrade refused: {status!r}")


def one_run(a, wrapper):
    port = free_port()
    state = tempfile.mkdtemp(prefix="ew-startup-")
    cmd = wrapper + [a.daemon, "--listen", f"127.0.0.1:{port}", "--state-dir", state,
                     "--ingest", os.path.join(state, "ingest.sock"), "--board", a.board,
                     "--log-level", "warn", "--refresh-s", "0"]
    if a.cpu is not None:
        cmd = ["taskset", "-c", str(a.cpu)] + cmd
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = t0 + a.timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"daemon exited {proc.returncode}: "
                                   f"{proc.stderr.read().decode(errors='replace')[-500:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("no connection accepted in time")
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", port))
            except OSError:
                s.close()
                time.sleep(0.0002)
                continue
            s.settimeout(a.timeout_s)
            upgrade(s, port)
            t1 = time.monotonic()
            break
        time.sleep(1.0)
        rss = None if wrapper else rss_kib(proc.pid)
        s.close()
        return {"startup_ms": round((t1 - t0) * 1e3, 2), "rss_kib": rss}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(state, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--daemon", required=True)
    p.add_argument("--board", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--cpu", type=int)
    p.add_argument("--wrapper", default="")
    p.add_argument("--timeout-s", type=float, default=60)
    a = p.parse_args()
    wrapper = shlex.split(a.wrapper)
    runs = [one_run(a, wrapper) for _ in range(a.runs)]
    out = {"daemon": a.daemon, "wrapper": a.wrapper or None, "runs": runs,
           "startup_ms_median": statistics.median(r["startup_ms"] for r in runs)}
    rss = [r["rss_kib"] for r in runs if r["rss_kib"] is not None]
    out["rss_kib_median"] = statistics.median(rss) if rss else None
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    sys.exit(main())
