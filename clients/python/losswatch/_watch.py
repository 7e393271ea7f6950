"""What ``Run.watch`` does with a PyTorch optimizer and scheduler, by duck typing: torch is never imported.

Anything with ``param_groups`` (a list of dicts with an ``"lr"``, and ``"params"`` whose items have ``.grad``)
can be watched, so a hand-written optimizer can take lr commands too. Where the gradients are torch tensors, torch
is already loaded (``sys.modules``), and its fused ``_foreach_norm`` takes all the norms in one call.
"""

from __future__ import annotations

import math
import sys
from typing import Any, List, Optional

# the learning rates a torch schedule computes its lr from, as param_group keys (OneCycleLR keeps its own)
_GROUP_LRS = ("initial_lr", "max_lr", "min_lr")
# ... and as the scheduler's attributes (lists, one per group: LambdaLR and most others, CyclicLR)
_SCHEDULER_LRS = ("base_lrs", "max_lrs")


class Watched:
    def __init__(self, optimizer: Any, scheduler: Any = None) -> None:
        groups = getattr(optimizer, "param_groups", None)
        if not isinstance(groups, list) or not groups or "lr" not in groups[0]:
            raise TypeError("losswatch: watch() takes an optimizer with param_groups (a torch.optim.Optimizer), "
                            "not %r" % (optimizer,))
        self.optimizer = optimizer
        self.scheduler = scheduler
        self._groups: Optional[list] = None   # the param_groups list params was read from, and its length
        self._ngroups = 0
        self.params: List[Any] = []
        self.scale = 1.0   # the product of the factors scale_lr applied: what a rewind compounds its factor with
        self._fused: Any = None   # (_foreach_norm, stack, linalg.vector_norm) once a torch gradient is seen; False: none

    def lr(self) -> Any:
        """The first param group's lr: a float, or the tensor a capturable optimizer keeps (read later)."""
        return self.optimizer.param_groups[0]["lr"]

    def _parameters(self) -> List[Any]:
        groups = self.optimizer.param_groups
        if groups is not self._groups or len(groups) != self._ngroups:
            # load_state_dict replaces the groups, add_param_group adds one: read the parameters again
            self._groups = groups
            self._ngroups = len(groups)
            self.params = [p for g in groups for p in g.get("params", ())]
        return self.params

    def grad_norm(self) -> Any:
        """The parameters' gradients' 2-norm taken together, as ``clip_grad_norm_`` computes it; None if none has
        a gradient yet. On the CPU a float, from one fused call; on a device (CUDA) a 0-dim tensor on it, computed
        without waiting for the device: the sender thread reads it later, so the training loop never syncs."""
        grads = [g for g in [p.grad for p in self._parameters()] if g is not None]
        if not grads:
            return None
        if self._fused is None:
            self._fused = _fused_norms(grads[0])
        if self._fused is not False:
            foreach_norm, stack, vector_norm = self._fused
            try:
                norms = foreach_norm(grads)
                if grads[0].is_cpu:
                    return math.hypot(*norms)   # 0-dim CPU tensors read as floats
                device = grads[0].device
                if all(g.device == device for g in grads):
                    return vector_norm(stack(norms))
                return math.hypot(*[float(n) for n in norms])   # across devices: one read per tensor
            except (RuntimeError, NotImplementedError, TypeError, AttributeError):
                self._fused = False   # sparse gradients, say: one tensor at a time from now on
        total = 0.0
        for g in grads:
            n = float(g.norm())
            total += n * n
        return math.sqrt(total)

    def scale_lr(self, factor: float, lr: Optional[float] = None) -> float:
        """Scales every group's lr by ``factor``, and what the scheduler computes lrs from, so a schedule keeps
        the change. The first group gets ``lr`` exactly when that is what the factor makes of its lr (so a
        constant lr of 0.03 asked to become 0.003 is 0.003, not 0.0030000000000000005). Returns the first
        group's new lr."""
        groups = self.optimizer.param_groups
        self.scale *= factor
        for i, g in enumerate(groups):
            new = float(g["lr"]) * factor
            if i == 0 and lr is not None and math.isclose(new, lr, rel_tol=1e-9):
                new = float(lr)
            _set(g, "lr", new)
            for k in _GROUP_LRS:
                if k in g and g[k] is not None:
                    _set(g, k, float(g[k]) * factor)
        s = self.scheduler
        if s is not None:
            for attr in _SCHEDULER_LRS:
                values = getattr(s, attr, None)
                if isinstance(values, (list, tuple)):
                    setattr(s, attr, type(values)(float(v) * factor for v in values))
        return float(groups[0]["lr"])


def _fused_norms(grad: Any) -> Any:
    """torch's ``_foreach_norm``, ``stack`` and ``linalg.vector_norm`` where the gradients are torch tensors and
    this torch has them, else False."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(grad, torch.Tensor) or not hasattr(torch, "_foreach_norm"):
        return False
    return torch._foreach_norm, torch.stack, torch.linalg.vector_norm


def _set(group: dict, key: str, value: float) -> None:
    """A tensor lr (torch 2's capturable optimizers) is filled in place; a float is replaced."""
    old = group[key]
    if hasattr(old, "fill_"):
        old.fill_(value)
    else:
        group[key] = value
