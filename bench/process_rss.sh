#!/usr/bin/env bash
# Resident memory of batond and baton-agent (issue 12): four processes of
# each on loopback, as the demo runs them.
#
#   bench/process_rss.sh [--bin DIR] [--root DIR] [--work DIR] [--epochs E]
#
# --bin  the binaries (default build/bin of this checkout); --root the
# checkout whose deploy/testnet.sh starts them (default this one), so that
# an older build (batond with its partner agent in-process) runs with its
# own script. Prints one line per process and moment:
#   idle    a 4-node network without [training] data, 3 s after it is up
#   start   the demo's network (MLP, 4 hospitals, 2 cycles), just after `up`
#   end     the same processes once the run has finished
# with VmRSS and VmHWM (peak) in MiB, and /proc/loadavg before and after.
# Run it on an idle machine (take the CPU lock).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$HERE/build/bin"; ROOT="$HERE"; WORK=""; EPOCHS=25
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) BIN="$2"; shift ;;
    --root) ROOT="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    --epochs) EPOCHS="$2"; shift ;;
    *) echo "process_rss.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$WORK" ]] || WORK="$(mktemp -d /tmp/baton-rss.XXXXXX)"
mkdir -p "$WORK"
export BATON_BIN_DIR="$BIN"
NET="$ROOT/deploy/testnet.sh"
echo "loadavg before: $(cat /proc/loadavg)"
echo "binaries: $BIN ($(cd "$BIN" && ls batond baton-agent 2>/dev/null | tr '\n' ' '))"

mem() {  # moment nodes.json
  python3 - "$1" "$2" <<'PY'
import json, sys
moment, path = sys.argv[1], sys.argv[2]
def status(pid):
    out = {}
    try:
        for line in open("/proc/%d/status" % pid):
            k, v = line.split(":", 1)
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024.0
    except OSError:
        pass
    return out
for n in json.load(open(path)):
    for field, name in (("pid", "batond"), ("agent_pid", "baton-agent")):
        pid = n.get(field, 0)
        if not pid:
            continue
        s = status(pid)
        if s:
            print("%-5s %-12s %-11s rss %7.1f MiB  peak %7.1f MiB" % (moment, n["name"], name,
                  s.get("VmRSS", 0), s.get("VmHWM", 0)))
PY
}

# Idle: no training data, no plan.
"$NET" up --nodes 4 --dir "$WORK/idle" --names hospital-a,hospital-b,hospital-c,hospital-d >/dev/null
sleep 3
mem idle "$WORK/idle/nodes.json"
"$NET" down --dir "$WORK/idle" >/dev/null

# The demo's run.
"$BIN/baton" data split --csv "$HERE/data/breast_cancer.csv" --label malignant --positive 1 \
  --partners hospital-a,hospital-b,hospital-c,hospital-d --seed 1 --out "$WORK/split" >/dev/null
python3 - "$WORK/split/split.json" "$WORK/plan.json" "$EPOCHS" <<'PY'
import json, sys
features = json.load(open(sys.argv[1]))["feature_columns"]
json.dump({
    "run_id": "demo",
    "model": {"architecture": "mlp", "hidden": [64, 32], "input_shape": [len(features)],
              "num_classes": 2},
    "dataset": {"feature_columns": features, "label_column": "malignant", "positive_value": "1"},
    "partners": ["hospital-a", "hospital-b", "hospital-c", "hospital-d"],
    "cycles": 2,
    "training": {"epochs": int(sys.argv[3]), "batch_size": 32, "optimizer": "adam",
                 "learning_rate": 0.001, "weight_decay": 0, "seed": 1},
    "vote_policy": {"kind": "delong", "alpha": 0.05},
    "quorum": {"num": 1, "den": 2},
    "deadlines": {"load_blocks": 40, "save_blocks": 120, "vote_blocks": 40},
}, open(sys.argv[2], "w"))
PY
mkdir -p "$WORK/store"
"$NET" up --dir "$WORK/run" --names hospital-a,hospital-b,hospital-c,hospital-d \
  --chain-id baton-demo --empty-block-ms 500 --plan "$WORK/plan.json" \
  --store "file://$WORK/store" --data "$WORK/split" >/dev/null
mem start "$WORK/run/nodes.json"
URL="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["admin_url"])' "$WORK/run/nodes.json")"
deadline=$((SECONDS + 300))
until curl -fsS "$URL/training" | python3 -c 'import json,sys; r=json.load(sys.stdin)["runs"]; sys.exit(0 if r and all(x["status"]=="finished" for x in r) else 1)' 2>/dev/null; do
  (( SECONDS < deadline )) || { echo "the run did not finish in 300 s" >&2; "$NET" down --dir "$WORK/run" >/dev/null; exit 1; }
  sleep 0.5
done
mem end "$WORK/run/nodes.json"
"$NET" down --dir "$WORK/run" >/dev/null
echo "loadavg after: $(cat /proc/loadavg)"
