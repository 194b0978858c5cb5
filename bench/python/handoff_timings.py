#!/usr/bin/env python3
"""Hand-off figures of a real training run, from the partner agents' timings.

    bench/python/handoff_timings.py DEMO_DIR [--json]

DEMO_DIR is a deploy/demo.sh (or deploy/testnet.sh) directory: every
DEMO_DIR/nodes/NAME/data/agent/timings.jsonl is read (format:
docs/OPERATIONS.md, "Timings"). For each approved hand-off, as the partner's
own node saw it:

  wall        load request committed -> save token committed
  consensus   (load request -> load token) + (save request -> save token):
              the votes' round trips through the mempool and the blocks
  train       the partner's local training
  store       fetching the head + uploading the candidate (partner), plus the
              slowest voter's fetch of the candidate
  crypto      opening the head + sealing the candidate (partner), plus the
              slowest voter's hash check, unwrap and open
  eval        the slowest voter's evaluation of the candidate (and the head,
              when it was not cached)
  added       wall - train: everything Baton adds to the training itself

Prints one line per turn, then the medians. Wall-clock figures from one run
on a shared machine: read them with the load average next to them.
"""
import glob
import json
import os
import statistics
import sys


def load(demo_dir):
    lines = []
    for path in sorted(glob.glob(os.path.join(demo_dir, "nodes", "*", "data", "agent", "timings.jsonl"))):
        with open(path) as f:
            lines += [json.loads(l) for l in f if l.strip()]
    return lines


def figures(lines):
    turns = []
    done = {(l["run"], l["turn"], l["node"]): l for l in lines if l.get("phase") == "turn_done"}
    trainers = {(l["run"], l["turn"]): l for l in lines if l.get("phase") == "train_and_save"}
    votes = {}
    for l in lines:
        if l.get("phase") == "vote":
            votes.setdefault((l["run"], l["turn"]), []).append(l)
    for (run, turn), tr in sorted(trainers.items(), key=lambda kv: kv[0][1]):
        obs = done.get((run, turn, tr["node"]))
        if not obs or obs.get("outcome") != "approved":
            continue
        need = ["load_request", "load_token", "save_request", "save_token"]
        if any(k not in obs or not obs[k].get("ms") for k in need):
            continue
        ms = {k: obs[k]["ms"] for k in need}
        vs = votes.get((run, turn), [])
        v_store = max((v["store_s"] for v in vs), default=0.0)
        v_crypto = max((v["crypto_s"] for v in vs), default=0.0)
        v_eval = max((v["eval_s"] for v in vs), default=0.0)
        wall = (ms["save_token"] - ms["load_request"]) / 1000.0
        turns.append({
            "run": run, "turn": turn, "partner": tr["node"],
            "wall_s": wall,
            "consensus_s": ((ms["load_token"] - ms["load_request"]) +
                            (ms["save_token"] - ms["save_request"])) / 1000.0,
            "train_s": tr["train_s"],
            "store_s": tr.get("fetch_store_s", 0.0) + tr["store_s"] + v_store,
            "crypto_s": tr.get("fetch_crypto_s", 0.0) + tr["crypto_s"] + v_crypto,
            "eval_s": v_eval,
            "added_s": wall - tr["train_s"],
            "blob_bytes": tr.get("blob_bytes", 0),
        })
    return turns


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    turns = figures(load(args[0]))
    if not turns:
        print("no approved hand-off with complete timings under " + args[0], file=sys.stderr)
        return 1
    keys = ["wall_s", "consensus_s", "train_s", "store_s", "crypto_s", "eval_s", "added_s"]
    med = {k: statistics.median(t[k] for t in turns) for k in keys}
    if "--json" in sys.argv:
        print(json.dumps({"turns": turns, "median": med, "loadavg": os.getloadavg()}, indent=2))
        return 0
    print("%-5s %-11s %8s %10s %8s %8s %8s %8s %8s" % ("turn", "partner", "wall", "consensus", "train",
                                                    "store", "crypto", "eval", "added"))
    for t in turns:
        print("%-5d %-11s %8.3f %10.3f %8.3f %8.3f %8.3f %8.3f %8.3f" % (
            t["turn"], t["partner"], t["wall_s"], t["consensus_s"], t["train_s"], t["store_s"],
            t["crypto_s"], t["eval_s"], t["added_s"]))
    print("%-17s %8.3f %10.3f %8.3f %8.3f %8.3f %8.3f %8.3f   (seconds, median of %d hand-offs)" % (
        "median", med["wall_s"], med["consensus_s"], med["train_s"], med["store_s"], med["crypto_s"],
        med["eval_s"], med["added_s"], len(turns)))
    print("load average now: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
