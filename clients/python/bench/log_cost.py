"""What ``run.log(step, loss=, lr=, grad_norm=)`` costs the training loop, beside its peers, in one run:

- ``list.append`` of the same four numbers (the floor: what any logging costs at least);
- losswatch's ``run.log`` (a real losswatch server receives the steps);
- the same with ``run.watch(optimizer)``: ``log()`` reads the lr and takes the gradient norm of an MLP of 6
  parameter tensors (64-128-64-10) itself, on the CPU;
- prometheus_client (Debian's python3-prometheus-client) setting three gauges;
- the same, pushing them to Debian's prometheus-pushgateway every step, and every 100 steps.

Each is timed call by call (``perf_counter_ns`` around the call) in two loops: a tight loop that does nothing
else (the worst case: the client's sender thread competes for the GIL), and a real PyTorch training loop between
the calls (an MLP 64-64-10 on the digits, minibatch 64, SGD). Per call: median, p99 and mean; "wall/step" is
the tight loop's elapsed time divided by its steps, so it also holds the work of any background thread.

    mvn -B package -DskipTests                # the server's jar
    apt-get install python3-torch python3-prometheus-client prometheus-pushgateway
    /usr/bin/python3 clients/python/bench/log_cost.py [--rounds 3]
"""

import argparse
import gc
import math
import statistics
import sys
import time

import _procs

import losswatch

clock = time.perf_counter_ns


def timed(call, n, work=None):
    """Per-call nanoseconds of call(step) for steps 1..n, with work() (not timed) before each."""
    out = [0] * n
    start = clock()
    for i in range(n):
        if work is not None:
            work()
        t0 = clock()
        call(i + 1)
        out[i] = clock() - t0
    return out, (clock() - start) / n


def summary(ns):
    s = sorted(ns)
    return statistics.median(s), s[int(len(s) * 0.99)], sum(s) / len(s)


def training_step():
    """A real PyTorch step, as in examples/torch_mlp.py (its cost is not counted): the optimizer's step for the
    last gradients, then a minibatch's forward and backward, so that ``log()`` comes after ``backward()`` as in a
    script. Returns the step and its optimizer (an MLP 64-128-64-10: 6 parameter tensors)."""
    import torch
    sys.path.insert(0, _procs.ROOT + "/examples")
    from torch_mlp import DEFAULT_DATA, load_digits
    x, y = load_digits(DEFAULT_DATA)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.Tanh(), torch.nn.Linear(128, 64), torch.nn.Tanh(),
                                torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(1)

    def step():
        opt.step()
        opt.zero_grad()
        idx = torch.randint(0, len(x), (64,), generator=g)
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
    step()
    return step, opt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tight", type=int, default=200_000, help="calls per tight loop (pushes every step: 1/100)")
    p.add_argument("--train", type=int, default=3_000, help="calls per training loop")
    args = p.parse_args()

    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
    url = _procs.losswatch()
    gateway = _procs.pushgateway()
    print("losswatch %s, pushgateway %s; %s" % (url, gateway, _procs.machine()), file=sys.stderr)

    def variants():
        floor = []
        watched = losswatch.init(name="bench-log-cost-watch", url=url, quiet=True).watch(opt)
        reg = CollectorRegistry()
        g_loss = Gauge("loss", "loss", registry=reg)
        g_lr = Gauge("lr", "lr", registry=reg)
        g_gn = Gauge("grad_norm", "grad norm", registry=reg)
        run = losswatch.init(name="bench-log-cost", url=url, quiet=True)
        lr, gn = 0.1, 1.5

        def append(step):
            floor.append((step, 1.0 / step, lr, gn))

        def log(step):
            run.log(step, loss=1.0 / step, lr=lr, grad_norm=gn)

        def log_watched(step):
            watched.log(step, loss=1.0 / step)

        def gauges(step):
            g_loss.set(1.0 / step)
            g_lr.set(lr)
            g_gn.set(gn)

        def push_each(step):
            gauges(step)
            push_to_gateway(gateway, job="bench", registry=reg)

        def push_100(step):
            gauges(step)
            if step % 100 == 0:
                push_to_gateway(gateway, job="bench", registry=reg)

        return [run, watched], [("list.append (floor)", append, 1), ("losswatch run.log", log, 1),
                     ("losswatch run.log, watch(): lr and grad_norm of 6 tensors", log_watched, 10),
                     ("prometheus_client: 3 gauges set", gauges, 1),
                     ("… + push_to_gateway every step", push_each, 100),
                     ("… + push_to_gateway every 100 steps", push_100, 1)]

    results = {}
    work, opt = training_step()
    for r in range(args.rounds):
        for loop in ("tight", "train"):
            runs, vs = variants()   # new runs each time: their steps start at 1
            for name, call, divide in vs:
                n = args.tight // divide if loop == "tight" else args.train
                gc.collect()
                ns, wall = timed(call, n, None if loop == "tight" else work)
                results.setdefault((loop, name), []).append(summary(ns) + (wall,))
            for run in runs:
                run.finish()
                assert run.dropped_steps == 0 and run._sender.unsent_at_exit == 0
            print("round %d, %s loop: done" % (r + 1, loop), file=sys.stderr)

    print("\n%s\n" % _procs.machine())
    print("| | tight loop: median | p99 | mean | wall/step | in a PyTorch loop: median | p99 | mean |")
    print("|---|---|---|---|---|---|---|---|")
    for name in dict.fromkeys(name for _, name in results):
        row = [name]
        for loop in ("tight", "train"):
            rs = results[(loop, name)]
            med = statistics.median(x[0] for x in rs)
            p99 = statistics.median(x[1] for x in rs)
            mean = statistics.median(x[2] for x in rs)
            row += [fmt(med), fmt(p99), fmt(mean)]
            if loop == "tight":
                row.append(fmt(statistics.median(x[3] for x in rs)))
        print("| " + " | ".join(row) + " |")
    overhead, _ = timed(lambda step: None, 100_000)
    print("\nTimer overhead (an empty timed call), included above: median %s." % fmt(statistics.median(overhead)))

    # the same calls as the training thread's CPU time: robust to a loaded machine's preemption (not to its caches)
    runs, vs = variants()
    cpu = []
    for name, call, divide in vs[:3]:
        cpu.append("%s %s" % (name, fmt(cpu_time(call, 20 if divide > 1 else 100))))
    for run in runs:
        run.finish()
    print("Per call as the training thread's CPU time (thread_time_ns over batches of 1,000 calls, median): "
          + "; ".join(cpu) + ".")


def cpu_time(call, batches, n=1000):
    out = []
    step = 0
    for _ in range(batches):
        t0 = time.thread_time_ns()
        for _ in range(n):
            step += 1
            call(step)
        out.append((time.thread_time_ns() - t0) / n)
    return statistics.median(out)


def fmt(ns):
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f µs" % (ns / 1e3)
    return "%.0f ns" % ns


if __name__ == "__main__":
    main()
