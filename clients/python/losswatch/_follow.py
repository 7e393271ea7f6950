"""``losswatch.follow``: a run's steps as the server streams them, over the WebSocket's binary format, standard
library only (a minimal RFC 6455 client: no websocket package needed). The format is in docs/websocket.md."""

from __future__ import annotations

import array
import base64
import hashlib
import json
import math
import os
import socket
import struct
import sys
import time
import urllib.parse
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ._say import say

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ENDED = ("finished", "failed", "stopped", "diverged", "deleted", "lost")
_HEADER = struct.Struct("<BBHIq")
_BLOCK = struct.Struct("<IIqiHH")
_STEPS, _FRAME = 1, 2
_OVERVIEW, _DOWNSAMPLED = 1, 2
_STEP, _LOSS, _LR, _GRAD_NORM, _T, _SHARPNESS, _STABILITY = 1, 2, 4, 8, 16, 32, 64
_SWAP = sys.byteorder != "little"


class Steps:
    """Consecutive steps of one run: each column an ``array.array`` (``step`` and ``t`` of int64, the others of
    float64; NaN where a value is missing). ``t`` is each step's time in epoch milliseconds. ``metrics`` holds a
    script's extra scalars by name. In ``live`` mode ``overview`` is True for the run's history sent first (at most
    2,000 points of it, ``downsampled`` when some were left out) and ``sent`` is the server's clock (epoch ms) when
    the frame went; later ones are each a bucket of at most four points (its min and max loss, its last, and its last
    curvature measurement). ``sharpness`` and ``stability`` are the run's curvature measurements (NaN where a step
    was not measured), None until the run measured any."""

    __slots__ = ("run", "cycle", "step", "loss", "lr", "grad_norm", "t", "metrics", "overview", "downsampled",
                 "sent", "sharpness", "stability")

    def __init__(self, run: str, cycle: int, step: "array.array[int]", loss: "array.array[float]",
                 lr: "array.array[float]", grad_norm: "array.array[float]", t: "array.array[int]",
                 metrics: Dict[str, "array.array[float]"], overview: bool = False, downsampled: bool = False,
                 sent: Optional[int] = None, sharpness: "Optional[array.array[float]]" = None,
                 stability: "Optional[array.array[float]]" = None) -> None:
        self.run, self.cycle, self.step, self.loss, self.lr = run, cycle, step, loss, lr
        self.grad_norm, self.t, self.metrics = grad_norm, t, metrics
        self.overview, self.downsampled, self.sent = overview, downsampled, sent
        self.sharpness, self.stability = sharpness, stability

    def __len__(self) -> int:
        return len(self.step)

    def __repr__(self) -> str:
        span = "steps %d..%d" % (self.step[0], self.step[-1]) if len(self) else "no steps"
        return "Steps(run=%r, cycle=%d, %s)" % (self.run, self.cycle, span)


def decode(payload: Any) -> Tuple[int, int, int, List[Steps]]:
    """One binary message: ``(type, flags, t, [Steps per run block])`` (type 1: steps, 2: a live frame)."""
    view = memoryview(payload)
    version, kind, flags, blocks, t = _HEADER.unpack_from(view, 0)
    if version != 1:
        raise ValueError("losswatch: binary format version %d (this client reads 1): update the client" % version)
    pos = _HEADER.size
    out = []
    for _ in range(blocks):
        size, n, first, cycle, columns, metrics = _BLOCK.unpack_from(view, pos)
        p = pos + _BLOCK.size
        names = []
        for _ in range(1 + metrics):
            (length,) = struct.unpack_from("<H", view, p)
            names.append(bytes(view[p + 2:p + 2 + length]).decode("utf-8"))
            p += 2 + length
        p = pos + _BLOCK.size + ((p - pos - _BLOCK.size + 7) & ~7)

        def column(code: str) -> "array.array[Any]":
            nonlocal p
            a = array.array(code)
            a.frombytes(view[p:p + 8 * n])
            if _SWAP:
                a.byteswap()
            p += 8 * n
            return a

        step = column("q") if columns & _STEP else array.array("q", range(first, first + n))
        loss = column("d") if columns & _LOSS else array.array("d", [math.nan]) * n   # absent: NaN, as missing
        lr = column("d") if columns & _LR else array.array("d", [math.nan]) * n
        grad_norm = column("d") if columns & _GRAD_NORM else array.array("d", [math.nan]) * n
        ts = column("q") if columns & _T else array.array("q", [0]) * n
        extra = {name: column("d") for name in names[1:]}
        sharpness = column("d") if columns & _SHARPNESS else None
        stability = column("d") if columns & _STABILITY else None
        out.append(Steps(names[0], cycle, step, loss, lr, grad_norm, ts, extra, bool(flags & _OVERVIEW),
                         bool(flags & _DOWNSAMPLED), t if kind == _FRAME else None, sharpness, stability))
        pos += size
    return kind, flags, t, out


