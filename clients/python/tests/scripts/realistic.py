"""For PythonScriptsIT: a training script shaped like a real one. An MLP 64-128-64-10 on the digits losswatch ships,
minibatches of 64 from a DataLoader with two worker processes (forked), SGD with momentum and two param groups
(weights and biases at different lrs) under a StepLR schedule, ``watch()`` filling in the lr and the gradient
norm, the loss passed as a tensor, a validation pass every epoch logged as metrics named as people name them.
A ``multiprocessing`` child (fork) tries to log too, and must be told no.

Prints JSON lines: "created"; "child" with what the forked child's log() said; and at the end "done" with every
value the script logged, for the test to compare with the server's history (the gradient norm computed here
independently, one tensor at a time).

    realistic.py URL [--epochs N]
"""

import argparse
import csv
import json
import math
import multiprocessing
import os

import torch

import losswatch

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--epochs", type=int, default=3)
args = p.parse_args()

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "..", "src", "main", "resources", "datasets", "digits.csv")
with open(DATA, newline="") as f:
    rows = list(csv.reader(f))[1:]
x = torch.tensor([[float(v) for v in r[:-1]] for r in rows]) / 16.0
y = torch.tensor([int(float(r[-1])) for r in rows])
train = torch.utils.data.TensorDataset(x[:1500], y[:1500])
val_x, val_y = x[1500:], y[1500:]

torch.manual_seed(0)
torch.set_num_threads(1)
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
                            torch.nn.Linear(64, 10))
weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
optimizer = torch.optim.SGD([{"params": weights}, {"params": biases, "lr": 0.05}], lr=0.1, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.7)
loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True, num_workers=2,
                                     multiprocessing_context="fork", persistent_workers=False)

run = losswatch.init(name="realistic", url=args.url, config={"batch": 64, "epochs": args.epochs},
                     optimizer=optimizer, tags=["realistic"], notes="a script shaped like a real one")
run.watch(optimizer, scheduler)
print(json.dumps({"event": "created", "id": run.id}), flush=True)


def child(queue):
    try:
        run.log(10 ** 9, loss=1.0)
        queue.put("no error")
    except losswatch.LosswatchError as e:
        queue.put(str(e))


q = multiprocessing.get_context("fork").Queue()
proc = multiprocessing.get_context("fork").Process(target=child, args=(q,))
proc.start()
said = q.get(timeout=60)
proc.join(60)
print(json.dumps({"event": "child", "said": said, "exitcode": proc.exitcode}), flush=True)

logged = {"step": [], "loss": [], "lr": [], "grad_norm": [], "val_loss": {}, "val/acc": {}}
step = 0
for epoch in range(args.epochs):
    model.train()
    for bx, by in loader:
        step += 1
        loss = torch.nn.functional.cross_entropy(model(bx), by)
        loss.backward()
        run.log(step, loss=loss)
        logged["step"].append(step)
        logged["loss"].append(loss.item())
        logged["lr"].append(optimizer.param_groups[0]["lr"])
        logged["grad_norm"].append(math.sqrt(sum(float(p.grad.norm()) ** 2 for p in model.parameters())))
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
        if run.stopped:
            break
    model.eval()
    with torch.no_grad():
        out = model(val_x)
        val_loss = torch.nn.functional.cross_entropy(out, val_y).item()
        val_acc = (out.argmax(1) == val_y).float().mean().item()
    step += 1   # the validation gets a step of its own, as people log it
    run.log(step, loss=val_loss, metrics={"val_loss": val_loss, "val/acc": val_acc})
    logged["step"].append(step)
    logged["loss"].append(val_loss)
    logged["lr"].append(optimizer.param_groups[0]["lr"])
    logged["grad_norm"].append(math.sqrt(sum(float(p.grad.norm()) ** 2 for p in model.parameters())))
    logged["val_loss"][step] = val_loss
    logged["val/acc"][step] = val_acc
run.finish()
print(json.dumps({"event": "done", "id": run.id, "logged": logged, "dropped": run.dropped_steps,
                  "stopped": run.stop_reason, "unsent": run._sender.unsent_at_exit}), flush=True)
