"""For PythonScriptsIT: a PyTorch regression with two param groups (lr 0.1 and 0.05) under a LambdaLR schedule
(lr × 100/(100 + epoch)), paced, logging every step through ``watch()``; it runs until the server stops it.
Prints JSON lines: "created"; "lr" each time the optimizer's param groups and the scheduler's base_lrs changed
other than by the schedule (a command); "stopped" with the step it stopped at.

    control.py URL [--pace STEPS_PER_SECOND]
"""

import argparse
import json
import time

import torch

import losswatch

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--pace", type=float, default=200.0)
p.add_argument("--steps", type=int, default=1_000_000)
args = p.parse_args()

torch.manual_seed(0)
torch.set_num_threads(1)
x = torch.randn(256, 8)
y = x @ torch.randn(8, 1) + 0.1 * torch.randn(256, 1)
model = torch.nn.Linear(8, 1)
optimizer = torch.optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.05}], lr=0.1)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 100.0 / (100.0 + epoch))

run = losswatch.init(name="control", url=args.url, optimizer=optimizer)
run.watch(optimizer, scheduler)
print(json.dumps({"event": "created", "id": run.id}), flush=True)
base = list(scheduler.base_lrs)
next_at = time.monotonic()
for step in range(1, args.steps + 1):
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    run.log(step, loss=loss.item())
    if list(scheduler.base_lrs) != base:
        base = list(scheduler.base_lrs)
        print(json.dumps({"event": "lr", "step": step, "lrs": [g["lr"] for g in optimizer.param_groups],
                          "base_lrs": base}), flush=True)
    optimizer.step()
    optimizer.zero_grad()
    scheduler.step()
    if run.stopped:
        print(json.dumps({"event": "stopped", "step": step}), flush=True)
        break
    next_at = max(next_at + 1.0 / args.pace, time.monotonic())
    time.sleep(max(0.0, next_at - time.monotonic()))
run.finish()
