#!/usr/bin/python3
"""Heartbeat jitter of edgewatchd with forecasts running (issue 7, "never on the loop").

Starts the real edgewatchd twice — without forecasts (baseline) and with a heavy forecast load —
with a 1 s heartbeat, a producer streaming several series into the ingest socket, and WebSocket
clients subscribed to forecast/#. For every heartbeat a client receives it records the server's
timestamp (stamped on the loop thread when the heartbeat timer fires) and the arrival time.

  lateness  how late the loop fired the heartbeat timer: ts(i) − (ts(0) + i · 1000 ms). The timer
            is drift-free (firmware/net/loop.cc), so a loop blocked by a fit shows up here 1:1.
  delivery  arrival − ts(i): queueing and socket time on the way to the client (includes this
            script's own scheduling).
Reported: max and p99 over all heartbeats of all clients, and the number of forecasts published.

Usage: /usr/bin/python3 bench/forecast_jitter.py --daemon build/release/app/edgewatchd
       [--seconds 60] [--clients 4] [--series 16] [--context 512] [--horizon 96]
       [--out docs/benchmarks.md]   (rewrite the "Heartbeat jitter with forecasts running"
                                    section there instead of printing)
bench/forecast_jitter.sh wraps it; `make bench` runs it (scenario "forecast" of bench/run.sh).
Needs python3-websockets (Debian) under /usr/bin/python3.
"""

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    import websockets
except ImportError:
    sys.stderr.write("forecast_jitter: needs python3-websockets under /usr/bin/python3\n")
    sys.exit(77)

HEARTBEAT_MS = 1000


def start_daemon(binary, workdir, config, source_dir):
    cfg = os.path.join(workdir, "config.json")
    with open(cfg, "w") as f:
        json.dump(config, f)
    r, w = os.pipe()
    args = [binary, "--no-auth", "--listen", "127.0.0.1:0", "--ready-fd", str(w),
            "--heartbeat-s", "1", "--ping-s", "30", "--idle-timeout-s", "60",
            "--ingest", os.path.join(workdir, "ingest.sock"),
            "--state-dir", os.path.join(workdir, "state"), "--config", cfg,
            "--board", os.path.join(source_dir, "boards", "generic-x86_64.json"),
            "--log-level", "warn"]
    err = open(os.path.join(workdir, "stderr.log"), "w")
    proc = subprocess.Popen(args, pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=err)
    os.close(w)
    with os.fdopen(r) as ready:
        line = ready.readline()
    if not line:
        proc.kill()
        raise RuntimeError("edgewatchd did not become ready; see %s/stderr.log" % workdir)
    return proc, json.loads(line)


