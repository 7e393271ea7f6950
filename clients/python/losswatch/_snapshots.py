"""Exact in-memory snapshots of a training loop: what the guard rewinds to and what a look-ahead probe forks from.

A ``State`` holds copies of the model's, the optimizer's and the scheduler's ``state_dict()``s (every tensor
cloned: ``optimizer.state_dict()`` hands out the live tensors), torch's CPU and CUDA RNG states, Python's
``random`` state, and, for a probe (an exact fork), numpy's global RNG state too (when the script loaded numpy),
the gradients and the modules' train/eval modes. ``restore`` puts every bit of it back, so training goes on as it
would have from there.

torch is never imported: it is reached through ``sys.modules`` (a model was given, so the script loaded it).

``Snapshots`` is the guard's ring: one every ``every`` steps, the newest ``keep`` of them within ``max_bytes``,
plus an anchor (the state ``watch()`` found) that is never dropped.
"""

from __future__ import annotations

import collections
import copy
import random
import sys
from typing import Any, Deque, Dict, List, Optional, Tuple

DEFAULT_KEEP = 32
DEFAULT_BYTES = 1 << 30   # 1 GiB


def torch_module() -> Any:
    torch = sys.modules.get("torch")
    if torch is None:
        raise TypeError("losswatch: snapshots need PyTorch: watch(model=...) takes a torch.nn.Module")
    return torch


class State:
    """One captured state, labelled with the step the run was at."""

    __slots__ = ("step", "scale", "model", "optimizer", "scheduler", "rng", "grads", "modes", "nbytes")

    def __init__(self, step: int) -> None:
        self.step = step
        self.scale = 1.0   # the lr scale the client had applied (Watched.scale) when it was taken
        self.model: Optional[Dict[str, Any]] = None
        self.optimizer: Optional[Dict[str, Any]] = None
        self.scheduler: Optional[Dict[str, Any]] = None
        self.rng: Dict[str, Any] = {}
        self.grads: Optional[List[Tuple[Any, Any, Any]]] = None   # (parameter, its grad tensor, a copy) or None
        self.modes: Optional[List[Tuple[Any, bool]]] = None
        self.nbytes = 0

    def __repr__(self) -> str:
        return "<State step %d, %d bytes>" % (self.step, self.nbytes)


class _Copier:
    """Deep copies whose tensors are cloned (to ``device`` when given), counting their bytes."""

    def __init__(self, tensor_type: Any, device: Optional[str]) -> None:
        self.tensor_type = tensor_type
        self.device = device
        self.nbytes = 0

    def __call__(self, value: Any) -> Any:
        if isinstance(value, self.tensor_type):
            t = value.detach()
            t = t.clone() if self.device is None or t.device.type == self.device else t.to(self.device, copy=True)
            self.nbytes += t.numel() * t.element_size()
            return t
        if isinstance(value, dict):
            out = {k: self(v) for k, v in value.items()}
            if isinstance(value, collections.OrderedDict):   # a module's state_dict(), with its _metadata
                out = collections.OrderedDict(out)
                if hasattr(value, "_metadata"):
                    setattr(out, "_metadata", value._metadata)   # the modules' versions: shared, never changed
            return out
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self(v) for v in value) if type(value) is tuple else copy.deepcopy(value)
        if value is None or isinstance(value, (int, float, str, bool, complex, bytes)):
            return value
        return copy.deepcopy(value)


def capture(step: int, model: Any, optimizer: Any, scheduler: Any = None, *, grads: bool = False,
            device: Optional[str] = None) -> State:
    """The loop's state now. ``grads`` also keeps the gradients and the train/eval modes (a probe runs between a
    ``backward()`` and its ``optimizer.step()`` and must leave both as they were). ``device`` None keeps each copy
    where its tensor lives; "cpu" puts them in host memory."""
    torch = torch_module()
    s = State(step)
    c = _Copier(torch.Tensor, device)
    if model is not None:
        s.model = c(model.state_dict())
    s.optimizer = c(optimizer.state_dict())
    if scheduler is not None:
        s.scheduler = c(scheduler.state_dict())
    s.rng = rng_states(torch, numpy=grads)
    if grads:
        s.grads = []
        for p in _parameters(model, optimizer):
            g = p.grad
            s.grads.append((p, g, None if g is None else c(g)))
        s.modes = [(m, m.training) for m in model.modules()] if model is not None else []
    s.nbytes = c.nbytes + sum(_rng_bytes(v) for v in s.rng.values())
    return s


def restore(state: State, model: Any, optimizer: Any, scheduler: Any = None, *, clear_grads: bool = False) -> None:
    """Puts the loop back to ``state``, bit for bit: parameters and buffers, the optimizer's state and
    hyperparameters, the scheduler's, the RNGs, and (when captured) the gradients and modes. ``clear_grads`` sets
    every gradient to None instead: a ``optimizer.step()`` that follows then changes nothing."""
    torch = torch_module()
    if state.model is not None and model is not None:
        model.load_state_dict(state.model)   # copies into the parameters: they stay the same tensors
    optimizer.load_state_dict(state.optimizer)   # deep-copies what it is given
    if state.scheduler is not None and scheduler is not None:
        scheduler.load_state_dict(_Copier(torch.Tensor, None)(state.scheduler))   # torch's keeps what it is given
    set_rng_states(torch, state.rng)
    if state.grads is not None:
        with torch.no_grad():
            for p, g, saved in state.grads:
                if saved is None:
                    p.grad = None
                else:
                    if g is not None and g.shape == saved.shape:
                        g.copy_(saved)   # the same tensor, so a reference the script holds stays good
                    else:
                        g = saved.clone()
                    p.grad = g
        for m, training in state.modes or ():
            m.training = training
    elif clear_grads:
        for p in _parameters(model, optimizer):
            p.grad = None


