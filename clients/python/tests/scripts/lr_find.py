"""For a test against the server: runs ``losswatch.lr_find`` on a small PyTorch regression (an MLP on fixed random
data, SGD with momentum) and prints one JSON line, "found": the run's id, the lrs, losses and smoothed losses it
recorded, its suggestions, and whether the model and the optimizer came back exactly as they were.

    lr_find.py URL [--steps N] [--start 1e-6] [--end 10] [--mode exp|linear] [--seed 0]

Non-finite numbers print as "NaN", "Infinity", "-Infinity".
"""

import argparse
import json
import math

import torch

import losswatch

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--steps", type=int, default=100)
p.add_argument("--start", type=float, default=1e-6)
p.add_argument("--end", type=float, default=10.0)
p.add_argument("--mode", default="exp")
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()

torch.manual_seed(args.seed)
x = torch.randn(512, 4)
y = x @ torch.tensor([[1.5], [-2.0], [0.5], [3.0]]) + 0.7 + 0.1 * torch.randn(512, 1)
model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
g = torch.Generator().manual_seed(args.seed)


def step_fn():
    idx = torch.randint(0, 512, (64,), generator=g)
    loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
    loss.backward()
    return loss


before_model = {k: v.clone() for k, v in model.state_dict().items()}
before_groups = json.dumps(optimizer.state_dict()["param_groups"])
found = losswatch.lr_find(model, optimizer, step_fn, start_lr=args.start, end_lr=args.end, num_steps=args.steps,
                          mode=args.mode, url=args.url, name="lr range test (script)")
restored = (all(torch.equal(model.state_dict()[k], v) for k, v in before_model.items())
            and json.dumps(optimizer.state_dict()["param_groups"]) == before_groups)


def plain(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, list):
        return [plain(u) for u in v]
    if isinstance(v, dict):
        return {k: plain(u) for k, u in v.items()}
    return v


print(json.dumps({"event": "found", "restored": restored, **plain(found)}), flush=True)