def producer(ingest, series, rate_hz, stop):
    """Streams `series` topics test/<i>/metric with a seasonal, noisy value at rate_hz each."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(ingest)
    s.setblocking(True)
    t = 0
    period = 1.0 / rate_hz
    next_at = time.monotonic()
    while not stop.is_set():
        lines = []
        for i in range(series):
            v = 50 + 10 * math.sin(2 * math.pi * t / 60 + i) + 0.05 * t + ((t * 7919 + i) % 13) / 4
            lines.append(json.dumps({"topic": "test/%d/metric" % i, "data": {"v": round(v, 3)}}))
        s.sendall(("\n".join(lines) + "\n").encode())
        t += 1
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))
    s.close()


async def client(port, seconds, out):
    async with websockets.connect("ws://127.0.0.1:%d/ws" % port, max_size=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "id": 1, "topics": ["forecast/#"]}))
        end = time.time() + seconds
        while time.time() < end:
            try:
                msg = await asyncio.wait_for(ws.recv(), timeout=max(0.1, end - time.time()))
            except asyncio.TimeoutError:
                break
            now_ms = time.time() * 1000
            m = json.loads(msg)
            if m.get("type") == "heartbeat":
                out["hb"].append((m["ts"], now_ms))
            elif m.get("type") == "event":
                out["forecasts"] += 1


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(math.ceil(p / 100.0 * len(v))) - 1))
    return v[k]


def run(binary, source_dir, args, forecasts):
    workdir = tempfile.mkdtemp(prefix="edgewatch-jitter-")
    config = {}
    if forecasts:
        config = {"forecasts": [{"source": "test/+/metric", "field": "v", "context": args.context,
                                 "horizon": args.horizon, "every": "1s", "season": args.season,
                                 "min_points": 32, "max_series": 64}],
                  "forecast_max_series": 64}
    proc, ready = start_daemon(binary, workdir, config, source_dir)
    stop = threading.Event()
    prod = threading.Thread(target=producer, args=(ready["ingest"], args.series, args.rate, stop))
    prod.start()
    outs = [{"hb": [], "forecasts": 0} for _ in range(args.clients)]

    async def all_clients():
        await asyncio.gather(*(client(ready["port"], args.seconds, o) for o in outs))

    asyncio.run(all_clients())
    status = {}
    try:
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/forecasts" % ready["port"]) as r:
            status = json.load(r)
    except Exception:  # noqa: BLE001 - informational only
        pass
    stop.set()
    prod.join()
    proc.terminate()
    proc.wait(timeout=30)
    shutil.rmtree(workdir, ignore_errors=True)

    # Lateness is a property of each heartbeat (every client receives the same ones): take the
    # union of the server timestamps, anchor the 1 s schedule on the first, and shift so that the
    # earliest heartbeat is 0 ms late (the anchor may itself have been late).
    stamps = sorted({ts for o in outs for ts, _ in o["hb"]})
    lateness = []
    if len(stamps) >= 3:
        base = stamps[0]
        lateness = [ts - base - round((ts - base) / HEARTBEAT_MS) * HEARTBEAT_MS for ts in stamps]
        m = min(lateness)
        lateness = [x - m for x in lateness]
    delivery = [arrived - ts for o in outs for ts, arrived in o["hb"]]
    stats = status.get("stats", {})
    durations = [s.get("last_duration_ms", 0) for s in status.get("series", [])]
    return {
        "forecasts": forecasts, "heartbeats": len(stamps),
        "received": sum(len(o["hb"]) for o in outs),
        "lateness_max": max(lateness) if lateness else float("nan"),
        "lateness_p99": percentile(lateness, 99),
        "delivery_max": max(delivery) if delivery else float("nan"),
        "delivery_p99": percentile(delivery, 99),
        "forecast_events": sum(o["forecasts"] for o in outs),
        "published": stats.get("published", 0), "abandoned": stats.get("abandoned", 0),
        "fit_ms_max": max(durations) if durations else 0,
    }


SECTION = "Heartbeat jitter with forecasts running"


def verdict(r):
    """One sentence reading the forecasts-on row."""
    if r["fit_ms_max"] > 0 and r["lateness_max"] < r["fit_ms_max"]:
        return ("With forecasts on, the largest lateness (%.0f ms) stays below the slowest fit "
                "(%d ms): no fit held the loop; what remains is CPU contention (%d CPUs shared by "
                "the loop, the worker, the producer and the clients)." % (
                    r["lateness_max"], r["fit_ms_max"], os.cpu_count()))
    return ("With forecasts on, the largest lateness is %.0f ms and the slowest fit %d ms." % (
        r["lateness_max"], r["fit_ms_max"]))


def write_section(path, title, body):
    """Replaces the `## title` section of the Markdown file `path` (up to the next `## `), or
    appends it."""
    try:
        text = open(path).read()
    except FileNotFoundError:
        text = "# Benchmarks\n"
    head = "## " + title + "\n"
    start = text.find(head)
    section = head + "\n" + body.rstrip("\n") + "\n"
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(head))
        text = text[:start] + section + (text[end:] if end >= 0 else "")
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--series", type=int, default=16)
    ap.add_argument("--rate", type=float, default=10.0, help="points per second per series")
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--horizon", type=int, default=96)
    ap.add_argument("--season", default="auto")
    ap.add_argument("--out", help="Markdown file whose jitter section is rewritten")
    args = ap.parse_args()
    if args.season != "auto":
        args.season = int(args.season)
    rows = [run(args.daemon, args.source_dir, args, False), run(args.daemon, args.source_dir, args, True)]
    lines = ["| run | heartbeats (received) | lateness max (ms) | lateness p99 (ms) "
             "| delivery max (ms) | delivery p99 (ms) | forecasts published | abandoned "
             "| slowest fit (ms) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %d (%d) | %.0f | %.0f | %.1f | %.1f | %d | %d | %d |" % (
            "forecasts on" if r["forecasts"] else "baseline (no forecasts)", r["heartbeats"],
            r["received"], r["lateness_max"], r["lateness_p99"], r["delivery_max"],
            r["delivery_p99"], r["published"], r["abandoned"], r["fit_ms_max"]))
    setup = ("%d clients, %d series at %.0f points/s each, context %d, horizon %d, season %s, "
             "every 1s, %d s per run, %d CPUs." % (args.clients, args.series, args.rate,
                                                   args.context, args.horizon, args.season,
                                                   args.seconds, os.cpu_count()))
    if not args.out:
        print("\n".join(lines) + "\n\n" + setup)
        return 0
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=args.source_dir).stdout.strip()
    except OSError:
        commit = "?"
    flags = " ".join(a for a in sys.argv[1:] if not a.startswith("--out") and a != args.out)
    body = "\n".join([
        "Issue 7: a forecast never runs on the loop. edgewatchd with a 1 s heartbeat, a producer",
        "streaming the series into the ingest socket and WebSocket clients subscribed to",
        "`forecast/#`, once without forecasts (baseline) and once refitting every series every",
        "second on the worker. *Lateness*: how late the loop fired each heartbeat against its",
        "drift-free 1 s schedule (server timestamps; a fit on the loop would add its whole",
        "duration here). *Delivery*: arrival at the client minus the server timestamp (includes the",
        "Python client's own scheduling). The machine is shared: compare the two rows, not the",
        "absolute values.",
        "",
        "Measured %s at commit %s. %s" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                         commit, setup),
        "",
    ] + lines + [
        "",
        verdict(rows[1]),
        "",
        "Command (`make bench` runs it as scenario `forecast`):",
        "",
        "```sh",
        "bench/forecast_jitter.sh %s" % flags.replace("--daemon %s" % args.daemon, "").strip(),
        "```",
    ])
    write_section(args.out, SECTION, body)
    sys.stderr.write("forecast_jitter: wrote the section %r of %s\n" % (SECTION, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
