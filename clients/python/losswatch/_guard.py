"""The guard for a script's run: ``init(guard={...})`` asks the server to watch for a blow-up, and the server's
``rewind`` command puts the loop back to a snapshot from before it, with a smaller lr.

``{"on": ["diverging", "non_finite", "spike", "dead"], "rewind": 50, "lr_factor": 0.1, "max_rewinds": 3}`` (the
built-in RunSpec guard's names; the server fills in what is left out and checks the values). On a trigger the
server sends ``{"id", "op": "rewind", "to_step": k, "lr_factor": f}``: the client restores its newest snapshot at
or before k (step s), scales every param group's lr and the scheduler's base lrs by f (compounded with the
factors applied since that snapshot was taken: two rewinds ×0.1 to the same snapshot leave its lr ×0.01), and
acknowledges
``{"id", "step": s}`` as the first item of an append of the next cycle; its steps are numbered from s + 1 on.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional, Tuple

from ._snapshots import Snapshots

TRIGGERS = ("diverging", "non_finite", "spike", "dead")
DEFAULT_REWIND = 50
DEFAULT_LR_FACTOR = 0.1


def guard_spec(guard: Any) -> Optional[Dict[str, Any]]:
    """The create body's ``guard`` for what ``init(guard=...)`` was given: a dict (checked for its shape here,
    for its values by the server), True for the server's defaults, None or False for none."""
    if guard is None or guard is False:
        return None
    if guard is True:
        return {}
    if not isinstance(guard, dict):
        raise TypeError("losswatch: guard must be a dict such as {\"on\": [\"diverging\", \"non_finite\"], "
                        "\"rewind\": 50, \"lr_factor\": 0.1, \"max_rewinds\": 3}, not %r" % (guard,))
    unknown = sorted(set(guard) - {"on", "rewind", "lr_factor", "max_rewinds"})
    if unknown:
        raise ValueError("losswatch: guard: unknown key %r (on, rewind, lr_factor, max_rewinds)" % unknown[0])
    on = guard.get("on")
    if on is not None and (not isinstance(on, (list, tuple)) or not on
                           or any(t not in TRIGGERS for t in on)):
        raise ValueError("losswatch: guard.on must list triggers among %s, not %r" % (", ".join(TRIGGERS), on))
    for key in ("rewind", "max_rewinds"):
        v = guard.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError("losswatch: guard.%s must be an int >= 1, not %r" % (key, v))
    f = guard.get("lr_factor")
    if f is not None and (isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1):
        raise ValueError("losswatch: guard.lr_factor must be in (0, 1), not %r" % (f,))
    spec = dict(guard)
    if on is not None:
        spec["on"] = list(on)
    return spec


class Rewinder:
    """Executes the server's rewinds on the watched loop from the guard's snapshots."""

    def __init__(self, snapshots: Snapshots, watched: Any, lr_factor: float = DEFAULT_LR_FACTOR) -> None:
        self.snapshots = snapshots
        self.watched = watched
        self.lr_factor = lr_factor
        self.rewinds = 0

    def rewind(self, command: Dict[str, Any]) -> Tuple[Optional[int], str]:
        """Goes back as ``command`` says: (the step gone back to, what was done); (None, why not) when it cannot
        (a bad command, or no snapshot that old)."""
        k = command.get("to_step")
        if isinstance(k, float) and k.is_integer():
            k = int(k)
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            return None, "a rewind needs to_step, a step >= 0, not %r" % (k,)
        f = command.get("lr_factor", self.lr_factor)
        try:
            f = float(f)
        except (TypeError, ValueError):
            f = math.nan
        if not (0 < f and math.isfinite(f)):
            return None, "a rewind's lr_factor must be a number > 0, not %r" % (command.get("lr_factor"),)
        state = self.snapshots.at_or_before(k)
        if state is None:
            return None, "no snapshot at or before step %d (kept: %s)" % (
                k, ", ".join(str(s) for s in self.snapshots.steps()) or "none")
        w = self.watched
        before = w.lr()
        self.snapshots.rewind(state)
        # the factor compounds with the ones applied since the snapshot (earlier rewinds, lr commands): a second
        # rewind to the same snapshot goes on from the lr that failed, not from the snapshot's
        wanted = w.scale * f
        w.scale = state.scale
        factor = wanted / state.scale
        lr = w.scale_lr(factor, float("%.12g" % (float(w.lr()) * factor)))   # 0.01, not 0.010000000000000002
        self.rewinds += 1
        return state.step, "back to step %d (asked: %d), lr %.6g -> %.6g" % (state.step, k, float(before), lr)
