"""What ``log()`` does in the training loop beyond recording a step, once ``watch()`` was given the means: the
guard's snapshots and the server's ``rewind``, the server's look-ahead ``probe``, and the curvature columns.

``Run.log`` calls, in order: ``before(step)`` (the step's curvature, measured at the state the step ended in),
``apply(command, step)`` for each ``rewind`` or ``probe`` command waiting, then ``after(step)`` (a snapshot when one
is due, unless the step was rewound).
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Dict, Optional, Tuple

from ._curvature import Curvature
from ._guard import DEFAULT_LR_FACTOR, DEFAULT_REWIND, Rewinder
from ._probe import Lookahead, Prober
from ._snapshots import DEFAULT_BYTES, DEFAULT_KEEP, Snapshots

OPS = ("rewind", "probe")
DEFAULT_CURVATURE_EVERY = 200   # a measurement costs 6-13 training steps of the digits MLP: 3-6%


class LoopControl:
    """The guard, the probes and the curvature of one watched loop."""

    def __init__(self, watched: Any, model: Any, step: int, say: Callable[[str], None], *,
                 guard: Optional[Dict[str, Any]] = None, lookahead_spec: Optional[Dict[str, Any]] = None,
                 lookahead: Optional[Lookahead] = None, curvature: Optional[Callable[[], Any]] = None,
                 curvature_every: int = DEFAULT_CURVATURE_EVERY, snapshot_every: Optional[int] = None,
                 snapshot_keep: int = DEFAULT_KEEP, snapshot_bytes: int = DEFAULT_BYTES) -> None:
        self.watched = watched
        self.model = model
        self.say = say
        self.guarded = guard is not None
        self.snapshots: Optional[Snapshots] = None
        self.rewinder: Optional[Rewinder] = None
        if guard is not None and model is not None:
            rewind = guard.get("rewind", DEFAULT_REWIND)
            every = snapshot_every if snapshot_every is not None else max(1, rewind // 5)
            self.snapshots = Snapshots(model, watched.optimizer, watched.scheduler, every=every, keep=snapshot_keep,
                                       max_bytes=snapshot_bytes, back=rewind)
            self.snapshots.take(step, watched.scale)   # the anchor: the state the watch began at
            self.rewinder = Rewinder(self.snapshots, watched, guard.get("lr_factor", DEFAULT_LR_FACTOR))
        elif guard is not None:
            say("losswatch: the run has a guard but watch() was given no model (watch(optimizer, scheduler, "
                "model=model)): rewinds cannot be taken back to a snapshot and are refused")
        if lookahead is not None and model is None:
            raise TypeError("losswatch: watch(lookahead=...) needs the model too: watch(optimizer, scheduler, "
                            "model=model, lookahead=...)")
        if lookahead is not None and not isinstance(lookahead, Lookahead):
            raise TypeError("losswatch: watch(lookahead=...) takes a losswatch.Lookahead(step_fn, batches), not %r"
                            % (lookahead,))
        if lookahead is not None and lookahead_spec is None:
            say("losswatch: watch() was given a lookahead but the run was created without init(lookahead=...): "
                "the server will not ask it for probes")
        self.prober = Prober(lookahead, watched, model, lookahead_spec) if lookahead_spec is not None else None
        self.curvature = Curvature(curvature, watched.optimizer, curvature_every, model) \
            if curvature is not None else None
        self._told: Optional[Tuple[bool, Optional[float]]] = None   # the curvature facts the server was sent
        self._rewound = False

    # ---- inside log()

    def before(self, step: int) -> Optional[Dict[str, Any]]:
        """The step's extra columns: its sharpness and stability when a measurement is due."""
        c = self.curvature
        if c is None or not c.due(step):
            return None
        try:
            m = c.measure()
        except Exception as e:   # the script's closure failed: said once, and no more measurements
            self.curvature = None
            self.say("losswatch: the curvature closure failed at step %d (%s: %s); no more curvature is measured"
                     % (step, type(e).__name__, e))
            return None
        if m is None:
            return None
        extra: Dict[str, Any] = {"sharpness": m.sharpness, "stability": m.stability}
        facts = (m.preconditioned, m.threshold)
        if facts != self._told:
            self._told = facts
            th = m.threshold
            extra["curvature"] = {"preconditioned": m.preconditioned,
                                  "threshold": th if th is None or math.isfinite(th) else None}
        return extra

    def apply(self, command: Dict[str, Any], step: int) -> Tuple[Dict[str, Any], Optional[int]]:
        """Executes a ``rewind`` or ``probe`` at ``step``: (its acknowledgement, the step the run went back to or
        None)."""
        op = command.get("op")
        if op == "rewind":
            if self.rewinder is None:
                why = "no snapshots: watch() was given no model" if self.guarded else "the run has no guard"
                self.say("losswatch: cannot rewind at step %d as the server asks (%s)" % (step, why))
                return {"id": command["id"], "step": step, "error": why}, None
            to, what = self.rewinder.rewind(command)
            if to is None:
                self.say("losswatch: cannot rewind at step %d as the server asks: %s" % (step, what))
                return {"id": command["id"], "step": step, "error": what}, None
            self.say("losswatch: rewound at step %d: %s (%s)" % (step, what, command["id"]))
            self._rewound = True
            return {"id": command["id"], "step": to}, to
        if self.prober is None:
            return {"id": command["id"], "step": step, "outcomes": [], "seconds": 0.0,
                    "refused": "the run was created without init(lookahead=...)"}, None
        ack = self.prober.probe(command, step)
        if "refused" in ack:
            self.say("losswatch: probe %s at step %d refused: %s" % (command["id"], step, ack["refused"]))
        else:
            self.say("losswatch: probe %s at step %d: %s in %.2f s" % (command["id"], step, ", ".join(
                "x%g %s" % (o["factor"], "%.4g" % o["end_loss"] if o["finite"] else "not finite")
                for o in ack["outcomes"]), ack["seconds"]))
        return ack, None

    def after(self, step: int) -> None:
        """A snapshot of the state ``step`` ended in, when one is due (not after a rewind: the state is one)."""
        if self._rewound:
            self._rewound = False
            return
        s = self.snapshots
        if s is not None and s.due(step):
            start = time.perf_counter()
            s.take(step, self.watched.scale)
            s.seconds += time.perf_counter() - start

    def costs(self) -> Dict[str, Any]:
        """What the guard, the probes and the curvature cost so far: counts and seconds."""
        out: Dict[str, Any] = {}
        if self.snapshots is not None:
            out["snapshots"] = {"taken": self.snapshots.taken, "seconds": self.snapshots.seconds,
                                "kept": len(self.snapshots.steps()), "bytes": self.snapshots.nbytes()}
        if self.prober is not None:
            out["probes"] = {"probes": self.prober.probes, "steps": self.prober.steps,
                             "seconds": self.prober.seconds}
        if self.curvature is not None:
            out["curvature"] = {"measured": self.curvature.measured, "seconds": self.curvature.seconds}
        return out