def _parameters(model: Any, optimizer: Any) -> List[Any]:
    seen: Dict[int, Any] = {}
    for g in optimizer.param_groups:
        for p in g["params"]:
            seen.setdefault(id(p), p)
    if model is not None:
        for p in model.parameters():
            seen.setdefault(id(p), p)
    return list(seen.values())


def rng_states(torch: Any, numpy: bool = True) -> Dict[str, Any]:
    """torch's CPU and CUDA generators' states and Python's; numpy's too (when the script loaded numpy) unless
    ``numpy`` is False: reading it costs about as much as the rest of a small model's snapshot."""
    states: Dict[str, Any] = {"torch": torch.get_rng_state(), "random": random.getstate()}
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and cuda.is_available() and cuda.is_initialized():
        states["cuda"] = cuda.get_rng_state_all()
    np = sys.modules.get("numpy") if numpy else None
    if np is not None:
        states["numpy"] = np.random.get_state()
    return states


def set_rng_states(torch: Any, states: Dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    random.setstate(states["random"])
    if "cuda" in states:
        torch.cuda.set_rng_state_all(states["cuda"])
    if "numpy" in states:
        sys.modules["numpy"].random.set_state(states["numpy"])


def _rng_bytes(value: Any) -> int:
    if isinstance(value, list):
        return sum(_rng_bytes(v) for v in value)
    numel = getattr(value, "numel", None)
    return numel() if numel is not None else 2500   # Python's and numpy's Mersenne Twister: 624 words


class Snapshots:
    """The guard's snapshots: the state at every ``every``-th step, the newest ``keep`` of them and at most
    ``max_bytes`` in all, oldest dropped first, but never the newest nor the one a rewind of ``back`` steps from
    it goes to (the newest at or before its step − ``back``; while none is that old, the oldest): those two stay
    even past the bounds. Bounds too tight to hold ``back // every + 1`` snapshots make a rewind go back further
    than asked, never less. Plus the anchor, never dropped: the state when the watch began. Copies go to host
    memory ("cpu"), so a GPU's memory is not spent on them."""

    def __init__(self, model: Any, optimizer: Any, scheduler: Any = None, *, every: int = 10,
                 keep: int = DEFAULT_KEEP, max_bytes: int = DEFAULT_BYTES, device: Optional[str] = "cpu",
                 back: int = 0) -> None:
        if not (isinstance(every, int) and every >= 1):
            raise ValueError("losswatch: snapshot_every must be an int >= 1, not %r" % (every,))
        if not (isinstance(keep, int) and keep >= 1):
            raise ValueError("losswatch: snapshot_keep must be an int >= 1, not %r" % (keep,))
        if not (isinstance(max_bytes, int) and max_bytes >= 0):
            raise ValueError("losswatch: snapshot_bytes must be an int >= 0, not %r" % (max_bytes,))
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.every = every
        self.keep = keep
        self.max_bytes = max_bytes
        self.device = device
        self.back = back
        self.anchor: Optional[State] = None
        self.recent: Deque[State] = collections.deque()
        self.taken = 0
        self.seconds = 0.0   # spent taking them, for the cost report

    def due(self, step: int) -> bool:
        return step % self.every == 0

    def take(self, step: int, scale: float = 1.0) -> State:
        s = capture(step, self.model, self.optimizer, self.scheduler, device=self.device)
        s.scale = scale
        self.taken += 1
        if self.anchor is None:
            self.anchor = s
            return s
        self.recent.append(s)
        while len(self.recent) > self.keep or self.nbytes() > self.max_bytes:
            # the one a rewind from now would go to; none that old yet: the oldest, the first to be
            needed = next((x for x in reversed(self.recent) if x.step <= step - self.back), self.recent[0])
            victim = next((x for x in self.recent if x is not needed and x is not s), None)
            if victim is None:
                break
            self.recent.remove(victim)
        return s

    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.recent) + (self.anchor.nbytes if self.anchor is not None else 0)

    def steps(self) -> List[int]:
        return ([self.anchor.step] if self.anchor is not None else []) + [s.step for s in self.recent]

    def at_or_before(self, step: int) -> Optional[State]:
        """The newest snapshot at or before ``step``, or None."""
        for s in reversed(self.recent):
            if s.step <= step:
                return s
        if self.anchor is not None and self.anchor.step <= step:
            return self.anchor
        return None

    def rewind(self, state: State) -> None:
        """Goes back to ``state``: restores it (gradients cleared, so an ``optimizer.step()`` that follows changes
        nothing) and forgets the snapshots after it: they belong to the abandoned steps."""
        restore(state, self.model, self.optimizer, self.scheduler, clear_grads=True)
        kept = [s for s in self.recent if s.step <= state.step]
        self.recent.clear()
        self.recent.extend(kept)
