"""``lr_find``: the learning-rate range test, streamed as a losswatch run. torch is never imported: only the
model, optimizer and step function given are used."""

from __future__ import annotations

import copy
import math
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _lr_range
from ._watch import Watched, _set

DEFAULT_FINISH_TIMEOUT = 2.0


def lr_find(model: Any, optimizer: Any, step_fn: Callable[[], Any], start_lr: float = 1e-7, end_lr: float = 10,
            num_steps: int = 100, mode: str = "exp", smooth: float = 0.98, stop_factor: Optional[float] = 4,
            url: Any = None, token: Optional[str] = None, name: Optional[str] = None,
            **options: Any) -> Dict[str, Any]:
    """Runs the learning-rate range test and returns what it found; the model and the optimizer are left as they
    were (their ``state_dict()``s, and the parameters' gradients, are put back, also after an exception).

    For step i = 0 .. ``num_steps``-1 every param group's lr is set to the ramp's ``lr_i`` (``mode`` "exp":
    ``start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))``, "linear": evenly spaced), then
    ``optimizer.zero_grad()``, ``loss = step_fn()`` and ``optimizer.step()``. ``step_fn()`` is yours: it computes
    the loss on a minibatch, calls ``loss.backward()`` and returns the loss (a tensor or a number). The loss is
    smoothed (``smooth``, as fastai and Lightning do) and the test stops early once the smoothed loss passes
    ``stop_factor`` times its lowest value (None: never), or at a NaN or infinite loss, or when the server says
    stop.

    Each step is logged to a losswatch run named ``name`` ("lr range test" by default) at ``url`` with
    ``token`` (as ``init``: ``$LOSSWATCH_URL``, ``$LOSSWATCH_TOKEN``): ``loss``, ``lr``, ``grad_norm`` and
    ``smoothed``. If the server cannot be reached the test runs all the same. ``options`` are ``init``'s
    (``quiet``, ``spool_dir``, ...); ``finish_timeout`` defaults to 2 s here.

    Returns ``{"run": the run's id or None, "lr": [...], "loss": [...], "smoothed": [...],
    "suggestions": {"steepest": lr, "valley": lr, "minimum/10": lr}}``, a suggestion None when there are too few
    points: ``steepest`` is PyTorch Lightning's (where the smoothed loss falls fastest), ``valley`` and
    ``minimum/10`` fastai's.
    """
    from . import LosswatchError, init   # here: the package imports this module

    num_steps = int(num_steps)
    lrs_planned = _lr_range.ramp(start_lr, end_lr, num_steps, mode)
    smoother = _lr_range.Smoother(smooth)
    if stop_factor is not None:
        stop_factor = float(stop_factor)
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups:
        raise TypeError("losswatch: lr_find() takes an optimizer with param_groups (a torch.optim.Optimizer), "
                        "not %r" % (optimizer,))
    if not callable(step_fn):
        raise TypeError("losswatch: lr_find()'s step_fn must be a function returning the loss")
    watched = Watched(optimizer)
    options.setdefault("finish_timeout", DEFAULT_FINISH_TIMEOUT)
    lr_range = {"start_lr": float(start_lr), "end_lr": float(end_lr), "num_steps": num_steps, "mode": mode,
                "smooth": float(smooth), "stop_factor": stop_factor}
    name = name or "lr range test"
    try:
        # the create body's lr_range makes the run a range test on the server: its panel, GET /api/lr-range/{id},
        # no alerts or advice; optimizer (its type) labels it
        run = init(name=name, url=url, token=token, optimizer=optimizer, _extra={"lr_range": lr_range}, **options)
    except LosswatchError as e:
        if "lr_range" not in str(e):
            raise
        # a server from before the range-test field: it knows a range test by its config
        run = init(name=name, url=url, token=token, config={"lr_range": lr_range}, optimizer=optimizer, **options)

    lrs, losses, smoothed = [], [], []
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    saved_grads = _grads(model, optimizer)
    error = None
    try:
        best = math.inf
        for i, lr in enumerate(lrs_planned):
            for g in optimizer.param_groups:
                _set(g, "lr", lr)
            optimizer.zero_grad()
            out = step_fn()
            if out is None:
                raise TypeError("losswatch: lr_find()'s step_fn must return the loss, not None")
            loss = float(out)
            s = smoother.add(loss)
            lrs.append(lr)
            losses.append(loss)
            smoothed.append(s)
            run.log(i + 1, loss=loss, lr=lr, grad_norm=watched.grad_norm(), smoothed=s)
            if not (math.isfinite(loss) and math.isfinite(s)):
                break
            if s < best:
                best = s
            if stop_factor is not None and s > stop_factor * best:
                break
            if run.stopped:
                break
            optimizer.step()
    except BaseException as e:
        error = e
        raise
    finally:
        try:
            model.load_state_dict(saved_model)
            optimizer.load_state_dict(saved_optimizer)
            _put_grads(saved_grads)
        finally:
            if error is None:
                run.finish()
            else:
                run.finish("failed", repr(error))
    found = _lr_range.suggestions(lrs, smoothed, num_steps)
    run._say("losswatch: lr range test%s, %d of %d steps: %s" % (
        "" if run.id is None else " " + run.id, len(lrs), num_steps,
        ", ".join("%s %s" % (k, "-" if v is None else "%.3g" % v) for k, v in found.items())))
    return {"run": run.id, "lr": lrs, "loss": losses, "smoothed": smoothed, "suggestions": found}


def _grads(model: Any, optimizer: Any) -> List[Tuple[Any, Any]]:
    """Each parameter (of the model and of the optimizer) with a copy of its gradient, or None."""
    params = {}
    for p in list(model.parameters()) + [p for g in optimizer.param_groups for p in g.get("params", ())]:
        if id(p) not in params:
            g = getattr(p, "grad", None)
            params[id(p)] = (p, None if g is None else g.detach().clone())
    return list(params.values())


def _put_grads(saved: List[Tuple[Any, Any]]) -> None:
    for p, g in saved:
        p.grad = g
