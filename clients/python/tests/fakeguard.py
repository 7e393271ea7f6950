"""A stand-in for the server's side of a script's guard and look-ahead probes (HELPERS.md, protocol items 3 and 4),
until the real server has it: a standard-library HTTP server in a thread, and the same triggers offline.

``Triggers`` is a deliberately simple guard: a non-finite loss, a loss over 10× the run's first (``diverging``),
a ``spike`` as the built-in guard has it (5 steps in a row at 2× the mean of the 100 before), or ``dead``: 100
steps in a row at the trivial loss ln(10) ± 0.15 (chance among 10 classes), its episode begun at the blow-up before. ``FakeGuard`` serves one run
and checks the client against the protocol as it goes (``violations``); ``refuse`` names append fields it answers 400 to, as a server without them does: a rewind's ack is the first item of its
append, that append and the later ones say the new cycle and carry only steps numbered on from the step gone back
to, stale cycles are dropped; after ``max_rewinds`` the next trigger is a stop with reason ``diverged``.
"""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

LN10 = math.log(10)


class Triggers:
    """The guard's decision, step by step, within one cycle: ``see`` returns (the trigger, the step its episode
    began at), or None. A rewind goes back ``rewind`` steps before the episode began, not before the step that
    proved it: a dead network is proven only after a flat stretch, and a snapshot from inside it is dead too."""

    def __init__(self, dead_steps: int = 100) -> None:
        self.first: Optional[float] = None
        self.dead_steps = dead_steps
        self.window: List[float] = []   # the built-in guard's spikes (core/policy/Spikes.java): the last 100 losses
        self.in_a_row = 0
        self.recent: List[float] = []   # the last dead_steps losses
        self.blowup: Optional[int] = None   # the last step whose loss was over 3× the first, in this cycle

    def new_cycle(self) -> None:
        self.window = []
        self.in_a_row = 0
        self.recent = []
        self.blowup = None

    def see(self, step: int, loss: Optional[float]) -> Optional[Tuple[str, int]]:
        if loss is None or not math.isfinite(loss):
            return "non_finite", step
        if self.first is None:
            self.first = loss
        if loss > 10 * self.first:
            return "diverging", step
        if loss > 3 * self.first:
            self.blowup = step
        if len(self.window) >= 10 and loss >= 2 * sum(self.window) / len(self.window):
            self.in_a_row += 1
            if self.in_a_row == 5:
                return "spike", step - 4
        else:
            self.in_a_row = 0
            self.window = (self.window + [loss])[-100:]
        self.recent = (self.recent + [loss])[-self.dead_steps:]
        if len(self.recent) == self.dead_steps and all(abs(x - LN10) < 0.15 for x in self.recent):
            # at chance among 10 classes for dead_steps steps: since the blow-up that killed it, if one did
            return "dead", self.blowup if self.blowup is not None else step - self.dead_steps + 1
        return None


def _number(v: Any) -> Optional[float]:
    if v is None:
        return None
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    return float(v)


