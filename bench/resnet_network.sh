#!/usr/bin/env bash
# The 3D ResNet-18 hand-off between four real batond (issue 6): time in
# consensus, store, crypto and evaluation against training, per hand-off.
#
#   bench/resnet_network.sh [--dir DIR] [--shape C,D,H,W] [--width W]
#                           [--train N] [--validation M] [--test K]
#                           [--epochs E] [--batch B] [--cycles C]
#                           [--threads T] [--store file|s3] [--seed S]
#                           [--empty-block-ms MS] [--timeout-s S]
#
# Steps: `baton data synth-volumes` writes N training and M validation
# volumes per hospital (hospital-a..d) and K test volumes; a plan passes a 3D
# ResNet-18 (input C,D,H,W, base width W) along the four hospitals for C
# cycles of E local epochs (Adam 1e-3, batch B), vote policy delong 0.05 (a
# voter refuses only a candidate significantly worse on its own validation
# volumes, so that small validation sets do not make every save a coin
# flip); deploy/testnet.sh starts four batond on loopback with T LibTorch
# threads each and a file:// store (or an s3rver process); the script waits
# for the run to end, prints each decided turn, stops the nodes, verifies
# every ledger and prints bench/python/handoff_timings.py's table (also
# written to DIR/timings.json, the run to DIR/status.json, the machine to
# DIR/machine.txt).
#
# Defaults: the paper's shape 1,16,120,160, width 64, 40 training and 8
# validation volumes per hospital, 1 epoch of batch 2 (20 steps, ~30 s of
# training per turn on an idle AMD EPYC core), 1 cycle, 1 thread per node
# (four nodes share the machine's cores), empty blocks every 1000 ms: ~2.5
# min of a 2-core machine; --epochs 5 takes ~10 min. Run it on an otherwise
# idle machine. For a quick check: --shape 1,8,32,32 --width 8 --train 8
# --validation 4.
#
# Deadlines are in blocks, and blocks come every --empty-block-ms while the
# nodes wait for training, so the plan's save deadline is set from a
# generous estimate of the training time at this shape (~10 us per voxel
# per sample at width 64 on one core, x4 margin, at least 10 min).
#
# DIR defaults to ./bench-out/resnet-network-YYYYmmdd-HHMMSS and must not
# hold an earlier run. Binaries come from $BATON_BUILD_DIR/bin (default
# build/bin). Exit status 0 only when the run finished, at least one hand-off
# was approved and every ledger verified.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=deploy/s3rver.sh
source "$ROOT/deploy/s3rver.sh"
DIR=""
SHAPE="1,16,120,160"
WIDTH=64
TRAIN=40
VALIDATION=8
TEST=8
EPOCHS=1
BATCH=2
CYCLES=1
THREADS=1
STORE_KIND=file
SEED=1
EMPTY_MS=1000
TIMEOUT_S=""
HOSPITALS=(hospital-a hospital-b hospital-c hospital-d)
RUN_ID=resnet

usage() { sed -n '2,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "resnet_network.sh: $*" >&2; exit 1; }
need() { [[ $# -ge 2 && -n "$2" ]] || { echo "resnet_network.sh: $1 needs a value (see --help)" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) need "$@"; DIR="$2"; shift ;;
    --shape) need "$@"; SHAPE="$2"; shift ;;
    --width) need "$@"; WIDTH="$2"; shift ;;
    --train) need "$@"; TRAIN="$2"; shift ;;
    --validation) need "$@"; VALIDATION="$2"; shift ;;
    --test) need "$@"; TEST="$2"; shift ;;
    --epochs) need "$@"; EPOCHS="$2"; shift ;;
    --batch) need "$@"; BATCH="$2"; shift ;;
    --cycles) need "$@"; CYCLES="$2"; shift ;;
    --threads) need "$@"; THREADS="$2"; shift ;;
    --store) need "$@"; STORE_KIND="$2"; shift ;;
    --seed) need "$@"; SEED="$2"; shift ;;
    --empty-block-ms) need "$@"; EMPTY_MS="$2"; shift ;;
    --timeout-s) need "$@"; TIMEOUT_S="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "resnet_network.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for v in WIDTH TRAIN VALIDATION TEST EPOCHS BATCH CYCLES THREADS EMPTY_MS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "resnet_network.sh: ${v,,} must be a positive number, got '${!v}'" >&2; exit 2; }
done
[[ $SEED =~ ^[0-9]+$ ]] || { echo "resnet_network.sh: --seed must be a number, got '$SEED'" >&2; exit 2; }
[[ $SHAPE =~ ^[1-9][0-9]*(,[1-9][0-9]*){3}$ ]] \
  || { echo "resnet_network.sh: --shape must be C,D,H,W (positive numbers), got '$SHAPE'" >&2; exit 2; }
[[ $STORE_KIND == file || $STORE_KIND == s3 ]] \
  || { echo "resnet_network.sh: --store must be file or s3, got '$STORE_KIND'" >&2; exit 2; }
