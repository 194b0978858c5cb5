#!/usr/bin/python3
"""The python3-torch peer of `baton bench train` (docs/BENCHMARKS.md, "Learning").

Trains the same MLP (features -> 64 -> 32 -> 1, ReLU, sigmoid output via
BCEWithLogits), with Adam lr 1e-3, batch 32, the same number of epochs and the
same intra-op thread count, on the SAME encoded rows that Baton trains on:

    baton bench train --dataset breast_cancer --export-split /tmp/split
    bench/python/train_breast_cancer.py --split /tmp/split

Like Baton's loop it reshuffles the rows every epoch (one index_select per
epoch, then each batch is a slice), reads every batch loss, and reports wall seconds of the training loop
only (data loading and model creation excluded), samples/s and the test AUC
(scikit-learn's roc_auc_score). Uses Debian's python3-torch (same 1.13.1
LibTorch build as Baton links), so the difference is the per-operation cost of
the Python layer.
"""
import argparse
import csv
import json
import time

import torch
from sklearn.metrics import roc_auc_score


def read_split(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header[-1] == "label", f"{path}: the last column must be 'label'"
    x = torch.tensor([[float(v) for v in r[:-1]] for r in body], dtype=torch.float32)
    y = torch.tensor([int(r[-1]) for r in body], dtype=torch.float32)
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", required=True, help="directory with train.csv and test.csv from --export-split")
    ap.add_argument("--hidden", default="64,32")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(a.seed)
    x, y = read_split(f"{a.split}/train.csv")
    x_test, y_test = read_split(f"{a.split}/test.csv")

    layers, width = [], x.shape[1]
    for h in [int(v) for v in a.hidden.split(",")]:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, 1))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    n = x.shape[0]
    steps = 0
    model.train()
    start = time.perf_counter()
    for _ in range(a.epochs):
        perm = torch.randperm(n)
        x_epoch, y_epoch = x.index_select(0, perm), y.index_select(0, perm)
        for s in range(0, n, a.batch):
            xb, yb = x_epoch[s:s + a.batch], y_epoch[s:s + a.batch]
            opt.zero_grad()
            loss = loss_fn(model(xb).view(-1), yb)
            loss.backward()
            opt.step()
            loss.item()  # Baton reads every batch loss too (divergence check)
            steps += 1
    seconds = time.perf_counter() - start

    model.eval()
    with torch.no_grad():
        scores = torch.sigmoid(model(x_test).view(-1)).double().numpy()
    auc = roc_auc_score(y_test.numpy(), scores)
    result = {
        "implementation": "python3-torch " + torch.__version__,
        "epochs": a.epochs, "batch": a.batch, "threads": a.threads, "train_rows": n, "steps": steps,
        "wall_seconds": seconds, "samples_per_second": n * a.epochs / seconds, "test_auc": auc,
    }
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"python3-torch {torch.__version__}: MLP {x.shape[1]}->{a.hidden}->1, {a.epochs} epochs, "
              f"batch {a.batch}, {a.threads} thread(s), {n} training rows")
        print(f"  wall {seconds:.3f} s, {n * a.epochs / seconds:.0f} samples/s, {steps} steps, test AUC {auc:.4f}")


if __name__ == "__main__":
    main()
