"""For PythonClientIT: trains a little model in plain Python (gradient descent on a least-squares fit) at a steady
pace, logging every step, whatever the server does meanwhile (it is killed and restarted). Prints JSON lines:
"created", "progress" every 500 steps, and at the end "done" with the count of steps it had to spool.

    steady.py URL --steps N --pace STEPS_PER_SECOND [--memory-steps M] [--resume ID --first K]
              [--finish-timeout S]

With ``--resume`` it takes an existing run on again (``init(resume=ID)``) and logs from step K, as a script
restarted from a checkpoint does; the "created" line then has the run's step as the server had it. If the run
stops (``run.stopped``), the loop ends as a real one would and "done" says why.

The loss logged at step s is also 1/s + (s % 7)/1000 + the model's loss, so the test can tell each step's value
came through intact: the test recomputes the same doubles.
"""

import argparse
import json
import time

import losswatch

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--steps", type=int, default=6000)
p.add_argument("--pace", type=float, default=1000.0)
p.add_argument("--memory-steps", type=int, default=100_000)
p.add_argument("--resume", default=None)
p.add_argument("--first", type=int, default=1)
p.add_argument("--finish-timeout", type=float, default=60.0)
args = p.parse_args()

run = losswatch.init(name="steady", url=args.url, memory_steps=args.memory_steps, batch_steps=512,
                     finish_timeout=args.finish_timeout, resume=args.resume)
print(json.dumps({"event": "created", "id": run.id, "step": run.step}), flush=True)

# y = 2x + 1 from 8 points, fitted by gradient descent
xs = [i / 8 for i in range(8)]
ys = [2 * x + 1 for x in xs]
w = b = 0.0
lr = 0.1
next_at = time.monotonic()
for step in range(args.first, args.steps + 1):
    errs = [w * x + b - y for x, y in zip(xs, ys)]
    fit = sum(e * e for e in errs) / len(xs)
    gw = sum(2 * e * x for e, x in zip(errs, xs)) / len(xs)
    gb = sum(2 * e for e in errs) / len(xs)
    run.log(step, loss=1.0 / step + (step % 7) / 1000.0, lr=lr, grad_norm=(gw * gw + gb * gb) ** 0.5, fit=fit)
    w -= lr * gw
    b -= lr * gb
    if step % 500 == 0:
        print(json.dumps({"event": "progress", "step": step}), flush=True)
    if run.stopped:
        break
    if args.pace > 0:
        next_at = max(next_at + 1.0 / args.pace, time.monotonic())
        time.sleep(max(0.0, next_at - time.monotonic()))
run.finish()
print(json.dumps({"event": "done", "id": run.id, "spilled": run.spilled_steps, "dropped": run.dropped_steps,
                  "unsent": run._sender.unsent_at_exit, "stopped": run.stop_reason,
                  "spool": run._sender.spool.path if run._sender.spool else None}), flush=True)