[[ -z $TIMEOUT_S || $TIMEOUT_S =~ ^[1-9][0-9]*$ ]] \
  || { echo "resnet_network.sh: --timeout-s must be a positive number, got '$TIMEOUT_S'" >&2; exit 2; }
(( VALIDATION >= 2 )) || { echo "resnet_network.sh: --validation must be at least 2 (one volume of each class)" >&2; exit 2; }

BIN="${BATON_BUILD_DIR:-$ROOT/build}/bin"
BATON="$BIN/baton"
for b in baton baton-learn batond; do
  [[ -x $BIN/$b ]] || die "$BIN/$b was not built; run deploy/bootstrap.sh (or set BATON_BUILD_DIR)"
done
export BATON_BIN_DIR="$BIN"

[[ -n $DIR ]] || DIR="$ROOT/bench-out/resnet-network-$(date -u +%Y%m%d-%H%M%S)"
[[ -e $DIR/nodes.json ]] && die "$DIR already holds a network; pick another --dir"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

STEP="starting"
S3_PID=""
NET_UP=0
cleanup() {
  local rc=$?
  set +e
  [[ $NET_UP == 1 ]] && "$ROOT/deploy/testnet.sh" down --dir "$DIR" >/dev/null 2>&1
  if [[ -n $S3_PID ]]; then kill "$S3_PID" 2>/dev/null; wait "$S3_PID" 2>/dev/null; fi
  [[ $rc == 0 ]] || echo "resnet_network.sh: FAILED while ${STEP} (exit $rc; files and node logs in $DIR)" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
step() { STEP="$1"; printf '\n== %s\n' "$1"; }

partners="$(IFS=,; echo "${HOSPITALS[*]}")"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm); $(nproc) cores; $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "args: shape $SHAPE width $WIDTH train $TRAIN validation $VALIDATION test $TEST epochs $EPOCHS" \
       "batch $BATCH cycles $CYCLES threads $THREADS store $STORE_KIND seed $SEED empty_block_ms $EMPTY_MS"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$DIR/machine.txt"
echo "bench directory: $DIR"
sed 's/^/  /' "$DIR/machine.txt"

step "writing synthetic volumes (baton data synth-volumes)"
"$BATON" data synth-volumes --out "$DIR/volumes" --hospitals "$partners" --train "$TRAIN" \
  --validation "$VALIDATION" --test "$TEST" --shape "$SHAPE" --seed "$SEED"

