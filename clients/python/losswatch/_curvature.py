"""The sharpness of a script's loss and its stability ratio, measured in the training loop (issue 23).

The sharpness λ is the largest eigenvalue of the loss' Hessian H at the current parameters, on the batch the
user's closure computes the loss of. It is found by Lanczos iteration on Hessian-vector products, each a double
backward (``g = ∂loss/∂θ`` with ``create_graph=True``, then ``∂(g·v)/∂θ``), warm-started from the last
measurement's eigenvector, stopping once the top Ritz value's residual is below ``tol`` of it (at most ``iters``
products; the basis holds that many vectors the size of the parameters).

For optimizers that divide the gradient per coordinate by a denominator P (Adam, AdamW, RMSprop, Adagrad) the
sharpness that governs stability is λ(P⁻¹H), measured as the top eigenvalue of the symmetric D·H·D with
D = P^(−1/2) (the same eigenvalues), P read from the optimizer's state: the denominator its last step divided by:
Adam/AdamW √v̂/√(1−β₂ᵗ) + ε with v̂ = ``exp_avg_sq`` (``max_exp_avg_sq`` under amsgrad) and t the state's ``step``;
RMSprop √``square_avg`` + ε (centered: √(``square_avg`` − ``grad_avg``²) + ε); Adagrad √``sum`` + ε.

The stability ratio is lr·λ / threshold, the threshold being where a quadratic of that curvature stops converging
under the optimizer (derived in the server's ``core/curvature/Curvature.java``): plain SGD 2; heavy ball (torch's
momentum μ, dampening τ) 2(1+μ)/(1−τ); Nesterov (2+2μ)/(1+2μ); Adam/AdamW (2+2β₁)/(1−β₁) (38 at β₁ = 0.9: Cohen et
al. 2022; Adam's first-moment bias correction, which fades within a few 1/(1−β₁) steps, left out); RMSprop 2(1+μ)
(2 without momentum); Adagrad 2(1+(t−1)·lr_decay). Below 1 a step is stable along the sharpest direction; above 1 it
overshoots it, more each step. Param groups with lrs other than the first's have the ratio folded into D.

Nothing the run depends on changes: the gradients (``.grad``) are not touched, and the RNG states and the model's
buffers (BatchNorm's running statistics) are put back after the closure ran. torch is reached through
``sys.modules``, never imported.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, Callable, List, Optional, Tuple

from ._snapshots import rng_states, set_rng_states

DEFAULT_ITERS = 20
DEFAULT_TOL = 1e-3

_PRECONDITIONED = ("Adam", "AdamW", "RMSprop", "Adagrad")
_KNOWN = ("SGD",) + _PRECONDITIONED


class Measurement:
    __slots__ = ("sharpness", "stability", "threshold", "preconditioned", "products", "seconds")

    def __init__(self, sharpness: float, stability: Optional[float], threshold: Optional[float],
                 preconditioned: bool, products: int, seconds: float) -> None:
        self.sharpness = sharpness
        self.stability = stability
        self.threshold = threshold
        self.preconditioned = preconditioned
        self.products = products
        self.seconds = seconds

    def __repr__(self) -> str:
        return ("<Measurement sharpness %.6g stability %s threshold %s%s, %d products, %.4f s>"
                % (self.sharpness, self.stability, self.threshold, " preconditioned" if self.preconditioned else "",
                   self.products, self.seconds))


def optimizer_kind(optimizer: Any) -> Optional[str]:
    """torch's optimizer class this one is (or derives from): "SGD", "Adam", ...; None for any other."""
    for cls in type(optimizer).__mro__:
        if cls.__name__ in _KNOWN and cls.__module__.startswith("torch.optim"):
            return cls.__name__
    return None


