"""PyTorch side of BENCHMARKS.md: the same work as src/bench/jmh/io/losswatch/bench, timed in torch.

    /usr/bin/python3 src/bench/python/torch_bench.py            # everything (about a minute)
    /usr/bin/python3 src/bench/python/torch_bench.py --json out.json

(a) one optimizer.step() of sgd(momentum 0.9), adam, adamw, rmsprop, adagrad, all lr 1e-3, on one 1,000-element
    float64 parameter whose grad is fixed and already set (OptimizerStepBench);
(b) a 100,000-step Rosenbrock run with Adam lr 0.001 as torch users write it: zero_grad, loss, backward, step
    (TraceBench.trainer);
(c) the same run with the gradient assigned analytically instead of backward: optimizer and loop cost only.

Single thread (torch.set_num_threads(1)), float64 throughout, as the Java core.
"""
import argparse
import json
import platform
import statistics
import timeit

import torch

DIM = 1000
SEED = 42
STEPS = 100_000

OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9),
    "adam": lambda p: torch.optim.Adam(p, lr=1e-3),
    "adamw": lambda p: torch.optim.AdamW(p, lr=1e-3),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-3),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=1e-3),
}


def step_us(name, number, repeat):
    """Microseconds per optimizer.step() on 1,000 params: median and best over `repeat` runs of `number` steps."""
    gen = torch.Generator().manual_seed(SEED)
    p = torch.nn.Parameter(torch.rand(DIM, generator=gen, dtype=torch.float64) * 2 - 1)
    p.grad = torch.rand(DIM, generator=gen, dtype=torch.float64) * 2 - 1
    opt = OPTIMIZERS[name]([p])
    for _ in range(number):  # warm-up: state created, caches and allocator warm
        opt.step()
    times = [t / number * 1e6 for t in timeit.repeat(opt.step, number=number, repeat=repeat)]
    return statistics.median(times), min(times)


def rosenbrock_autograd(steps):
    x = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=1e-3)
    loss = None
    for _ in range(steps):
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        opt.step()
    return loss.item(), x.detach().tolist()


def rosenbrock_analytic(steps):
    x = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=1e-3)
    loss = None
    for _ in range(steps):
        x1, x2 = x.detach().tolist()
        b = x2 - x1 * x1
        loss = (1 - x1) ** 2 + 100 * b * b
        x.grad = torch.tensor([-2 * (1 - x1) - 400 * x1 * b, 200 * b], dtype=torch.float64)
        opt.step()
    return loss, x.detach().tolist()


def run_ms(fn, steps, repeat):
    """Milliseconds per whole run: median and best of `repeat` runs, after one warm-up run of steps/10."""
    fn(steps // 10)
    result = None
    times = []
    for _ in range(repeat):
        t0 = timeit.default_timer()
        result = fn(steps)
        times.append((timeit.default_timer() - t0) * 1e3)
    return statistics.median(times), min(times), result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--number", type=int, default=20_000, help="optimizer steps per timing in (a)")
    ap.add_argument("--repeat", type=int, default=5, help="timings per optimizer in (a)")
    ap.add_argument("--run-repeat", type=int, default=3, help="whole runs timed in (b) and (c)")
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    print(f"torch {torch.__version__}, python {platform.python_version()}, threads {torch.get_num_threads()}, float64")
    out = {"torch": torch.__version__, "step_us": {}, "rosenbrock_ms": {}}

    print(f"\n(a) optimizer.step() on {DIM} float64 params, us/step ({args.repeat} x {args.number} steps)")
    print(f"{'optimizer':<10} {'median':>10} {'best':>10}")
    for name in OPTIMIZERS:
        med, best = step_us(name, args.number, args.repeat)
        out["step_us"][name] = {"median": med, "best": best}
        print(f"{name:<10} {med:>10.2f} {best:>10.2f}")

    print(f"\n{args.steps}-step rosenbrock, Adam lr 0.001, ms/run ({args.run_repeat} runs)")
    print(f"{'loop':<22} {'median':>10} {'best':>10} {'us/step':>8}  final loss, x")
    for key, label, fn in (("autograd", "(b) backward", rosenbrock_autograd),
                           ("analytic", "(c) analytic grad", rosenbrock_analytic)):
        med, best, (loss, x) = run_ms(fn, args.steps, args.run_repeat)
        out["rosenbrock_ms"][key] = {"median": med, "best": best, "final_loss": loss, "x": x}
        print(f"{label:<22} {med:>10.1f} {best:>10.1f} {med * 1e3 / args.steps:>8.2f}  {loss!r}, {x}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
