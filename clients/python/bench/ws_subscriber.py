"""A live WebSocket subscriber in its own process, standard library only: subscribes to every run at ``max_hz``
and prints, for each frame, ``<epoch seconds received> <newest step in it>`` on stdout, until stdin closes.

    /usr/bin/python3 ws_subscriber.py http://127.0.0.1:8080 [max_hz]
"""

import base64
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse


def connect(url):
    u = urllib.parse.urlparse(url)
    s = socket.create_connection((u.hostname, u.port or 80))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (u.hostname, u.port, key)).encode())
    f = s.makefile("rb")
    status = f.readline()
    if b" 101 " not in status:
        raise SystemExit("no WebSocket: %r" % status)
    while f.readline() not in (b"\r\n", b""):
        pass
    return s, f


def send(s, opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def frames(f):
    """(opcode, payload) of each whole message (fragments joined)."""
    parts, first = [], None
    while True:
        b0, b1 = f.read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", f.read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", f.read(8))[0]
        data = f.read(n)
        op = b0 & 0x0F
        if op >= 8:   # control frames come between fragments
            yield op, data
            continue
        if op != 0:
            first = op
        parts.append(data)
        if b0 & 0x80:
            yield first, b"".join(parts)
            parts = []


def main():
    url = sys.argv[1]
    max_hz = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    s, f = connect(url)
    send(s, 1, json.dumps({"op": "subscribe", "runs": ["*"], "mode": "live", "max_hz": max_hz}).encode())
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    out = sys.stdout
    print("ready", flush=True)
    for op, data in frames(f):
        if op == 9:
            send(s, 10, data)   # pong: the server holds back frames from a client that does not answer
        elif op == 1:
            now = time.time()
            m = json.loads(data)
            if m.get("type") == "frame":
                newest = max(e["step"][-1] for e in m["runs"] if e["step"])
                out.write("%.6f %d\n" % (now, newest))
                out.flush()
        elif op == 8:
            return


if __name__ == "__main__":
    main()