def threshold(optimizer: Any) -> Optional[float]:
    """lr·λ at which the optimizer's step stops converging along a direction of curvature λ (of P⁻¹H when it
    preconditions); None for an optimizer this does not know."""
    kind = optimizer_kind(optimizer)
    g = optimizer.param_groups[0]
    if kind == "SGD":
        mu, tau = float(g.get("momentum", 0) or 0), float(g.get("dampening", 0) or 0)
        if mu == 0:
            return 2.0
        if g.get("nesterov"):
            return (2 + 2 * mu) / (1 + 2 * mu)
        if mu >= 1:
            return 0.0
        return math.inf if tau >= 1 else 2 * (1 + mu) / (1 - tau)
    if kind in ("Adam", "AdamW"):
        b1 = float(g["betas"][0])
        return math.inf if b1 >= 1 else (2 + 2 * b1) / (1 - b1)
    if kind == "RMSprop":
        mu = float(g.get("momentum", 0) or 0)
        return 0.0 if mu >= 1 else 2 * (1 + mu)
    if kind == "Adagrad":
        t = _first_step(optimizer)
        return 2 * (1 + max(0.0, t - 1) * float(g.get("lr_decay", 0) or 0))
    return None


def _first_step(optimizer: Any) -> float:
    for g in optimizer.param_groups:
        for p in g["params"]:
            st = optimizer.state.get(p)
            if st and "step" in st:
                return float(st["step"])
    return 0.0


def denominators(optimizer: Any) -> Optional[List[Any]]:
    """P per parameter that requires a gradient (in the order of the param groups), as the optimizer's last step
    divided by; None when it does not precondition, or has no state yet (before its first step). A parameter the
    loss never reached has no state: 1 (its rows of H are zero, whatever D does to them)."""
    kind = optimizer_kind(optimizer)
    if kind not in _PRECONDITIONED:
        return None
    out = []
    stateful = False
    for g in optimizer.param_groups:
        eps = float(g["eps"])
        for p in g["params"]:
            if not p.requires_grad:
                continue
            st = optimizer.state.get(p)
            if not st:
                out.append(p.detach().new_ones(p.shape))
                continue
            stateful = True
            if kind in ("Adam", "AdamW"):
                beta2 = float(g["betas"][1])
                v = st["max_exp_avg_sq"] if g.get("amsgrad") else st["exp_avg_sq"]
                bias = math.sqrt(1 - beta2 ** float(st["step"]))
                out.append((v.sqrt() / bias).add_(eps))
            elif kind == "RMSprop":
                avg = st["square_avg"]
                if g.get("centered"):
                    avg = avg.addcmul(st["grad_avg"], st["grad_avg"], value=-1)
                out.append(avg.sqrt().add_(eps))
            else:   # Adagrad
                out.append(st["sum"].sqrt().add_(eps))
    return out if stateful else None


class Curvature:
    """Measures every ``every`` steps (``due``) with ``measure()``; ``closure()`` returns the loss on a batch
    with its graph (no ``backward()``)."""

    def __init__(self, closure: Callable[[], Any], optimizer: Any, every: int, model: Any = None,
                 iters: int = DEFAULT_ITERS, tol: float = DEFAULT_TOL) -> None:
        if not callable(closure):
            raise TypeError("losswatch: curvature= takes a function that returns the loss with its graph, not %r"
                            % (closure,))
        if not (isinstance(every, int) and every >= 1):
            raise ValueError("losswatch: curvature_every must be an int >= 1, not %r" % (every,))
        self.closure = closure
        self.optimizer = optimizer
        self.every = every
        self.model = model
        self.iters = max(1, int(iters))
        self.tol = float(tol)
        self.kind = optimizer_kind(optimizer)
        self.preconditioned = self.kind in _PRECONDITIONED
        self._vector: Any = None   # the last eigenvector (flat, in D-scaled coordinates): the next start
        self.last: Optional[Measurement] = None
        self.measured = 0
        self.seconds = 0.0

    def due(self, step: int) -> bool:
        return step % self.every == 0

    def measure(self) -> Optional[Measurement]:
        """The sharpness and stability now; None when it cannot be measured yet (a preconditioning optimizer
        before its first step). Raises what the closure raises."""
        torch = sys.modules["torch"]
        params = [p for g in self.optimizer.param_groups for p in g["params"] if p.requires_grad]
        if not params:
            return None
        scale = None
        if self.preconditioned:
            p_denoms = denominators(self.optimizer)
            if p_denoms is None:
                return None
            scale = [d.rsqrt() for d in p_denoms]
        scale = _fold_group_lrs(self.optimizer, scale)
        start = time.perf_counter()
        rng = rng_states(torch)
        buffers = [(b, b.detach().clone()) for b in self.model.buffers()] if self.model is not None else []
        try:
            loss = self.closure()
            grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
            pairs = [(p, g) for p, g in zip(params, grads) if g is not None]
            if scale is not None:
                scale = [s for s, g in zip(scale, grads) if g is not None]
            used = [p for p, _ in pairs]
            used_grads = [g for _, g in pairs]
            shapes = [p.shape for p in used]
            sizes = [p.numel() for p in used]
            flat_scale = torch.cat([s.reshape(-1) for s in scale]).detach() if scale is not None else None

            def product(v: Any) -> Any:
                if flat_scale is not None:
                    v = v * flat_scale
                pieces = [c.view(s) for c, s in zip(torch.split(v, sizes), shapes)]
                hv = torch.autograd.grad(used_grads, used, grad_outputs=pieces, retain_graph=True, allow_unused=True)
                out = torch.cat([(h if h is not None else torch.zeros_like(p)).reshape(-1)
                                 for h, p in zip(hv, used)]).detach()
                return out * flat_scale if flat_scale is not None else out

            n = sum(sizes)
            start_vector = self._vector
            if start_vector is None or start_vector.numel() != n:
                gen = torch.Generator().manual_seed(0)
                start_vector = torch.randn(n, generator=gen, dtype=used[0].dtype).to(used[0].device)
            sharpness, vector, products = lanczos(torch, product, start_vector, self.iters, self.tol)
        finally:
            set_rng_states(torch, rng)
            with torch.no_grad():
                for b, saved in buffers:
                    b.copy_(saved)
        self._vector = vector
        th = threshold(self.optimizer)
        lr = float(self.optimizer.param_groups[0]["lr"])
        stability = None if th is None else (lr * sharpness / th if th > 0 else math.inf)
        seconds = time.perf_counter() - start
        self.measured += 1
        self.seconds += seconds
        self.last = Measurement(sharpness, stability, th, self.preconditioned, products, seconds)
        return self.last


