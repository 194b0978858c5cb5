#!/usr/bin/env python3
"""Hand-off figures of a real training run, from the partner agents' timings.

    bench/python/handoff_timings.py DIR [--json]

DIR is a deploy/demo.sh, deploy/testnet.sh or bench/resnet_network.sh
directory: every DIR/nodes/NAME/data/agent/timings.jsonl is read (format:
docs/OPERATIONS.md, "Timings"). When DIR/status.json (`baton run status
--json`, which demo.sh and resnet_network.sh write) is there, the deciding
voters of a turn are those whose votes the ledger recorded (the votes up to
the quorum); without it, the voters that finished before the save token.

For each approved hand-off, as the partner's own node saw it (seconds):

  wall        load request committed -> save token committed
  consensus   the transactions' trips through mempool and blocks:
              (load request -> load token) + (partner done -> save request)
              + (save request -> save token) - the critical voter's work
  train       the partner's local training
  store       fetching the head + uploading the candidate (partner), plus the
              critical voter's fetch of the candidate
  crypto      opening the head + sealing the candidate (partner), plus the
              critical voter's hash check, unwrap and open
  io          the plaintext's temporary files, both sides, when the agents
              record them (io_s); "-" when they do not
  serialize   model to bytes and back, both sides, when the agents record it
              (serialize_s, deserialize_s); "-" when they do not
  eval        the critical voter's evaluation of the candidate (and of the
              head, when not kept from its last vote), plus the partner's own
              validation AUC when it records one (eval_s)
  other       added - all of the above but train: the agents waking on
              commits, loading local data, journal fsyncs, waiting for a core
  added       wall - train: everything Baton adds to the training itself
  added%      added / wall

The critical voter is the deciding voter that finished last: the save token
waits for its vote. Its work is its t_end_ms - t_start_ms (fetch, open,
evaluate, journal). Prints one line per turn, then the medians. Wall-clock
figures from one run on a shared machine: read them with the load average
next to them.
"""
import glob
import json
import os
import statistics
import sys


def load(run_dir):
    lines = []
    for path in sorted(glob.glob(os.path.join(run_dir, "nodes", "*", "data", "agent", "timings.jsonl"))):
        with open(path) as f:
            lines += [json.loads(l) for l in f if l.strip()]
    return lines


def recorded_voters(run_dir):
    """{(run, turn): set of voters the ledger recorded}, or None without status.json."""
    path = os.path.join(run_dir, "status.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        status = json.load(f)
    out = {}
    for run in status.get("runs", []):
        for t in run["turns"]:
            out[(run["run_id"], t["turn"])] = {v["voter"] for v in t["votes"]}
    return out


def _sum(trainer, trainer_keys, voter, voter_keys):
    """Sum of the fields the agents recorded; None when neither recorded any."""
    vals = [trainer[k] for k in trainer_keys if k in trainer] + [voter[k] for k in voter_keys if k in voter]
    return sum(vals) if vals else None


def figures(lines, deciding=None):
    turns = []
    done = {(l["run"], l["turn"], l["node"]): l for l in lines if l.get("phase") == "turn_done"}
    trainers = {(l["run"], l["turn"]): l for l in lines if l.get("phase") == "train_and_save"}
    votes = {}
    for l in lines:
        if l.get("phase") == "vote":
            votes.setdefault((l["run"], l["turn"]), []).append(l)
    for (run, turn), tr in sorted(trainers.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        obs = done.get((run, turn, tr["node"]))
        if not obs or obs.get("outcome") != "approved":
            continue
        need = ["load_request", "load_token", "save_request", "save_token"]
        if any(k not in obs or not obs[k].get("ms") for k in need):
            continue
        ms = {k: obs[k]["ms"] for k in need}
        vs = votes.get((run, turn), [])
        if deciding is not None and (run, turn) in deciding:
            vs = [v for v in vs if v["node"] in deciding[(run, turn)]]
        else:
            vs = [v for v in vs if v["t_end_ms"] <= ms["save_token"]]
        if not vs:
            continue
        crit = max(vs, key=lambda v: v["t_end_ms"])
        crit_work = (crit["t_end_ms"] - crit["t_start_ms"]) / 1000.0
        wall = (ms["save_token"] - ms["load_request"]) / 1000.0
        consensus = ((ms["load_token"] - ms["load_request"]) +
                     max(0, ms["save_request"] - tr["t_end_ms"]) +
                     (ms["save_token"] - ms["save_request"])) / 1000.0 - crit_work
        t = {
            "run": run, "turn": turn, "partner": tr["node"], "critical_voter": crit["node"],
            "wall_s": wall,
            "consensus_s": consensus,
            "train_s": tr["train_s"],
            "store_s": tr.get("fetch_store_s", 0.0) + tr["store_s"] + crit["store_s"],
            "crypto_s": tr.get("fetch_crypto_s", 0.0) + tr["crypto_s"] + crit["crypto_s"],
            "io_s": _sum(tr, ("fetch_io_s", "io_s"), crit, ("io_s",)),
            "serialize_s": _sum(tr, ("serialize_s", "deserialize_s"), crit, ("deserialize_s",)),
            "eval_s": tr.get("eval_s", 0.0) + crit["eval_s"],
            "added_s": wall - tr["train_s"],
            "blob_bytes": tr.get("blob_bytes", 0),
            "train_rows": tr.get("train_rows", 0),
        }
        parts = ["consensus_s", "store_s", "crypto_s", "io_s", "serialize_s", "eval_s"]
        t["other_s"] = t["added_s"] - sum(t[k] or 0.0 for k in parts)
        t["added_pct"] = 100.0 * t["added_s"] / wall if wall > 0 else 0.0
        turns.append(t)
    return turns


KEYS = ["wall_s", "consensus_s", "train_s", "store_s", "crypto_s", "io_s", "serialize_s", "eval_s",
        "other_s", "added_s", "added_pct"]
HEAD = ["wall", "consensus", "train", "store", "crypto", "io", "serialize", "eval", "other", "added",
        "added%"]


def medians(turns):
    med = {}
    for k in KEYS:
        vals = [t[k] for t in turns if t[k] is not None]
        med[k] = statistics.median(vals) if vals else None
    return med


def row(values):
    cells = []
    for k, v in zip(KEYS, values):
        if v is None:
            cells.append("%9s" % "-")
        elif k == "added_pct":
            cells.append("%8.1f%%" % v)
        else:
            cells.append("%9.3f" % v)
    return " ".join(cells)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1 or any(a not in ("--json",) for a in sys.argv[1:] if a.startswith("--")):
        print(__doc__, file=sys.stderr)
        return 2
    run_dir = args[0]
    turns = figures(load(run_dir), recorded_voters(run_dir))
    if not turns:
        print("no approved hand-off with complete timings under " + run_dir, file=sys.stderr)
        return 1
    med = medians(turns)
    if "--json" in sys.argv:
        print(json.dumps({"turns": turns, "median": med, "loadavg": os.getloadavg()}, indent=2))
        return 0
    print("%-5s %-11s " % ("turn", "partner") + " ".join("%9s" % h for h in HEAD))
    for t in turns:
        print("%-5d %-11s " % (t["turn"], t["partner"]) + row([t[k] for k in KEYS]))
    print("%-17s " % "median" + row([med[k] for k in KEYS]) +
          "   (seconds; median of %d approved hand-offs)" % len(turns))
    print("load average now: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
