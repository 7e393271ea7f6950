"""A fake losswatch node for the client's unit tests: a small ``http.server`` in a thread of the test's process that
creates a run, stores appended steps above its last stored one (counting the others as duplicates, as the server
does), hands out commands and takes their acknowledgements, answers ``GET /api/runs/{id}``, ``/resume``, ``PATCH``
and ``/finish``, and can be told what to answer next: a status, a body, no answer at all (the connection closed:
a reset), or no answer in time (a timeout). Not the server: the real one is tested from Java (PythonClientIT)."""

from __future__ import annotations

import collections
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

RUN = "r1"
STEPS = re.compile(r"/api/runs/([^/]+)/steps\Z")
FINISH = re.compile(r"/api/runs/([^/]+)/finish\Z")
RESUME = re.compile(r"/api/runs/([^/]+)/resume\Z")
ONE = re.compile(r"/api/runs/([^/]+)\Z")
METRIC = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]{0,63}\Z")

# what a plan may say instead of a status: close the connection without answering (after storing the steps, or
# before), or answer only after the client's timeout
RESET = "reset"
STORE_THEN_RESET = "store-then-reset"
HANG = "hang"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def closed_port_url() -> str:
    return "http://127.0.0.1:%d" % free_port()


class FakeNode:
    """One node, holding run r1 (or creating it)."""

    def __init__(self, stored: Any = (), port: int = 0, state: str = "running") -> None:
        self.cond = threading.Condition()
        self.stored: List[int] = list(stored)   # the run's steps this node has, in order
        self.had = list(stored)                 # ... before the client sent it anything
        self.received: List[int] = []           # every step the client sent it, in order
        self.metrics: Dict[str, Dict[int, Any]] = {}   # name -> step -> value, for the steps stored
        self.values: Dict[int, Tuple[Any, Any, Any]] = {}   # step -> (loss, lr, grad_norm) as sent
        self.duplicates = 0
        self.creates: List[Dict[str, Any]] = []  # the create bodies
        self.requests: List[Tuple[str, str]] = []   # (method, path) of every request
        self.acks: List[Dict[str, Any]] = []
        self.commands: List[Dict[str, Any]] = []  # answered with every append until acknowledged
        self.finished: Optional[str] = None
        self.state = state                       # the run's state, for GET and /resume
        self.resume_answer: Optional[Tuple[int, Dict[str, Any]]] = None   # how /resume answers; None: 200
        self.patches: List[Dict[str, Any]] = []
        self.patch_status = 200
        self.tags: List[str] = []
        self.refuse_create: Optional[Tuple[int, Dict[str, Any]]] = None   # the next create answered so, once
        self.places_on: Optional[str] = None   # a create's answer says the run lives on the node at this URL
        self.max_metrics = 64
        self.plan: Deque[Any] = collections.deque()   # what the next appends get instead (see module doc)
        self.status: Optional[int] = None        # every append answered with this status (404, 502)
        self.body: Dict[str, Any] = {}          # ... and this body
        self.die_at: Optional[int] = None        # the node dies on the append that holds this step...
        self.answer_then_die = True              # ... after answering it, or without answering (after on_death)
        self.on_death: Optional[Callable[["FakeNode"], None]] = None
        self.dead = False
        self.busy = 0                            # appends answered 503 before it serves the run (taking it over)
        self.hang_seconds = 1.0
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        self.server.node = self   # type: ignore[attr-defined]
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        """From now on connections are refused."""
        with self.cond:
            if self._closed:
                return
            self._closed = True
        self.server.shutdown()
        self.server.server_close()

    def wait(self, predicate: Callable[["FakeNode"], bool], timeout: float = 10.0) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self), timeout):
                raise AssertionError("timed out waiting on the fake node %s" % self.url)

    def last(self) -> int:
        return self.stored[-1] if self.stored else 0

    def summary(self) -> Dict[str, Any]:
        return {"id": RUN, "name": "fake", "state": self.state, "step": self.last(), "tags": list(self.tags)}

    def handle(self, method: str, path: str, body: Any) -> Any:
        """Returns (status, answer), or a plan word (RESET, HANG)."""
        with self.cond:
            try:
                self.requests.append((method, path))
                return self._handle(method, path, body)
            finally:
                self.cond.notify_all()

    def _handle(self, method: str, path: str, body: Any) -> Any:
        if self.dead:
            return RESET
        if path == "/api/runs" and method == "POST":
            if self.refuse_create is not None:
                answer, self.refuse_create = self.refuse_create, None
                return answer
            self.creates.append(body)
            self.tags = list(body.get("tags", ()))
            created = {"id": RUN, "name": body.get("name"), "state": "running", "step": 0}
            if self.places_on is not None:
                created["node"] = {"name": "elsewhere", "url": self.places_on}
            return 201, created
        m = STEPS.match(path)
        if m:
            if m.group(1) != RUN:
                return 404, {"error": "no run %s" % m.group(1)}
            if self.status is not None:
                return self.status, dict({"error": "fake %d" % self.status}, **self.body)
            if self.busy > 0:
                self.busy -= 1
                return 503, {"error": "busy: run %s is being taken over; send them again" % RUN}
            planned = self.plan.popleft() if self.plan and body["step"] else None
            if planned is not None and planned not in (STORE_THEN_RESET, HANG):
                if isinstance(planned, int):
                    return planned, {"error": "fake %d" % planned}
                return planned
            metrics = body.get("metrics") or {}
            for name in metrics:
                if not METRIC.match(name):
                    return 400, {"error": "metrics.%s: a bad name" % name, "field": "metrics.%s" % name}
            if len(set(metrics) | set(self.metrics)) > self.max_metrics:
                return 400, {"error": "metrics: a run has at most %d" % self.max_metrics, "field": "metrics"}
            steps = body["step"]
            dup = 0
            for i, s in enumerate(steps):
                self.received.append(s)
                if s <= self.last():
                    dup += 1
                else:
                    self.stored.append(s)
                    self.values[s] = tuple(body.get(c, [None] * len(steps))[i] for c in ("loss", "lr", "grad_norm"))
                    for name, column in metrics.items():
                        if column[i] is not None:
                            self.metrics.setdefault(name, {})[s] = column[i]
            self.duplicates += dup
            for a in body.get("acks", ()):
                self.acks.append(a)
                self.commands = [c for c in self.commands if c["id"] != a["id"]]
            answer = {"accepted": len(steps) - dup, "duplicates": dup, "last_step": self.last(),
                      "commands": list(self.commands)}
            if planned in (STORE_THEN_RESET, HANG):
                return RESET if planned == STORE_THEN_RESET else (HANG, answer)
            if self.die_at is not None and steps and steps[-1] >= self.die_at:
                self.dead = True
                threading.Thread(target=self.close, daemon=True).start()
                if not self.answer_then_die:
                    if self.on_death:
                        self.on_death(self)
                    return RESET
            return 200, answer
        m = FINISH.match(path)
        if m:
            if self.status is not None:
                return self.status, dict({"error": "fake %d" % self.status}, **self.body)
            self.finished = body["state"]
            self.state = body["state"]
            return 200, {"id": RUN, "state": body["state"], "step": self.last()}
        m = RESUME.match(path)
        if m:
            if self.resume_answer is not None:
                return self.resume_answer
            self.state = "running"
            return 200, self.summary()
        m = ONE.match(path)
        if m and method == "GET":
            if m.group(1) != RUN:
                return 404, {"error": "no run %s" % m.group(1)}
            return 200, self.summary()
        if m and method == "PATCH":
            self.patches.append(body)
            if self.patch_status != 200:
                return self.patch_status, {"error": "fake %d" % self.patch_status}
            self.tags = body.get("tags", self.tags)
            return 200, self.summary()
        return 404, {"error": "no route %s %s" % (method, path)}


class _Handler(BaseHTTPRequestHandler):
    def _any(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n).decode("utf-8")) if n else None
        node = self.server.node   # type: ignore[attr-defined]
        result = node.handle(self.command, self.path, body)
        if result == RESET:
            self.close_connection = True   # no answer: the client sees the connection closed
            return
        if isinstance(result, tuple) and result[0] == HANG:
            time.sleep(node.hang_seconds)   # past the client's timeout
            self.close_connection = True
            return
        status, answer = result
        data = json.dumps(answer).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = _any

    def log_message(self, *args: Any) -> None:
        pass