def _fold_group_lrs(optimizer: Any, scale: Optional[List[Any]]) -> Optional[List[Any]]:
    """Param groups whose lr is not the first group's: their lr ratio joins D (as √ratio, D·H·D carrying it once)."""
    groups = optimizer.param_groups
    lr0 = float(groups[0]["lr"])
    ratios = [float(g["lr"]) / lr0 if lr0 else 1.0 for g in groups]
    if all(r == 1.0 for r in ratios):
        return scale
    out = []
    i = 0
    for g, r in zip(groups, ratios):
        for p in g["params"]:
            if not p.requires_grad:
                continue
            s = scale[i] if scale is not None else None
            root = math.sqrt(r)
            out.append(s * root if s is not None else p.detach().new_full(p.shape, root))
            i += 1
    return out


def lanczos(torch: Any, product: Callable[[Any], Any], start: Any, iters: int, tol: float) -> Tuple[float, Any, int]:
    """The largest eigenvalue of the symmetric operator ``product`` (Lanczos with full reorthogonalisation from
    ``start``), its Ritz vector, and the products taken. Stops once ``β·|y_last| ≤ tol·|θ|`` (the residual of the
    top Ritz pair) or the Krylov space is exhausted."""
    q = start / start.norm()
    basis = [q]
    alphas: List[float] = []
    betas: List[float] = []
    theta, y = 0.0, None
    products = 0
    n = start.numel()
    for j in range(min(iters, n)):
        w = product(basis[j])
        products += 1
        alpha = float(torch.dot(basis[j].double(), w.double()))
        alphas.append(alpha)
        for _ in range(2):   # full reorthogonalisation, twice: the basis stays orthogonal in float32
            for b in basis:
                w = w - float(torch.dot(b.double(), w.double())) * b
        beta = float(w.double().norm())
        t = torch.zeros(j + 1, j + 1, dtype=torch.float64)
        for i in range(j + 1):
            t[i, i] = alphas[i]
            if i < j:
                t[i, i + 1] = t[i + 1, i] = betas[i]
        values, vectors = torch.linalg.eigh(t)
        theta = float(values[-1])
        y = vectors[:, -1]
        if not math.isfinite(theta):
            break
        if beta * abs(float(y[-1])) <= tol * max(abs(theta), 1e-30) or beta <= 1e-12 * max(abs(theta), 1e-30):
            break
        betas.append(beta)
        basis.append(w / beta)
    if y is None:
        return math.nan, start, products
    ritz = sum(float(y[i]) * basis[i] for i in range(len(y)))
    return theta, ritz, products

