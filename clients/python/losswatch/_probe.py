"""Look-ahead probes: advice proven on the script's own model (issue 20.3).

``init(lookahead={"horizon": 200, "budget": 0.1})`` tells the server the run can probe; ``run.watch(...,
model=model, lookahead=losswatch.Lookahead(step_fn, batches))`` gives the client the means. On the server's
``{"id", "op": "probe", "factors": [10, 1, 0.1, 0.01], "horizon": H}`` the client, inside ``log()``:

1. captures the loop's exact state (model, optimizer, scheduler, RNGs, gradients, train/eval modes);
2. draws H batches from ``batches``, once: every branch trains on the same ones;
3. for each factor: restores the state, scales the lr (every param group, the scheduler's base lrs), runs
   ``step_fn(batch)`` H times and keeps the losses (a branch stops at its first non-finite loss);
4. restores the state, so the run goes on bit for bit as if nothing had happened (the batches drawn are gone from
   ``batches``, which should therefore be a stream of its own, not the loop's);
5. acknowledges ``{"id", "step", "outcomes": [{"factor", "end_loss", "finite"}, ...], "seconds"}``, ``end_loss``
   the mean of a branch's last max(1, H // 10) losses (null when it went non-finite).

Budget: all probes together train at most ``budget`` × the run's steps (its steps so far, or ``total_steps`` when
the Lookahead was told the run's length, whichever is more); a probe that would pass it is refused, acknowledged
with ``"outcomes": []`` and ``"refused"`` saying why. ``Prober.steps`` and ``Prober.seconds`` are the cost so far.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Dict, Iterable, List, Optional

from ._snapshots import capture, restore

DEFAULT_HORIZON = 200
DEFAULT_BUDGET = 0.1


def lookahead_spec(lookahead: Any) -> Optional[Dict[str, Any]]:
    """The create body's ``lookahead`` for what ``init(lookahead=...)`` was given: ``{"horizon": H, "budget": b}``
    (either may be left out: 200 and 0.1), True for those defaults, None or False for none."""
    if lookahead is None or lookahead is False:
        return None
    if lookahead is True:
        lookahead = {}
    if not isinstance(lookahead, dict):
        raise TypeError("losswatch: init(lookahead=...) takes {\"horizon\": 200, \"budget\": 0.1} or True (the step "
                        "function and the batches go to watch(lookahead=losswatch.Lookahead(...))), not %r"
                        % (lookahead,))
    unknown = sorted(set(lookahead) - {"horizon", "budget"})
    if unknown:
        raise ValueError("losswatch: lookahead: unknown key %r (horizon, budget)" % unknown[0])
    h = lookahead.get("horizon", DEFAULT_HORIZON)
    if isinstance(h, bool) or not isinstance(h, int) or h < 1:
        raise ValueError("losswatch: lookahead.horizon must be an int >= 1, not %r" % (h,))
    b = lookahead.get("budget", DEFAULT_BUDGET)
    if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 < b <= 1:
        raise ValueError("losswatch: lookahead.budget must be in (0, 1], not %r" % (b,))
    return {"horizon": h, "budget": float(b)}


class Lookahead:
    """What the client needs to run look-ahead branches of the script's training.

    ``step_fn(batch)`` trains one step on ``batch`` as the loop does (``zero_grad()``, forward, ``backward()``,
    ``optimizer.step()``, and ``scheduler.step()`` if the loop steps one) and returns the loss (a tensor or a
    number); it must not call ``run.log()``. ``batches`` is an iterable of batches (a DataLoader, a generator, a
    list) kept for the probes: an iterable is iterated again when it runs out. ``total_steps``, when known, is the
    run's planned length, which the budget is a fraction of.
    """

    def __init__(self, step_fn: Callable[[Any], Any], batches: Iterable[Any], total_steps: Optional[int] = None):
        if not callable(step_fn):
            raise TypeError("losswatch: Lookahead's step_fn must be a function step_fn(batch) -> loss, not %r"
                            % (step_fn,))
        if not hasattr(batches, "__iter__") and not hasattr(batches, "__next__"):
            raise TypeError("losswatch: Lookahead's batches must be an iterable of batches, not %r" % (batches,))
        if total_steps is not None and (isinstance(total_steps, bool) or not isinstance(total_steps, int)
                                        or total_steps < 1):
            raise ValueError("losswatch: Lookahead's total_steps must be an int >= 1, not %r" % (total_steps,))
        self.step_fn = step_fn
        self.batches = batches
        self.total_steps = total_steps
        self._it: Any = None

    def draw(self, n: int) -> List[Any]:
        """The next ``n`` batches (fewer only if ``batches`` is an exhausted iterator)."""
        out: List[Any] = []
        restarted = False
        while len(out) < n:
            if self._it is None:
                self._it = iter(self.batches)
            try:
                out.append(next(self._it))
                restarted = False
            except StopIteration:
                self._it = None
                if restarted or hasattr(self.batches, "__next__"):
                    break   # an iterator that ran out (or an empty iterable): no more
                restarted = True
        return out


class Prober:
    """Runs the server's probes on the watched loop, within the budget."""

    def __init__(self, lookahead: Optional[Lookahead], watched: Any, model: Any, spec: Optional[Dict[str, Any]]):
        self.lookahead = lookahead
        self.watched = watched
        self.model = model
        self.horizon = (spec or {}).get("horizon", DEFAULT_HORIZON)
        self.budget = (spec or {}).get("budget", DEFAULT_BUDGET)
        self.steps = 0        # trained in probes so far
        self.seconds = 0.0
        self.probes = 0

    def allowed(self, step: int) -> int:
        """Probe steps the budget allows in all, at ``step``."""
        total = self.lookahead.total_steps if self.lookahead is not None and self.lookahead.total_steps else 0
        return int(self.budget * max(step, total))

    def probe(self, command: Dict[str, Any], step: int) -> Dict[str, Any]:
        """Runs ``command`` at ``step``; returns its acknowledgement."""
        ack: Dict[str, Any] = {"id": command["id"], "step": step}
        factors = command.get("factors")
        horizon = command.get("horizon", self.horizon)
        if isinstance(horizon, float) and horizon.is_integer():
            horizon = int(horizon)
        if (not isinstance(factors, list) or not factors
                or any(isinstance(f, bool) or not isinstance(f, (int, float)) or not (f > 0 and math.isfinite(f))
                       for f in factors)):
            return dict(ack, outcomes=[], seconds=0.0, refused="factors must be a list of numbers > 0, not %r"
                        % (factors,))
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            return dict(ack, outcomes=[], seconds=0.0, refused="horizon must be an int >= 1, not %r" % (horizon,))
        if self.lookahead is None:
            return dict(ack, outcomes=[], seconds=0.0, refused="the script gave no lookahead to watch() (a step "
                        "function and batches: watch(..., model=model, lookahead=losswatch.Lookahead(...)))")
        cost = len(factors) * horizon
        allowed = self.allowed(step)
        if self.steps + cost > allowed:
            return dict(ack, outcomes=[], seconds=0.0, refused="over budget: %d more probe steps would pass %g of "
                        "the run's %d steps (%d; %d spent)" % (cost, self.budget, int(allowed / self.budget),
                                                               allowed, self.steps))
        start = time.perf_counter()
        w = self.watched
        base = capture(step, self.model, w.optimizer, w.scheduler, grads=True)
        scale = w.scale
        batches = self.lookahead.draw(horizon)
        outcomes = []
        try:
            if not batches:
                return dict(ack, outcomes=[], seconds=0.0, refused="lookahead's batches gave no batch")
            for f in factors:
                restore(base, self.model, w.optimizer, w.scheduler)
                w.scale_lr(float(f))
                outcomes.append(self._branch(f, batches))
        finally:
            restore(base, self.model, w.optimizer, w.scheduler)
            w.scale = scale
        seconds = time.perf_counter() - start
        self.probes += 1
        self.seconds += seconds
        return dict(ack, outcomes=outcomes, seconds=round(seconds, 6))

    def _branch(self, factor: Any, batches: List[Any]) -> Dict[str, Any]:
        assert self.lookahead is not None
        losses: List[float] = []
        error = None
        for b in batches:
            try:
                loss = float(self.lookahead.step_fn(b))
            except Exception as e:   # the branch failed (a check of the script's at a huge lr, say): not finite
                error = "%s: %s" % (type(e).__name__, e)
                break
            finally:
                self.steps += 1
            losses.append(loss)
            if not math.isfinite(loss):
                break
        finite = error is None and len(losses) == len(batches) and all(math.isfinite(x) for x in losses)
        k = max(1, len(batches) // 10)
        out: Dict[str, Any] = {"factor": factor, "end_loss": sum(losses[-k:]) / k if finite else None,
                               "finite": finite}
        if error is not None:
            out["error"] = error[:200]
        return out
