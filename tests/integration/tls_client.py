#!/usr/bin/python3
"""An independent TLS client for tls_test.cc: Python's ssl (OpenSSL) and websockets.

Trusts ONLY the certificate given with --ca (the gateway's self-signed one) and verifies the
server's name against it, then:
  1. HTTPS: GET /healthz over a TLS socket whose server_hostname is --server-name (a DNS SAN);
  2. WSS: wss://127.0.0.1:PORT/ws (the IP SAN), receives the welcome, sends each --send message
     and reads until a message whose "type" is --until (or the welcome when --until is absent);
  3. a client trusting only the system CAs must fail certificate verification.
Prints one JSON object on stdout: served/file fingerprints (SHA-256 of the DER, "AB:CD:.."), the
HTTPS status line, the WebSocket messages received, and whether the untrusted client failed.
Exits 1 with a message on stderr when any step fails unexpectedly. Every wait is bounded.
"""
import argparse
import asyncio
import hashlib
import json
import socket
import ssl
import sys

import websockets


def fingerprint(der):
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def https_get(port, ctx, server_name, timeout):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            served = tls.getpeercert(binary_form=True)
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + server_name.encode() +
                        b"\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
            return served, data.split(b"\r\n", 1)[0].decode("latin-1")


async def wss_exchange(port, ctx, sends, until, timeout):
    messages = []
    async with websockets.connect("wss://127.0.0.1:%d/ws" % port, ssl=ctx,
                                  open_timeout=timeout, close_timeout=1) as ws:
        messages.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
        for s in sends:
            await ws.send(s)
        while until and messages[-1].get("type") != until:
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    return messages


def untrusted_fails(port, timeout):
    ctx = ssl.create_default_context()  # system CAs only
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                return False
    except ssl.SSLCertVerificationError:
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--server-name", required=True)
    ap.add_argument("--send", action="append", default=[])
    ap.add_argument("--until", default="")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()

    ctx = ssl.create_default_context(cafile=args.ca)  # CERT_REQUIRED + check_hostname
    with open(args.ca) as f:
        file_der = ssl.PEM_cert_to_DER_cert(f.read())
    served, status_line = https_get(args.port, ctx, args.server_name, args.timeout)
    messages = asyncio.run(wss_exchange(args.port, ctx, args.send, args.until, args.timeout))
    json.dump({
        "served_fingerprint": fingerprint(served),
        "file_fingerprint": fingerprint(file_der),
        "https_status": status_line,
        "messages": messages,
        "untrusted_fails": untrusted_fails(args.port, args.timeout),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # reported to the test with the reason
        print("tls_client: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