step "writing the training plan"
read -r SAVE_BLOCKS VOTE_BLOCKS TURN_S < <(python3 - "$DIR/plan.json" "$RUN_ID" "$partners" "$SHAPE" \
  "$WIDTH" "$TRAIN" "$VALIDATION" "$EPOCHS" "$BATCH" "$CYCLES" "$SEED" "$EMPTY_MS" <<'EOF'
import json, math, sys
out, run_id, partners, shape, width, train, val, epochs, batch, cycles, seed, empty_ms = sys.argv[1:13]
shape = [int(x) for x in shape.split(",")]
width, train, val, epochs, batch, cycles, seed, empty_ms = map(
    int, (width, train, val, epochs, batch, cycles, seed, empty_ms))
# Seconds per sample for forward + backward + Adam, from docs/BENCHMARKS.md
# (5.98 s per step of batch 2 at 1x16x120x160, width 64, one core): ~9.7 us
# per voxel; convolutions scale with the width squared. x4 margin for a
# shared machine, and never under 10 minutes.
voxels = 1
for d in shape:
    voxels *= d
per_sample = 10e-6 * voxels * max(1.0, (width / 64.0) ** 2)
train_s = per_sample * train * epochs
save_s = max(600.0, 4 * train_s + 120)
# A voter fetches, opens and scores the candidate (and the head once) on its
# validation volumes; three voters share the cores.
vote_s = max(300.0, 4 * (2 * val * per_sample / 3) * 3 + 120)
blocks = lambda s: int(math.ceil(s * 1000.0 / empty_ms))
plan = {
    "run_id": run_id,
    "model": {"architecture": "resnet3d", "hidden": [width], "input_shape": shape,
              "num_classes": 2},
    "dataset": {"feature_columns": ["volume"], "label_column": "label", "positive_value": "1"},
    "partners": partners.split(","),
    "cycles": cycles,
    "training": {"epochs": epochs, "batch_size": batch, "optimizer": "adam",
                 "learning_rate": 0.001, "weight_decay": 0, "seed": seed},
    # A voter refuses only a candidate significantly worse than the head on
    # its own validation volumes (one-sided DeLong): with a few volumes per
    # voter, "strict" would make every hand-off a coin flip.
    "vote_policy": {"kind": "delong", "alpha": 0.05},
    "quorum": {"num": 1, "den": 2},
    "deadlines": {"load_blocks": blocks(120), "save_blocks": blocks(save_s),
                  "vote_blocks": blocks(vote_s)},
}
json.dump(plan, open(out, "w"), indent=2)
print(plan["deadlines"]["save_blocks"], plan["deadlines"]["vote_blocks"], int(math.ceil(train_s)))
EOF
)
echo "  run $RUN_ID: 3D ResNet-18 (input $SHAPE, width $WIDTH), $partners, $CYCLES cycle(s) x $EPOCHS epoch(s)"
echo "  of batch $BATCH on $TRAIN volumes; delong 0.05; ~${TURN_S} s of training per turn estimated"
echo "  deadlines: save $SAVE_BLOCKS blocks, votes $VOTE_BLOCKS blocks (one block per ${EMPTY_MS} ms when idle)"
if [[ -z $TIMEOUT_S ]]; then
  TIMEOUT_S=$(( (${#HOSPITALS[@]} * CYCLES) * (3 * TURN_S + 120) + 300 ))
fi

STORE_ARGS=()
if [[ $STORE_KIND == s3 ]]; then
  step "starting s3rver on loopback"
  start_s3rver "$ROOT" "$DIR" baton-bench
  STORE_ARGS=(--store "s3://baton-bench/models" --store-endpoint "$S3_ENDPOINT")
else
  mkdir -p "$DIR/store"
  STORE_ARGS=(--store "file://$DIR/store")
fi

step "starting four batond on loopback (deploy/testnet.sh, $THREADS LibTorch thread(s) each)"
NET_UP=1
"$ROOT/deploy/testnet.sh" up --dir "$DIR" --names "$partners" --chain-id baton-resnet-bench \
  --empty-block-ms "$EMPTY_MS" --plan "$DIR/plan.json" "${STORE_ARGS[@]}" --data "$DIR/volumes" \
  --torch-threads "$THREADS"
URL="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["admin_url"])' "$DIR/nodes.json")"

step "training (baton run status --node $URL; up to $TIMEOUT_S s)"
deadline=$((SECONDS + TIMEOUT_S))
seen=0
while :; do
  if ! status="$("$BATON" run status --node "$URL" --json 2>"$DIR/status.err")"; then
    (( SECONDS < deadline )) || die "the node at $URL stopped answering: $(cat "$DIR/status.err")"
    sleep 2; continue
  fi
  printf '%s' "$status" >"$DIR/status.json"
  read -r run_status decided lines < <(python3 - "$DIR/status.json" "$seen" "$RUN_ID" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1])); seen = int(sys.argv[2])
run = next((r for r in st["runs"] if r["run_id"] == sys.argv[3]), None)
if run is None:
    print("none", seen, ""); sys.exit()
done = [t for t in run["turns"] if t["decision"] != "pending"]
out = []
for t in done[seen:]:
    votes = ", ".join("%s %s AUC %.3f on %d" % (v["voter"], "yes" if v["approve"] else "no",
                                                v["auc_candidate_ppm"] / 1e6, v["validation_size"])
                      for v in t["votes"])
    out.append("turn %d %-10s %s (blocks %d-%d)%s" % (t["turn"], t["partner"], t["decision"],
                                                     t["start_height"], t["end_height"],
                                                     ": " + votes if votes else ""))
print(run["status"], len(done), "\x1f".join(out))
EOF
)
  if [[ -n $lines ]]; then printf '  %s\n' "${lines//$'\x1f'/$'\n  '}"; fi
  seen=$decided
  [[ $run_status == finished ]] && break
  (( SECONDS < deadline )) || die "the run did not finish within $TIMEOUT_S s (see $DIR/nodes/*/batond.log)"
  sleep 2
done
echo "  loadavg at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$DIR/machine.txt"

step "stopping the nodes and verifying every ledger (baton ledger verify)"
"$ROOT/deploy/testnet.sh" down --dir "$DIR" >/dev/null
NET_UP=0
for h in "${HOSPITALS[@]}"; do
  "$BATON" ledger verify --data-dir "$DIR/nodes/$h/data/ledger" --genesis "$DIR/genesis.json" --json \
    >"$DIR/verify-$h.json" || die "the ledger of $h does not verify"
done
echo "  all four ledgers verify from genesis"
if [[ -n $S3_PID ]]; then kill "$S3_PID" 2>/dev/null || true; wait "$S3_PID" 2>/dev/null || true; S3_PID=""; fi

step "hand-off timings (bench/python/handoff_timings.py $DIR)"
python3 "$ROOT/bench/python/handoff_timings.py" "$DIR" --json >"$DIR/timings.json" \
  || die "no approved hand-off with complete timings (see $DIR/status.json)"
python3 "$ROOT/bench/python/handoff_timings.py" "$DIR"
python3 - "$DIR/timings.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
b = [x["blob_bytes"] for x in t["turns"]]
print("blob %.1f MiB; %d training volumes per turn" % (max(b) / 2**20, t["turns"][0]["train_rows"]))
EOF
echo "bench OK in $SECONDS s; figures in $DIR/timings.json, machine in $DIR/machine.txt"