class _Socket:
    """One WebSocket connection: the handshake, frames in, pongs and text out (masked, as a client's must be)."""

    def __init__(self, url: str, token: Optional[str], timeout: float) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "ws") or not u.hostname:
            raise ValueError("losswatch.follow: url must be http://host:port (https is not supported here), not %r"
                             % (url,))
        port = u.port or 80
        self.sock = socket.create_connection((u.hostname, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        key = base64.b64encode(os.urandom(16))
        host = u.hostname if ":" not in u.hostname else "[%s]" % u.hostname
        head = ["GET %s/ws HTTP/1.1" % u.path.rstrip("/"), "Host: %s:%d" % (host, port), "Upgrade: websocket",
                "Connection: Upgrade", "Sec-WebSocket-Key: " + key.decode(), "Sec-WebSocket-Version: 13",
                "User-Agent: losswatch-python"]
        if token:
            head.append("Authorization: Bearer " + token)
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        self.f = self.sock.makefile("rb", buffering=1 << 20)
        status = self.f.readline().decode("latin-1").strip()
        headers = {}
        while True:
            line = self.f.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if " 101 " not in status + " ":
            raise ConnectionRefusedError("losswatch.follow: the server refused the WebSocket: %s" % status)
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise ConnectionError("losswatch.follow: not a WebSocket answer (Sec-WebSocket-Accept)")
        self.sock.settimeout(None)

    def send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        m = int.from_bytes((mask * ((n + 3) // 4))[:n], "little")   # XOR all at once: one big int, not a loop
        body = (int.from_bytes(payload, "little") ^ m).to_bytes(n, "little") if n else b""
        self.sock.sendall(head + mask + body)

    def messages(self) -> Iterator[Tuple[int, bytes]]:
        """(opcode, payload) of each whole data message, fragments joined; pings answered as they are read."""
        read = self.f.read
        parts: List[bytes] = []
        first = 0
        while True:
            h = read(2)
            if len(h) < 2:
                raise ConnectionResetError("losswatch.follow: the connection closed")
            b0, b1 = h[0], h[1]
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", read(8))
            data = read(n) if n else b""
            if len(data) < n:
                raise ConnectionResetError("losswatch.follow: the connection closed mid-message")
            op = b0 & 0x0F
            if op == 9:
                self.send(10, data)   # the server measures how far behind this reader is by its pongs
                continue
            if op == 10:
                continue
            if op == 8:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                try:
                    self.send(8, data[:2])
                except OSError:
                    pass
                raise _Closed(code, data[2:].decode("utf-8", "replace"))
            if op != 0:
                first = op
            parts.append(data)
            if b0 & 0x80:
                yield first, parts[0] if len(parts) == 1 else b"".join(parts)
                parts = []

    def close(self) -> None:
        try:
            self.send(8, struct.pack("!H", 1000))
        except OSError:
            pass
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


class _Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__("closed by the server: %d %s" % (code, reason))
        self.code = code


class Follow:
    """An iterator of :class:`Steps` of one run (see :func:`follow`). ``summary`` is the run's newest summary
    (``summary["state"]``: how it stands; the iteration stops once it has ended and every step came); ``alerts``
    the alerts it raised meanwhile. Close it (or use ``with``) to leave early."""

    def __init__(self, run: Any, url: Optional[str] = None, mode: str = "all", from_step: int = 1,
                 token: Optional[str] = None, max_hz: float = 20, retry_for: float = 60.0,
                 timeout: float = 10.0) -> None:
        self.run = run if isinstance(run, str) else getattr(run, "id", None)
        if not isinstance(self.run, str) or not self.run:
            raise TypeError("losswatch.follow: run must be a run id or a Run, not %r" % (run,))
        if mode not in ("all", "live"):
            raise ValueError("losswatch.follow: mode must be \"all\" or \"live\", not %r" % (mode,))
        if isinstance(from_step, bool) or not isinstance(from_step, int) or from_step < 1:
            raise ValueError("losswatch.follow: from_step must be an integer >= 1, not %r" % (from_step,))
        url = url or os.environ.get("LOSSWATCH_URL") or "http://127.0.0.1:8080"
        self.url = url.split(",")[0].strip().rstrip("/")
        self.mode = mode
        self.token = token if token is not None else os.environ.get("LOSSWATCH_TOKEN") or None
        self.max_hz = max_hz
        self.retry_for = retry_for
        self.timeout = timeout
        self.summary: Optional[Dict[str, Any]] = None
        self.alerts: List[Dict[str, Any]] = []
        self._cycle: Optional[int] = None
        self._next = from_step   # all mode: the next step due (a reconnect resumes there)
        self._ws: Optional[_Socket] = None
        self._closed = False
        self._overview = False   # live mode: the run's overview came
        self._it: Optional[Iterator[Steps]] = None

    def __iter__(self) -> "Follow":
        return self

    def __next__(self) -> Steps:
        if self._it is None:
            self._it = self._steps()
        return next(self._it)

    def __enter__(self) -> "Follow":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def _ended(self) -> bool:
        """Whether the run has ended and every step came (a summary follows the steps before it, but the one that
        introduces the run comes first)."""
        s = self.summary or {}
        if s.get("state") not in _ENDED:
            return False
        if s.get("state") == "deleted" or not s.get("step"):
            return True
        return self._next > s["step"] if self.mode == "all" else self._overview

    def _connect(self) -> _Socket:
        ws = _Socket(self.url, self.token, self.timeout)
        sub: Dict[str, Any] = {"op": "subscribe", "runs": [self.run], "mode": self.mode, "format": "binary"}
        if self.mode == "all":
            sub["from_step"] = self._next
        else:
            sub["max_hz"] = self.max_hz
        ws.send(1, json.dumps(sub).encode())
        return ws

    def _steps(self) -> Iterator[Steps]:
        failing_since = None
        while True:
            try:
                self._ws = self._connect()
                for op, data in self._ws.messages():
                    failing_since = None
                    if op == 2:
                        for s in decode(data)[3]:
                            if s.run != self.run:
                                continue
                            if self.mode == "all":
                                if self._cycle is not None and s.cycle != self._cycle:
                                    self._next = 1   # the run was rewound or started over: its steps come anew
                                self._cycle = s.cycle
                                if len(s):
                                    self._next = s.step[-1] + 1
                            elif s.overview:
                                self._overview = True
                            yield s
                        if self._ended():   # an ended run's summary comes first: its last steps end the iteration
                            self.close()
                            return
                    elif op == 1:
                        m = json.loads(data)
                        kind = m.get("type")
                        if kind == "run" and m["run"].get("id") == self.run:
                            self.summary = m["run"]
                            if self._ended():
                                self.close()
                                return
                        elif kind == "alert" and m.get("run") == self.run:
                            self.alerts.append(m)
                        elif kind == "error":
                            self.close()
                            raise ValueError("losswatch.follow: the server says: %s" % m.get("message"))
            except (OSError, _Closed) as e:
                if self._closed:   # by the caller
                    return
                if self._ws is not None:
                    self._ws.close()
                    self._ws = None
                now = time.monotonic()
                if failing_since is None:
                    failing_since = now
                    say("%s; connecting again%s" % (
                        e, " from step %d" % self._next if self.mode == "all" else ""))
                if now - failing_since > self.retry_for:
                    raise ConnectionError("losswatch.follow: no connection to %s for %.0f s: %s"
                                          % (self.url, self.retry_for, e)) from e
                time.sleep(min(2.0, 0.1 * 2 ** min(5, int(now - failing_since))))


def follow(run: Any, mode: str = "all", url: Optional[str] = None, from_step: int = 1, token: Optional[str] = None,
           max_hz: float = 20, retry_for: float = 60.0) -> Follow:
    """The steps of ``run`` (its id, or a ``Run``) as the server streams them, as :class:`Steps`, one per message
    (columns as ``array.array``, up to 4,096 steps each).

    ``mode="all"``: every step exactly once, in order, from ``from_step`` (the history first, then the live
    steps); the iteration ends once the run has ended and its last step came. A dropped connection is made
    again (for up to ``retry_for`` s, said once) and resumes at the next step: none is lost or repeated. When
    the run is rewound (a guard) or a demo run starts over, its steps come again from step 1 in a new
    ``cycle``. ``mode="live"``: the run's overview, then at most ``max_hz`` buckets a second of what is new.

    ``url`` defaults to ``$LOSSWATCH_URL`` (its first node), else http://127.0.0.1:8080; ``token`` to
    ``$LOSSWATCH_TOKEN``. Standard library only: the binary stream's columns are read with ``array`` and
    ``struct``, with no number parsed from text.

    ::

        for s in losswatch.follow(run_id):
            print(s.step[-1], s.loss[-1])
    """
    return Follow(run, url=url, mode=mode, from_step=from_step, token=token, max_hz=max_hz, retry_for=retry_for)
