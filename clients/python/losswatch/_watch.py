"""What ``Run.watch`` does with a PyTorch optimizer and scheduler, by duck typing: torch is never imported.

Anything with ``param_groups`` (a list of dicts with an ``"lr"``, and ``"params"`` whose items have ``.grad``)
can be watched, so a hand-written optimizer can take lr commands too.
"""

import math

# the learning rates a torch schedule computes its lr from, as param_group keys (OneCycleLR keeps its own)
_GROUP_LRS = ("initial_lr", "max_lr", "min_lr")
# ... and as the scheduler's attributes (lists, one per group: LambdaLR and most others, CyclicLR)
_SCHEDULER_LRS = ("base_lrs", "max_lrs")


class Watched:
    def __init__(self, optimizer, scheduler=None):
        groups = getattr(optimizer, "param_groups", None)
        if not isinstance(groups, list) or not groups or "lr" not in groups[0]:
            raise TypeError("losswatch: watch() takes an optimizer with param_groups (a torch.optim.Optimizer), "
                            "not %r" % (optimizer,))
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.params = [p for g in groups for p in g.get("params", ())]
        self.scale = 1.0   # the product of the factors scale_lr applied: what a rewind compounds its factor with

    def lr(self):
        lr = self.optimizer.param_groups[0]["lr"]
        return lr if lr.__class__ is float else float(lr)

    def grad_norm(self):
        """The parameters' gradients' 2-norm taken together, as ``clip_grad_norm_`` computes it; None if none has
        a gradient yet."""
        total = None
        for p in self.params:
            g = getattr(p, "grad", None)
            if g is not None:
                n = float(g.norm())
                total = n * n if total is None else total + n * n
        return None if total is None else math.sqrt(total)

    def scale_lr(self, factor, lr=None):
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


def _set(group, key, value):
    """A tensor lr (torch 2's capturable optimizers) is filled in place; a float is replaced."""
    old = group[key]
    if hasattr(old, "fill_"):
        old.fill_(value)
    else:
        group[key] = value
