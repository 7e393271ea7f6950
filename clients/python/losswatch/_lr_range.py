"""The learning-rate range test's arithmetic, pure and standard library only: the lr ramp, the smoothed loss and
the three suggestions. The server computes the same in Java; ``tests/make_lr_range_fixture.py`` writes the
cases both are held to (``src/test/resources/lr_range/suggestions.json``), so change both or neither.

Every choice below that could go two ways is made the way a second implementation can repeat to the last bit:
plain IEEE double arithmetic in the order written, the first index on ties, Python's slicing and negative
indexing spelled out.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import math

MODES = ("exp", "linear")
STEEPEST_SKIP_BEGIN = 10
STEEPEST_SKIP_END = 1
FASTAI_SKIP_END = 5


def ramp(start: float, end: float, n: int, mode: str = "exp") -> List[float]:
    """The ``n`` learning rates of the test, ``start`` first.

    exp:    ``start * (end / start) ** (i / (n - 1))``
    linear: ``start + (end - start) * (i / (n - 1))``

    for i = 0 .. n-1 (``i / (n - 1)`` a double division; n = 1 gives ``[start]``). The last one is what the
    formula gives, which may differ from ``end`` in the last bit.
    """
    start = float(start)
    end = float(end)
    n = int(n)
    if mode not in MODES:
        raise ValueError("losswatch: mode must be 'exp' or 'linear', not %r" % (mode,))
    if n < 1:
        raise ValueError("losswatch: num_steps must be at least 1, not %d" % n)
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError("losswatch: start_lr and end_lr must be finite")
    if mode == "exp":
        if not (start > 0 and end > 0):
            raise ValueError("losswatch: an exp ramp needs start_lr and end_lr above 0")
        if n == 1:
            return [start]
        ratio = end / start
        return [start * ratio ** (i / (n - 1)) for i in range(n)]
    if n == 1:
        return [start]
    span = end - start
    return [start + span * (i / (n - 1)) for i in range(n)]


class Smoother:
    """The bias-corrected exponential moving average of fastai and Lightning, one loss at a time:

    ``avg = beta * avg + (1 - beta) * loss`` (avg starts at 0), ``smoothed = avg / (1 - beta^(i+1))``,

    where ``beta^(i+1)`` is a running product (``power = power * beta`` per loss, from 1), not a ``pow`` call, so
    any language gets the same bits. A non-finite loss makes this and every later value non-finite.
    """

    def __init__(self, beta: float) -> None:
        beta = float(beta)
        if not 0 <= beta < 1:
            raise ValueError("losswatch: smooth must be in [0, 1), not %r" % beta)
        self.beta = beta
        self.avg = 0.0
        self.power = 1.0

    def add(self, loss: float) -> float:
        beta = self.beta
        self.avg = beta * self.avg + (1 - beta) * float(loss)
        self.power = self.power * beta
        return self.avg / (1 - self.power)


def smooth(losses: Sequence[float], beta: float) -> List[float]:
    """The smoothed values of ``losses`` (see ``Smoother``)."""
    s = Smoother(beta)
    return [s.add(x) for x in losses]


def gradient(values: Sequence[float]) -> List[float]:
    """numpy's and torch's ``gradient`` with unit spacing (edge order 1), for at least 2 values:
    ``g[0] = v[1] - v[0]``, ``g[-1] = v[-1] - v[-2]``, ``g[k] = (v[k+1] - v[k-1]) / 2``."""
    n = len(values)
    if n < 2:
        raise ValueError("gradient needs at least 2 values")
    g = [0.0] * n
    g[0] = values[1] - values[0]
    g[n - 1] = values[n - 1] - values[n - 2]
    for k in range(1, n - 1):
        g[k] = (values[k + 1] - values[k - 1]) / 2
    return g


def _argmin(values: Sequence[float]) -> int:
    """The index of the smallest value, the first on ties (values without NaN)."""
    best = 0
    for k in range(1, len(values)):
        if values[k] < values[best]:
            best = k
    return best


def steepest(lrs: Sequence[float], smoothed: Sequence[float]) -> Optional[float]:
    """PyTorch Lightning's ``LearningRateFinder`` suggestion (skip_begin=10, skip_end=1): the lr where the
    smoothed loss falls fastest.

    ``losses = smoothed[10:-1]`` (Python slicing), keeping only the finite ones; fewer than 2: None. Else
    ``idx = argmin(gradient(losses))`` (first on ties) and the answer is ``lrs[idx + 10]``: as in Lightning the
    index is not mapped back past non-finite values dropped before it (the smoothed loss is non-finite only at
    its end, after a non-finite loss, so in a range test this never matters)."""
    losses = [x for x in smoothed[STEEPEST_SKIP_BEGIN:-STEEPEST_SKIP_END] if math.isfinite(x)]
    if len(losses) < 2:
        return None
    return lrs[_argmin(gradient(losses)) + STEEPEST_SKIP_BEGIN]


def fastai_slice(lrs: Sequence[float], smoothed: Sequence[float], num_steps: int) -> Tuple[List[float], List[float]]:
    """What fastai's ``lr_find`` hands its suggestion functions: ``lrs[num_steps // 10 : -5]`` and the same of the
    smoothed losses (Python slicing: empty when fewer than ``num_steps // 10 + 6`` values), both cut before the
    first NaN loss (infinities stay)."""
    begin = int(num_steps) // 10
    lrs = list(lrs[begin:-FASTAI_SKIP_END])
    losses = list(smoothed[begin:-FASTAI_SKIP_END])
    for k, x in enumerate(losses):
        if math.isnan(x):
            return lrs[:k], losses[:k]
    return lrs, losses


def valley(lrs: Sequence[float], losses: Sequence[float]) -> Optional[float]:
    """fastai's ``valley`` on the fastai slice (``fastai_slice``): the longest valley (the longest strictly
    decreasing subsequence of the losses, ``lds[i]`` its length ending at i), and the lr ``int(L / 3) + int(L / 3 / 2)``
    indexes past its start, ``L = max_end - max_start`` (double divisions, truncated). Fewer than 2 losses: None.

    ``max_start`` is ``max_end - lds[max_end]`` and so can be -1 (a valley at indexes 0..1 found first and never
    bettered); the index is then -1, which fastai (Python, torch) reads as the *last* lr: so does this, on
    purpose: ``if idx < 0: idx += len(lrs)``."""
    n = len(losses)
    if n < 2:
        return None
    max_start = max_end = 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    if idx < 0:
        idx += n
    return lrs[idx]


def minimum_div10(lrs: Sequence[float], losses: Sequence[float]) -> Optional[float]:
    """fastai's ``minimum`` on the fastai slice: the lr of the smallest loss (the first on ties) divided by 10;
    None if the slice is empty."""
    if not losses:
        return None
    return lrs[_argmin(losses)] / 10


def suggestions(lrs: Sequence[float], smoothed: Sequence[float], num_steps: int) -> Dict[str, Optional[float]]:
    """The three suggestions for a test of ``num_steps`` steps (as asked; it may have stopped earlier) that
    recorded these lrs and smoothed losses: ``{"steepest": .., "valley": .., "minimum/10": ..}``, each a float or
    None."""
    lrs = [float(x) for x in lrs]
    smoothed = [float(x) for x in smoothed]
    if len(lrs) != len(smoothed):
        raise ValueError("lrs and smoothed differ in length: %d, %d" % (len(lrs), len(smoothed)))
    f_lrs, f_losses = fastai_slice(lrs, smoothed, num_steps)
    return {
        "steepest": steepest(lrs, smoothed),
        "valley": valley(f_lrs, f_losses),
        "minimum/10": minimum_div10(f_lrs, f_losses),
    }