class FakeGuard(ThreadingHTTPServer):
    """Serves one run, ``r1``, on 127.0.0.1 (``url``). ``rewind_at``: a rewind at that step whatever the loss
    (once); ``probe_at``: a probe of ``factors`` over ``horizon`` at the first append past that step (once)."""

    daemon_threads = True

    def __init__(self, rewind: int = 50, lr_factor: float = 0.1, max_rewinds: int = 3, triggers: bool = True,
                 rewind_at: Optional[int] = None, probe_at: Optional[int] = None,
                 factors: Optional[List[float]] = None, horizon: int = 20, refuse: tuple = ()) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = "http://127.0.0.1:%d" % self.server_address[1]
        self.lock = threading.Lock()
        self.rewind = rewind
        self.lr_factor = lr_factor
        self.max_rewinds = max_rewinds
        self.triggers = Triggers() if triggers else None
        self.rewind_at = rewind_at
        self.probe_at = probe_at
        self.factors = factors or [10, 1, 0.1, 0.01]
        self.horizon = horizon
        self.refuse = refuse   # append fields answered 400, as a server without them answers
        self.create: Optional[Dict[str, Any]] = None
        self.cycle = 0
        self.steps: List[Dict[str, Any]] = []      # the current cycle's, and the kept ones before it
        self.abandoned: List[Dict[str, Any]] = []  # steps after a rewind's step, as the server keeps them
        self.last_step = 0
        self.pending: Dict[str, Dict[str, Any]] = {}
        self.acks: List[Dict[str, Any]] = []
        self.appends: List[Dict[str, Any]] = []
        self.rewinds = 0
        self.ids = 0
        self.stale = 0
        self.violations: List[str] = []
        self.finished: Optional[Dict[str, Any]] = None
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()

    def _command(self, **c: Any) -> None:
        self.ids += 1
        c["id"] = "c%d" % self.ids
        self.pending[c["id"]] = c

    def append(self, body: Dict[str, Any]) -> Dict[str, Any]:
        with self.lock:
            self.appends.append(body)
            cycle = body.get("cycle", 0)
            acks = body.get("acks", [])
            for i, a in enumerate(acks):
                c = self.pending.pop(a["id"], None)
                if c is None:
                    if not any(x["id"] == a["id"] for x in self.acks):
                        self.acks.append(dict(a, op=None))   # a command the test handed the client itself
                    continue
                self.acks.append(dict(a, op=c["op"]))
                if c["op"] == "rewind" and "error" not in a:
                    if i != 0:
                        self.violations.append("rewind ack %s is item %d of its append, not the first" % (a, i))
                    s = a["step"]
                    if s > c["to_step"]:
                        self.violations.append("rewound to %d, after the step asked, %d" % (s, c["to_step"]))
                    self.cycle += 1
                    self.rewinds += 1
                    self.abandoned.extend(x for x in self.steps if x["step"] > s)
                    self.steps = [x for x in self.steps if x["step"] <= s]
                    self.last_step = s
                    if self.triggers is not None:
                        self.triggers.new_cycle()
            if cycle < self.cycle:
                self.stale += 1
                return self._answer(0)
            if cycle > self.cycle:
                self.violations.append("an append of cycle %d while the server is at %d" % (cycle, self.cycle))
            accepted = 0
            for k, step in enumerate(body.get("step", [])):
                if step <= self.last_step:
                    continue
                if self.rewinds and self.steps and step != self.steps[-1]["step"] + 1 and not accepted:
                    self.violations.append("after a rewind to %d the next step is %d" % (self.steps[-1]["step"], step))
                row = {"step": step, "loss": _number(body["loss"][k]), "cycle": self.cycle}
                for col in ("lr", "grad_norm", "sharpness", "stability"):
                    if col in body:
                        row[col] = _number(body[col][k])
                for name, values in body.get("metrics", {}).items():
                    row[name] = _number(values[k])
                self.steps.append(row)
                self.last_step = step
                accepted += 1
                self._judge(row)
            return self._answer(accepted)

    def _judge(self, row: Dict[str, Any]) -> None:
        if any(c["op"] in ("rewind", "stop") for c in self.pending.values()):
            return
        step = row["step"]
        if self.probe_at is not None and step >= self.probe_at:
            self.probe_at = None
            self._command(op="probe", factors=list(self.factors), horizon=self.horizon)
        seen = None
        if self.rewind_at is not None and step >= self.rewind_at:
            self.rewind_at = None
            seen = ("asked", step)
        elif self.triggers is not None:
            seen = self.triggers.see(step, row["loss"])
        if seen is None:
            return
        if self.rewinds >= self.max_rewinds:
            self._command(op="stop", reason="diverged")
        else:
            why, since = seen
            self._command(op="rewind", to_step=max(0, since - self.rewind), lr_factor=self.lr_factor, why=why)

    def _answer(self, accepted: int) -> Dict[str, Any]:
        return {"accepted": accepted, "duplicates": 0, "last_step": self.last_step,
                "commands": [{k: v for k, v in c.items() if k != "why"} for c in self.pending.values()]}


class _Handler(BaseHTTPRequestHandler):
    server: FakeGuard

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        srv = self.server
        if self.path == "/api/runs/r1" and srv.create is not None:
            with srv.lock:
                self._send(200, {"id": "r1", "state": "running", "step": srv.last_step, "cycle": srv.cycle})
        else:
            self._send(404, {"error": "no such run"})

    def do_POST(self) -> None:
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        if self.path == "/api/runs":
            srv.create = body
            self._send(201, {"id": "r1", "state": "running"})
        elif self.path == "/api/runs/r1/steps":
            refused = [k for k in srv.refuse if k in body]
            if refused:
                self._send(400, {"error": "%s: unknown key in an append" % refused[0], "field": refused[0]})
            else:
                self._send(200, srv.append(body))
        elif self.path == "/api/runs/r1/finish":
            srv.finished = body
            self._send(200, {"id": "r1", "state": body.get("state")})
        else:
            self._send(404, {"error": "no such route"})

    def _send(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
