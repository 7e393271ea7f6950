"""A PyTorch MLP on the digits data shipped with losswatch, warmed up to a learning rate that is too high: watch it
diverge in losswatch, apply the advice (from the page, or with curl), and see the loss come down in this script.

    java -jar target/losswatch.jar &                       # the server, http://127.0.0.1:8080
    PYTHONPATH=clients/python /usr/bin/python3 examples/torch_mlp.py

Plain SGD warms up linearly to lr 5 over 300 steps. The loss falls at first; once the lr passes about 1.5
(around step 100) it shoots up from under 2 to 20-100, the server calls the run diverging and advises cutting the
lr ÷10. Applied (`curl -X POST -H 'Content-Type: application/json' -d '{"lr":0.17}' .../api/runs/<id>/lr`, or
the page), the change reaches the optimizer at the next step and, because ``watch()`` scaled the scheduler's
``base_lrs`` too, the warm-up goes on to 0.5 instead of 5: within about a hundred steps the loss is under 0.5 and
it goes on learning (over 95% of the held-out digits right). Left alone, it wobbles between 1 and 100.

The script is paced (``--pace``, steps per second) so a person can follow it; ``--pace 0`` trains flat out.
``--auto-lr`` lets the server apply its advice by itself. Ctrl-C marks the run failed; a stop from the server
ends it.
"""

import argparse
import csv
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "clients", "python"))   # runs from anywhere, uninstalled
import losswatch  # noqa: E402

DEFAULT_DATA = os.path.join(HERE, "..", "src", "main", "resources", "datasets", "digits.csv")


def load_digits(path):
    """8×8 digit images (pixels 0-16, scaled to 0-1) and their labels 0-9."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    x = torch.tensor([[float(v) for v in r[:-1]] for r in rows]) / 16.0
    y = torch.tensor([int(float(r[-1])) for r in rows])
    return x, y


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=DEFAULT_DATA, help="digits.csv (default: the one losswatch ships)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=5.0, help="the lr after the warm-up: too high on purpose (default 5)")
    p.add_argument("--warmup", type=int, default=300, help="steps of linear warm-up to --lr (default 300)")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--pace", type=float, default=20.0, help="steps per second (default 20); 0: as fast as it goes")
    p.add_argument("--auto-lr", action="store_true", help="let the server apply its advice by itself")
    p.add_argument("--name", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--url", default=None, help="the server (default $LOSSWATCH_URL or http://127.0.0.1:8080)")
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    x, y = load_digits(args.data)
    order = torch.randperm(len(x))
    val, train = order[:297], order[297:]   # 1,500 images to train on, 297 to check on
    model = torch.nn.Sequential(torch.nn.Linear(64, args.hidden), torch.nn.Tanh(), torch.nn.Linear(args.hidden, 10))
    if args.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # linear warm-up: lr × step/warmup, then lr (the factor for step s, counted from 0, is applied before step s+1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / max(1, args.warmup)))
    loss_fn = torch.nn.CrossEntropyLoss()

    config = {"model": "mlp 64-%d-10 tanh" % args.hidden, "data": "digits", "batch": args.batch,
              "steps": args.steps, "seed": args.seed,
              "warmup": args.warmup}
    with losswatch.init(name=args.name or "torch-mlp-%s-lr%g" % (args.optimizer, args.lr), url=args.url,
                        config=config, optimizer=optimizer, auto_lr=args.auto_lr) as run:
        run.watch(optimizer, scheduler)   # lr commands scale the schedule too
        print("run %s: %s/#%s" % (run.id, run.url, run.id), flush=True)
        batches = torch.Generator().manual_seed(args.seed + 1)
        next_at = time.monotonic()
        for step in range(1, args.steps + 1):
            idx = train[torch.randint(0, len(train), (args.batch,), generator=batches)]
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            with torch.no_grad():
                val_acc = (model(x[val]).argmax(1) == y[val]).float().mean().item()
            run.log(step, loss=loss.item(), val_acc=val_acc)   # lr, grad_norm: from watch()
            optimizer.step()
            optimizer.zero_grad()
            scheduler.step()
            if step % 100 == 0 or run.stopped:
                print("step %5d  loss %9.4f  lr %.4g  val_acc %.3f" % (step, loss.item(),
                      optimizer.param_groups[0]["lr"], val_acc), flush=True)
            if run.stopped:
                print("stopped by the server at step %d" % step, flush=True)
                break
            if args.pace > 0:   # (after a pause it goes on at its pace, not in a rush to catch up)
                next_at = max(next_at + 1.0 / args.pace, time.monotonic())
                time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main()
