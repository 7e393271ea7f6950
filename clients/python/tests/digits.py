"""Issue 20's test subject: an MLP 64-128-64-10 on the 8×8 digits losswatch ships, minibatches of 64.

The data stream has a generator of its own (not torch's global one), so restoring the RNG states at a rewind or
after a probe does not replay the batches: the stream moves on, as it does in a real loop.
"""

from __future__ import annotations

import csv
import os
from typing import Any, Iterator, Tuple

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CSV = os.path.join(HERE, "..", "..", "..", "src", "main", "resources", "datasets", "digits.csv")
VAL = 297   # held out: 1,500 images to train on


def load(path: str = CSV) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_val, y_val): pixels scaled to 0-1, a fixed split."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    x = torch.tensor([[float(v) for v in r[:-1]] for r in rows]) / 16.0
    y = torch.tensor([int(float(r[-1])) for r in rows])
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    val, train = order[:VAL], order[VAL:]
    return x[train], y[train], x[val], y[val]


def mlp(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
                               torch.nn.Linear(64, 10))


def batches(x: torch.Tensor, y: torch.Tensor, size: int = 64, seed: int = 1) -> Iterator[Tuple[Any, Any]]:
    """Minibatches forever, reshuffled every epoch by a generator of their own."""
    g = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - size + 1, size):
            idx = order[i:i + size]
            yield x[idx], y[idx]


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()
