#!/usr/bin/env bash
# Baton demo: four hospitals train one model together (C-DistriM, issue 6).
#
#   deploy/demo.sh [--dir DIR] [--s3] [--malicious NAME] [--no-bootstrap]
#                  [--cycles C] [--epochs E] [--seed S] [--dp EPS]
#                  [--mode chained|federated] [--rounds R]
#
# It installs what is missing and builds (deploy/bootstrap.sh; skipped with
# --no-bootstrap), splits data/breast_cancer.csv into a held-out test set and
# a train and a validation file per hospital (`baton data split`), writes a
# genesis whose training plan passes an MLP along hospital-a..d for C cycles,
# starts four `batond` on loopback, each with its `baton-agent` (deploy/testnet.sh), with a file:// object
# store (--s3: an s3rver process from .cache/npm). A sponsor (an analyst with
# keys and 1000 credits in the genesis, no node and no data) funds the run,
# which waits for those credits before turn 0 (`baton run fund`), and the
# demo waits while the nodes train, seal, upload and vote. Once the last
# turn's tokens settle the sponsor releases the escrow (`baton run release`:
# each hospital is paid by its tokens), an agent grants it the final model's
# key on the ledger, and the sponsor opens the model with its own key
# (`baton models get`, DIR/sponsor-final.model). Then `baton report` scores
# the final model on the test set against the centralized model (DeLong p),
# the nodes stop, every ledger is verified from genesis, and a summary is
# printed and written to DIR/summary.json: {final_auc, centralized_auc,
# delong_p, turns: [{partner, decision, deposit: {locked, cost, refunded,
# forfeited_to} or null, votes: [...]}], tip_hashes: {node:
# hash}, balances: {member: credits at the end, every genesis member},
# released_to: the sponsor's name once its release committed, else null}.
#
#   --malicious NAME   that hospital trains on label-flipped data (its
#                      candidates should be voted down, its deposit forfeited
#                      to the voters who rejected it, and its later turns
#                      skipped: suspended)
#   --cycles C         passes along the four hospitals (default 2)
#   --epochs E         local epochs per turn (default 25: with 2 cycles every
#                      row is seen 50 times, the centralized model's budget)
#   --dp EPS           train under DP-SGD with a privacy budget of epsilon EPS
#                      per hospital for the run (docs/PROTOCOL.md §20): delta
#                      1e-5, clip 1, sampling rate q = 32 / the smallest
#                      hospital's training rows, and the smallest noise
#                      multiplier that fits all C x E epochs of a hospital in
#                      its budget (`baton privacy noise`). The ledger checks
#                      every turn's epsilon; the summary shows what each
#                      hospital spent (summary.json: privacy, and each turn's
#                      epsilon_turn and epsilon_total)
#   --mode federated   train in parallel instead (docs/PROTOCOL.md §21): R
#                      rounds in which every hospital trains E local epochs
#                      (default 5) from the current model, uploads its update
#                      masked so that only the sum of the updates can be
#                      unmasked (secure aggregation, threshold 3 of 4), and a
#                      hospital aggregates them (FedAvg) into the round's
#                      candidate, voted on like a chained turn. No deposits
#                      (not supported with federated rounds yet), no --dp.
#                      summary.json's turns are the rounds, each with its
#                      contributors and aggregator
#   --rounds R         federated rounds (default 10: with 5 local epochs every
#                      row is seen 50 times)
#
# DIR defaults to ./demo-out/run-YYYYmmdd-HHMMSS and must not hold an earlier
# demo. Hospital NAME's files are in DIR/nodes/NAME (data/ holds its CSVs and
# its ledger). Binaries come from $BATON_BUILD_DIR/bin (default build/bin).
# Exit status 0 only when the run finished with every turn decided by the
# vote (approved or rejected, or skipped as suspended or budget_spent; not
# expired, abandoned or cannot_pay), its final model in
# the store verified against the ledger and opened by the sponsor, and every
# ledger verified.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=deploy/s3rver.sh
source "$ROOT/deploy/s3rver.sh"
DIR=""
S3=0
MALICIOUS=""
BOOTSTRAP=1
CYCLES=2
EPOCHS=25
SEED=1
DP=""
MODE=chained
ROUNDS=10
EPOCHS_SET=0
HOSPITALS=(hospital-a hospital-b hospital-c hospital-d)
SPONSOR=sponsor
ESCROW=1000  # the sponsor's genesis credits, all of them put in escrow
HOSPITAL_CREDITS=100  # each hospital's genesis credits, for its deposits
RUN_TIMEOUT_S="${BATON_DEMO_TIMEOUT_S:-240}"

usage() { sed -n '2,66p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "demo.sh: $*" >&2; exit 1; }
need() { [[ $# -ge 2 && -n "$2" ]] || { echo "demo.sh: $1 needs a value (see --help)" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) need "$@"; DIR="$2"; shift ;;
    --s3) S3=1 ;;
    --malicious) need "$@"; MALICIOUS="$2"; shift ;;
    --no-bootstrap) BOOTSTRAP=0 ;;
    --cycles) need "$@"; CYCLES="$2"; shift ;;
    --epochs) need "$@"; EPOCHS="$2"; EPOCHS_SET=1; shift ;;
    --mode) need "$@"; MODE="$2"; shift ;;
    --rounds) need "$@"; ROUNDS="$2"; shift ;;
    --seed) need "$@"; SEED="$2"; shift ;;
    --dp) need "$@"; DP="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $MODE == chained || $MODE == federated ]] \
  || { echo "demo.sh: --mode must be chained or federated, got '$MODE'" >&2; exit 2; }
if [[ $MODE == federated ]]; then
  [[ -z $DP ]] || { echo "demo.sh: --dp is not supported with --mode federated yet" >&2; exit 2; }
  [[ $EPOCHS_SET == 1 ]] || EPOCHS=5
fi
for v in CYCLES EPOCHS ROUNDS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "demo.sh: --${v,,} must be a positive number, got '${!v}'" >&2; exit 2; }
done
[[ $SEED =~ ^[0-9]+$ ]] || { echo "demo.sh: --seed must be a number, got '$SEED'" >&2; exit 2; }
if [[ -n $DP ]] && ! [[ $DP =~ ^[0-9]+(\.[0-9]+)?$ && $DP =~ [1-9] ]]; then
  echo "demo.sh: --dp must be a positive epsilon such as 3 or 1.5, got '$DP'" >&2; exit 2
fi
if [[ -n $MALICIOUS && " ${HOSPITALS[*]} " != *" $MALICIOUS "* ]]; then
  echo "demo.sh: --malicious must name one of ${HOSPITALS[*]}, got '$MALICIOUS'" >&2; exit 2
fi
[[ -n $DIR ]] || DIR="$ROOT/demo-out/run-$(date -u +%Y%m%d-%H%M%S)"
[[ -e $DIR/nodes.json ]] && die "$DIR already holds a demo network; pick another --dir"

STEP="starting"
S3_PID=""
NET_UP=0
cleanup() {
  local rc=$?
  set +e
  if [[ $NET_UP == 1 ]]; then
    "$ROOT/deploy/testnet.sh" down --dir "$DIR" >/dev/null 2>&1
  fi
  if [[ -n $S3_PID ]]; then
    kill "$S3_PID" 2>/dev/null; wait "$S3_PID" 2>/dev/null
  fi
  if [[ $rc != 0 ]]; then
    echo "demo.sh: FAILED while ${STEP} (exit $rc; files and node logs in $DIR)" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
step() { STEP="$1"; printf '\n== %s\n' "$1"; }

if [[ $BOOTSTRAP == 1 ]]; then
  step "installing missing packages and building (deploy/bootstrap.sh)"
  if [[ $S3 == 1 ]]; then "$ROOT/deploy/bootstrap.sh" --with-test-tools; else "$ROOT/deploy/bootstrap.sh"; fi
fi
BIN="${BATON_BUILD_DIR:-$ROOT/build}/bin"
BATON="$BIN/baton"
for b in baton baton-learn batond baton-agent; do
  [[ -x $BIN/$b ]] || die "$BIN/$b was not built; run deploy/bootstrap.sh and look at its errors"
done
export BATON_BIN_DIR="$BIN"

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
echo "demo directory: $DIR"

step "splitting data/breast_cancer.csv among ${HOSPITALS[*]} (baton data split)"
partners="$(IFS=,; echo "${HOSPITALS[*]}")"
"$BATON" data split --csv "$ROOT/data/breast_cancer.csv" --label malignant --positive 1 \
  --partners "$partners" --seed "$SEED" --out "$DIR/split"

BATCH=32
PRIVACY_JSON="{}"
if [[ -n $DP ]]; then
  step "choosing the DP-SGD noise for a budget of epsilon $DP per hospital (baton privacy noise)"
  # delta 1e-5, not 1/N: a mechanism that published one random row outright
  # would be (0, 1/N)-DP, so delta must sit well below 1/N; with 85 training
  # rows per hospital 1/N is about 0.012, and 1e-5 is the usual choice (it
  # costs more noise: sigma about 8 rather than 5.3 at epsilon 3).
  # q = BATCH / the smallest hospital's rows, rounded up to 1e-9 as the
  # ledger does; an epoch is ceil(1 / q) noisy steps (docs/PROTOCOL.md §20.2).
  read -r Q_TEXT STEPS_PER_EPOCH MIN_ROWS < <(python3 - "$DIR/split/split.json" "$BATCH" <<'EOF'
import json, sys
hospitals = json.load(open(sys.argv[1]))["hospitals"]
rows = min(h["train"] for h in hospitals.values())
q_nano = min(10**9, (int(sys.argv[2]) * 10**9 + rows - 1) // rows)
print("%d.%09d" % (q_nano // 10**9, q_nano % 10**9), -(-10**9 // q_nano), rows)
EOF
)
  DP_STEPS=$((CYCLES * EPOCHS * STEPS_PER_EPOCH))
  "$BATON" privacy noise --target-epsilon "$DP" --sampling-rate "$Q_TEXT" --steps "$DP_STEPS" \
    --delta 1e-5 --json >"$DIR/privacy-noise.json"
  SIGMA="$(jq -r .noise_multiplier "$DIR/privacy-noise.json")"
  PRIVACY_JSON="$(jq -nc --argjson eps "$DP" --argjson sigma "$SIGMA" --argjson q "$Q_TEXT" \
    '{mechanism: "dp_sgd", epsilon_budget: $eps, delta: 1e-5, clip: 1.0,
      noise_multiplier: $sigma, sampling_rate: $q}')"
  echo "  delta 1e-5, clip 1, q = $BATCH/$MIN_ROWS = $Q_TEXT ($STEPS_PER_EPOCH noisy steps an epoch)"
  echo "  $CYCLES cycle(s) x $EPOCHS epochs = $DP_STEPS noisy steps per hospital: noise multiplier" \
    "sigma $SIGMA spends epsilon $(jq -r '.epsilon_micro / 1e6' "$DIR/privacy-noise.json") of $DP"
fi

step "writing the training plan"
python3 - "$DIR/split/split.json" "$DIR/plan.json" "$partners" "$CYCLES" "$EPOCHS" "$SEED" \
  "$SPONSOR" "$ESCROW" "$BATCH" "$PRIVACY_JSON" "$MODE" "$ROUNDS" <<'EOF'
import json, sys
split, out, partners, cycles, epochs, seed, sponsor, escrow, batch, privacy, mode, rounds = \
    sys.argv[1:13]
privacy = json.loads(privacy)
features = json.load(open(split))["feature_columns"]
plan = {
    "run_id": "demo",
    "model": {"architecture": "mlp", "hidden": [64, 32], "input_shape": [len(features)],
              "num_classes": 2},
    "dataset": {"feature_columns": features, "label_column": "malignant", "positive_value": "1"},
    "partners": partners.split(","),
    "cycles": int(cycles),
    "training": {"epochs": int(epochs), "batch_size": int(batch), "optimizer": "adam",
                 "learning_rate": 0.001, "weight_decay": 0, "seed": int(seed)},
    # Reject a hand-off only when the candidate is significantly worse on the
    # voter's validation rows (one-sided DeLong, alpha 0.05): with ~28
    # validation rows per hospital, "strict" would refuse honest models for
    # noise, while a label-flipped model is worse beyond any doubt.
    "vote_policy": {"kind": "delong", "alpha": 0.05},
    "quorum": {"num": 1, "den": 2},
    "deadlines": {"load_blocks": 40, "save_blocks": 120, "vote_blocks": 40},
    # Turn 0 waits for the sponsor's credits (for at most 200 blocks); the
    # sponsor has 400 blocks after the run's end to release them, else the
    # hospitals are paid anyway and it gets no model.
    "escrow": {"sponsor": sponsor, "min_credits": int(escrow), "funding_blocks": 200,
               "release_blocks": 400},
    # The first partner of a fixed order collects the gain of turning a random
    # model into a good one; rotating starts each cycle elsewhere (by the seed).
    "turn_order": "rotating",
    # Something at stake (docs/PROTOCOL.md §19.9): each turn locks a deposit
    # of 20 credits (doubled after each rejected candidate) and a submission
    # cost of 5 that goes into the escrow; a rejected candidate's deposit goes
    # to the voters who rejected it, and a partner rejected once in a row sits
    # out its later turns (suspended).
    "deposits": {"submission_cost": 5, "deposit": 20, "factor": 2, "min_balance": 25},
    "suspend_after": 1,
}
if privacy:
    # DP-SGD (docs/PROTOCOL.md §20): every turn's SaveRequest carries the
    # epsilon its partner spent, which every node recomputes and holds to the
    # budget; a partner whose budget is spent sits out its later turns.
    plan["privacy"] = privacy
if mode == "federated":
    # Rounds instead of turns (docs/PROTOCOL.md §21): every hospital trains
    # at once; a round needs 3 uploads, and 3 of the 4 hospitals' shares
    # unmask the sum, so one hospital may drop out of any round.
    plan["mode"] = "federated"
    plan["federated"] = {"rounds": int(rounds), "local_epochs": int(epochs),
                         "min_partners": 3, "threshold": 3}
    for k in ("cycles", "turn_order", "deposits", "suspend_after"):
        del plan[k]
    del plan["training"]["epochs"]
json.dump(plan, open(out, "w"), indent=2)
if mode == "federated":
    print("  run demo: MLP 30-64-32-1, %s in parallel, %s round(s) x %s local epochs, FedAvg of"
          % (partners, rounds, epochs))
    print("  updates masked by secure aggregation (threshold 3 of 4), vote policy delong 0.05")
    print("  sponsored by %s: round 0 waits for %s credits in escrow" % (sponsor, escrow))
else:
    print("  run demo: MLP 30-64-32-1, %s, %s cycle(s) x %s local epochs, vote policy delong 0.05"
          % (partners, cycles, epochs))
    print("  sponsored by %s: turn 0 waits for %s credits in escrow" % (sponsor, escrow))
    print("  order rotating each cycle; each turn locks a deposit of 20 (x2 after a rejection) and a")
    print("  cost of 5 credits; one rejected candidate suspends its partner for the rest of the run")
if privacy:
    print("  DP-SGD: each hospital may spend epsilon %s over the run (delta %g)"
          % (privacy["epsilon_budget"], privacy["delta"]))
EOF

STORE_ARGS=()
if [[ $S3 == 1 ]]; then
  step "starting s3rver on loopback"
  start_s3rver "$ROOT" "$DIR" baton-demo
  STORE_URI="s3://baton-demo/models"
  STORE_ARGS=(--store "$STORE_URI" --store-endpoint "$S3_ENDPOINT")
  REPORT_STORE=(--store "$STORE_URI" --endpoint "$S3_ENDPOINT")
else
  mkdir -p "$DIR/store"
  STORE_URI="file://$DIR/store"
  STORE_ARGS=(--store "$STORE_URI")
  REPORT_STORE=(--store "$STORE_URI")
fi

step "starting four batond on loopback (deploy/testnet.sh)"
MAL_ARGS=()
[[ -z $MALICIOUS ]] || MAL_ARGS=(--malicious "$MALICIOUS")
# Each hospital starts with HOSPITAL_CREDITS credits to lock deposits with.
HOSPITAL_BALANCES=()
for h in "${HOSPITALS[@]}"; do HOSPITAL_BALANCES+=(--balance "$h=$HOSPITAL_CREDITS"); done
NET_UP=1
"$ROOT/deploy/testnet.sh" up --dir "$DIR" --names "$partners" --chain-id baton-demo \
  --empty-block-ms 500 --plan "$DIR/plan.json" "${STORE_ARGS[@]}" --data "$DIR/split" "${MAL_ARGS[@]}" \
  --sponsor "$SPONSOR" --balance "$SPONSOR=$ESCROW" "${HOSPITAL_BALANCES[@]}"
[[ -z $MALICIOUS ]] || echo "  $MALICIOUS trains on label-flipped data"
URL="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["admin_url"])' "$DIR/nodes.json")"
SPONSOR_KEY="$DIR/keys/$SPONSOR.key"

step "the sponsor funds the run: $ESCROW credits into its escrow (baton run fund)"
"$BATON" run fund --run demo --amount "$ESCROW" --genesis "$DIR/genesis.json" --key "$SPONSOR_KEY" \
  --node "$URL" --json >"$DIR/fund.json"
first="turn 0"; [[ $MODE == chained ]] || first="round 0"
echo "  FundRun $(jq -r .hash "$DIR/fund.json") from $SPONSOR; $first begins once it commits"

if [[ $MODE == federated ]]; then
  step "training: in each round every hospital trains, and all four vote on the aggregate (baton run status --node $URL)"
  echo "  Per round: who uploaded a masked update, who aggregated them, the ledger's decision, and"
  echo "  the votes: voter, yes/no, and the aggregate's AUC on that voter's own validation patients."
  echo "  Every voter first recomputes the aggregate from the masked uploads and the shares on the"
  echo "  ledger; three of the four decide (quorum: more than half of the voting power)."
else
  step "training: each hospital's turn is voted on by the other three (baton run status --node $URL)"
  echo "  Per turn: the partner who trained, the ledger's decision, and the votes that decided it:"
  echo "  voter, yes/no, and the candidate's AUC on that voter's own validation patients. Two of the"
  echo "  three voters decide (quorum: more than half); a third vote cast before the vote deadline"
  echo "  still counts for the partner's tokens, settled at that deadline."
fi
deadline=$((SECONDS + RUN_TIMEOUT_S))
seen=0
while :; do
  if ! status="$("$BATON" run status --node "$URL" --json 2>"$DIR/status.err")"; then
    (( SECONDS < deadline )) || die "the node at $URL stopped answering: $(cat "$DIR/status.err")"
    sleep 1; continue
  fi
  printf '%s' "$status" >"$DIR/status.json"
  read -r run_status decided lines < <(python3 - "$DIR/status.json" "$seen" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1])); seen = int(sys.argv[2])
run = next((r for r in st["runs"] if r["run_id"] == "demo"), None)
if run is None:
    print("none", seen, ""); sys.exit()
done = [t for t in run["turns"] if t["decision"] != "pending"]
out = []
def round_missing(t):
    # What a federated round lacked when it expired (docs/PROTOCOL.md §21).
    r, need = t["round"], run["plan"]["federated"]
    n = max(need["min_partners"], need["threshold"])
    if len(r["shares"]) < n: return "%d shares of %d needed" % (len(r["shares"]), n)
    if len(r["uploads"]) < n: return "%d uploads of %d needed" % (len(r["uploads"]), n)
    if len(r["unmasks"]) < need["threshold"]:
        return "%d unmasks of %d needed" % (len(r["unmasks"]), need["threshold"])
    return "aggregate" if not t["save_request_id"] else "vote quorum"
for t in done[seen:]:
    if "round" in t:
        votes = ", ".join("%s %s AUC %.3f" % (v["voter"], "yes" if v["approve"] else "no",
                                               v["auc_candidate_ppm"] / 1e6) for v in t["votes"])
        why = ""
        if t["decision"] == "expired":
            why = " (no %s by block %d; the head stays)" % (round_missing(t), t["deadline_height"])
        elif t["decision"] == "round_failed":
            why = " (%s dealt shares that do not reconstruct its secret)" % t["round"]["failed_dealer"]
        for who, c in sorted(t["round"].get("complaints", {}).items()):
            why += " [%s: %s: %s]" % (who, c["reason"], c["detail"])
        by = ", aggregated by %s" % t["partner"] if t["partner"] else ""
        out.append("round %d: %s uploaded%s: %s%s%s" % (t["turn"], ",".join(sorted(t["round"]["uploads"])),
                                                       by, t["decision"], why, ": " + votes if votes else ""))
        continue
    votes = ", ".join("%s %s AUC %.3f" % (v["voter"], "yes" if v["approve"] else "no",
                                           v["auc_candidate_ppm"] / 1e6) for v in t["votes"])
    why = ""
    if t["decision"] == "expired":
        missing = ("load request" if not t["load_request_id"] else
                   "load token" if not t["load_token_id"] else
                   "save request" if not t["save_request_id"] else "vote quorum")
        why = " (no %s by block %d; the head stays)" % (missing, t["deadline_height"])
    elif t["decision"] == "abandoned":
        a = t.get("abandon", {})
        why = " (the partner gave up its turn: %s%s; the head stays)" % (
            a.get("reason", "?"), ": " + a["detail"] if a.get("detail") else "")
    elif t["decision"] == "suspended":
        why = " (its last candidate was rejected: it sits out the run)"
    elif t["decision"] == "cannot_pay":
        why = " (its balance does not cover the deposit)"
    elif t["decision"] == "budget_spent":
        why = " (not one more epoch fits its privacy budget: it sits out the run)"
    stake = t.get("stake")
    money = ""
    if stake and stake["deposit"]:
        f = stake["forfeits"]
        money = "; deposit %d %s" % (stake["deposit"],
            "forfeited to " + ", ".join("%s %d" % kv for kv in sorted(f.items())) if f else
            "back" if stake["refunded"] >= stake["deposit"] else "locked")
    if "privacy" in t:
        money += "; epsilon %.3f this turn, %.3f in all" % (
            t["privacy"]["epsilon_turn_micro"] / 1e6, t["privacy"]["epsilon_total_micro"] / 1e6)
    out.append("turn %d (cycle %d) %-10s %s%s%s%s" % (t["turn"], t["cycle"], t["partner"],
                                                     t["decision"], why,
                                                     ": " + votes if votes else "", money))
print(run["status"], len(done), "\x1f".join(out))
EOF
)
  if [[ -n $lines ]]; then printf '  %s\n' "${lines//$'\x1f'/$'\n  '}"; fi
  seen=$decided
  [[ $run_status == finished ]] && break
  (( SECONDS < deadline )) || die "the run did not finish within ${RUN_TIMEOUT_S} s (see $DIR/nodes/*/batond.log)"
  sleep 1
done

# A turn that ended other than by the vote (expired, abandoned) is a failure
# of the network or of a node, not of the model: the demo then fails, after
# the report and the ledger checks, saying which turn and why.
TURN_FAILURES="$(python3 - "$DIR/status.json" <<'EOF'
import json, sys
run = next(r for r in json.load(open(sys.argv[1]))["runs"] if r["run_id"] == "demo")
for t in run["turns"]:
    if t["decision"] in ("approved", "rejected", "suspended", "budget_spent"):
        continue
    if "round" in t:
        print("round %d %s (uploads: %s)" % (t["turn"], t["decision"], ",".join(sorted(t["round"]["uploads"]))))
        continue
    if t["decision"] == "abandoned":
        a = t.get("abandon", {})
        why = "the partner gave up its turn (%s%s)" % (a.get("reason", "?"),
                                                      ": " + a["detail"] if a.get("detail") else "")
    elif t["decision"] == "cannot_pay":
        why = "the partner's balance did not cover its deposit and cost"
    else:
        missing = ("load request" if not t["load_request_id"] else
                   "load token" if not t["load_token_id"] else
                   "save request" if not t["save_request_id"] else "vote quorum")
        why = "no %s by block %d" % (missing, t["deadline_height"])
    print("turn %d (%s) %s: %s" % (t["turn"], t["partner"], t["decision"], why))
EOF
)"
if [[ -n $TURN_FAILURES ]]; then
  echo "  WARNING: turns that ended other than by the vote:"
  printf '    %s\n' "${TURN_FAILURES//$'\n'/$'\n'    }"
fi
final_state="$(jq -r '.runs[] | select(.run_id == "demo") | .final_model.store' "$DIR/status.json")"
if [[ $final_state != ok ]]; then
  die "the final model cannot be fetched and verified ($final_state: $(jq -r '.runs[] | select(.run_id == "demo") | .final_model.detail' "$DIR/status.json")); run \`baton models repair --run demo --node $URL\`"
fi

# A turn's tokens settle at its vote deadline (docs/PROTOCOL.md §18.2,
# "Gains"): the last turn's some blocks after the run finished.
while [[ "$("$BATON" run status --node "$URL" --json 2>/dev/null |
           jq -r '.runs[] | select(.run_id == "demo") | .gains_settled')" != true ]]; do
  (( SECONDS < deadline )) || die "the last turn's tokens did not settle by its vote deadline"
  sleep 1
done

step "the sponsor releases the escrow and opens the final model (baton run release, baton models get)"
"$BATON" run release --run demo --genesis "$DIR/genesis.json" --key "$SPONSOR_KEY" --node "$URL" \
  --json >"$DIR/release.json"
# The agents see the release and grant the final model's key to the sponsor
# (docs/PROTOCOL.md §19.8) within a few blocks.
while :; do
  "$BATON" run status --node "$URL" --json >"$DIR/status.json" 2>/dev/null || true
  escrow_state="$(jq -r '.runs[] | select(.run_id == "demo") | .escrow.state' "$DIR/status.json")"
  grants="$(jq -r '.runs[] | select(.run_id == "demo") | .escrow.key_grants | length' "$DIR/status.json")"
  [[ $escrow_state == released && $grants -gt 0 ]] && break
  (( SECONDS < deadline )) || die "no key grant for the sponsor after its release (escrow: $escrow_state; see $DIR/nodes/*/agent.log)"
  sleep 1
done
python3 - "$DIR/status.json" <<'EOF'
import json, sys
run = next(r for r in json.load(open(sys.argv[1]))["runs"] if r["run_id"] == "demo")
e = run["escrow"]
print("  released: " + ", ".join("%s %d" % (k, v) for k, v in sorted(e["payouts"].items())) +
      " credits (tokens: " + ", ".join("%s %d" % (k, v) for k, v in sorted(e["payout_tokens"].items())) + ")")
print("  key granted to %s by %s" % (e["sponsor"], ", ".join(sorted(e["key_grants"]))))
EOF
"$BATON" models get --node "$URL" --run demo "${REPORT_STORE[@]}" --key "$SPONSOR_KEY" \
  --out "$DIR/sponsor-final.model" --json >"$DIR/sponsor-get.json"
echo "  $SPONSOR opened the final model with its own key: $DIR/sponsor-final.model," \
  "SHA-256 $(jq -r .model_sha256 "$DIR/sponsor-get.json") as on the ledger"
"$BATON" account balance --node "$URL" --json >"$DIR/balances.json"

step "scoring the final model on the held-out test set against the centralized model (baton report)"
train_csvs=()
for h in "${HOSPITALS[@]}"; do train_csvs+=(--train-csv "$DIR/split/$h/train.csv"); done
"$BATON" report --node "$URL" --plots-out "$DIR/report" "${REPORT_STORE[@]}" \
  --key "$DIR/keys/hospital-a.key" --test-csv "$DIR/split/test.csv" \
  --feature-schema "$DIR/split/feature_schema.json" "${train_csvs[@]}" --json >"$DIR/report.json"
echo "  $DIR/report.json; plots in $DIR/report/"

step "stopping the nodes"
# Stop all four between two heartbeat blocks, so that they end on one tip.
python3 - "$DIR/nodes.json" <<'EOF' || true
import json, sys, time, urllib.request
nodes = json.load(open(sys.argv[1]))
def heights():
    out = []
    for n in nodes:
        try:
            out.append(json.load(urllib.request.urlopen(n["admin_url"] + "/status", timeout=2))["height"])
        except Exception:
            out.append(-1)
    return out
end = time.time() + 10
last = heights()
while time.time() < end:
    time.sleep(0.02)
    h = heights()
    if h != last and len(set(h)) == 1:
        break
    last = h
EOF
pids="$(python3 -c 'import json,sys; print(" ".join(str(n["pid"]) for n in json.load(open(sys.argv[1])) if n["pid"]))' "$DIR/nodes.json")"
# shellcheck disable=SC2086
kill -TERM $pids 2>/dev/null || true
"$ROOT/deploy/testnet.sh" down --dir "$DIR" >/dev/null  # waits for each, and records it
NET_UP=0
echo "  stopped"

step "verifying every node's ledger from genesis (baton ledger verify)"
for h in "${HOSPITALS[@]}"; do
  "$BATON" ledger verify --data-dir "$DIR/nodes/$h/data/ledger" --genesis "$DIR/genesis.json" --json \
    >"$DIR/verify-$h.json" || die "the ledger of $h does not verify (see above)"
  echo "  $h: height $(jq -r .height "$DIR/verify-$h.json"), tip $(jq -r .tip "$DIR/verify-$h.json")"
done
top="$(for h in "${HOSPITALS[@]}"; do jq -r .height "$DIR/verify-$h.json"; done | sort -n | tail -1)"
for h in "${HOSPITALS[@]}"; do
  hh="$(jq -r .height "$DIR/verify-$h.json")"
  if (( top - hh > 3 )); then
    echo "  $h is $((top - hh)) blocks behind the others: it was not running at the end (see $DIR/nodes/$h/batond.log)"
  fi
done
# The nodes stopped at nearly the same moment; whatever their heights, the
# blocks they share must be the same blocks.
common="$(for h in "${HOSPITALS[@]}"; do jq -r .height "$DIR/verify-$h.json"; done | sort -n | head -1)"
ids=()
for h in "${HOSPITALS[@]}"; do
  ids+=("$("$BATON" ledger block --data-dir "$DIR/nodes/$h/data/ledger" --height "$common" --json | jq -r .block_id)")
done
[[ "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" == 1 ]] \
  || die "the nodes' ledgers differ at height $common: ${ids[*]}"
echo "  all four ledgers hold the same block $common (${ids[0]})"

STEP="writing the summary"
python3 - "$DIR" "$partners" <<'EOF'
import json, os, sys
d, partners = sys.argv[1], sys.argv[2].split(",")
genesis = json.load(open(os.path.join(d, "genesis.json")))
held = json.load(open(os.path.join(d, "balances.json")))["balances"]
balances = {m["name"]: held.get(m["name"], 0) for m in genesis["members"]}
run = next(r for r in json.load(open(os.path.join(d, "status.json")))["runs"] if r["run_id"] == "demo")
escrow = run.get("escrow")
released_to = escrow["sponsor"] if escrow and escrow["state"] == "released" else None
rep = json.load(open(os.path.join(d, "report.json")))
stakes = {t["turn"]: t["stake"] for t in run["turns"] if "stake" in t}
spends = {t["turn"]: t["privacy"] for t in run["turns"] if "privacy" in t}
rounds = {t["turn"]: t["round"] for t in run["turns"] if "round" in t}
turns = []
for t in rep["turns"]:
    stake = stakes.get(t["turn"])
    turns.append({"partner": t["partner"], "decision": t["decision"],
                  **({"contributors": sorted(rounds[t["turn"]]["uploads"])}
                     if t["turn"] in rounds else {}),
                  "deposit": stake and {"locked": stake["deposit"], "cost": stake["cost"],
                                        "refunded": stake["refunded"],
                                        "forfeited_to": stake["forfeits"]},
                  "votes": [{"voter": v["voter"], "approve": v["approve"],
                             "auc_candidate": v["auc_candidate"], "auc_head": v["auc_head"],
                             "validation_size": v["validation_size"], "reason": v["reason"]}
                            for v in t["votes"]]})
    if "privacy" in run:
        # The epsilon fields of the turn's SaveRequest, as the ledger accepted
        # them (null: no accepted SaveRequest, so nothing spent).
        spend = spends.get(t["turn"])
        turns[-1]["epsilon_turn"] = spend and spend["epsilon_turn_micro"] / 1e6
        turns[-1]["epsilon_total"] = spend and spend["epsilon_total_micro"] / 1e6
tips = {h: json.load(open(os.path.join(d, "verify-%s.json" % h)))["tip"] for h in partners}
summary = {"final_auc": rep["final"]["auc"], "centralized_auc": rep["centralized"]["auc"],
           "delong_p": rep["delong_p"], "turns": turns, "tip_hashes": tips,
           "balances": balances, "released_to": released_to}
privacy = run.get("privacy")
if privacy:
    plan = json.load(open(os.path.join(d, "plan.json")))["privacy"]
    summary["privacy"] = {
        "mechanism": privacy["mechanism"], "epsilon_budget": privacy["epsilon_budget_micro"] / 1e6,
        "delta": privacy["delta_pico"] / 1e12, "noise_multiplier": plan["noise_multiplier"],
        "sampling_rate": plan["sampling_rate"], "clip": plan["clip"],
        "epsilon_spent": {h: p["epsilon_spent_micro"] / 1e6 for h, p in privacy["partners"].items()},
        "epsilon_left": {h: p["epsilon_left_micro"] / 1e6 for h, p in privacy["partners"].items()}}
tmp = os.path.join(d, "summary.json.tmp")
with open(tmp, "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
os.replace(tmp, os.path.join(d, "summary.json"))

print("\n== summary (%s)" % os.path.join(d, "summary.json"))
for i, t in enumerate(turns):
    dep = t["deposit"]
    money = ""
    if dep and dep["locked"]:
        money = ("  deposit %d forfeited to %s" % (dep["locked"], ", ".join(
                     "%s %d" % kv for kv in sorted(dep["forfeited_to"].items())))
                 if dep["forfeited_to"] else "  deposit %d refunded %d" % (dep["locked"], dep["refunded"]))
    if t.get("epsilon_total") is not None:
        money += "  epsilon %.3f (total %.3f)" % (t["epsilon_turn"], t["epsilon_total"])
    if "contributors" in t:
        print("  round %d  aggregated by %-11s from %s: %s" % (i, t["partner"] or "nobody",
              ",".join(t["contributors"]), t["decision"]))
    else:
        print("  turn %d  %-11s %s%s" % (i, t["partner"], t["decision"], money))
    for v in t["votes"]:
        print("            %-11s %-7s AUC %.4f vs head %.4f on %d rows%s" % (
            v["voter"], "approve" if v["approve"] else "reject", v["auc_candidate"], v["auc_head"],
            v["validation_size"], " (" + v["reason"] + ")" if v["reason"] else ""))
c = rep["contributivity_ppm"]
print("  contributivity (per hospital, the sum over its approved turns of the settled median AUC gain its")
print("  voters measured, candidate minus head): " + ", ".join("%s %+.4f" % (k, c[k] / 1e6) for k in sorted(c)))
f, z = rep["final"], rep["centralized"]
print("  final model      AUC %.4f (95%% CI %.4f-%.4f) on %d held-out patients"
      % (f["auc"], f["ci95"][0], f["ci95"][1], rep["test_rows"]))
print("  centralized      AUC %.4f (95%% CI %.4f-%.4f), trained on the %d pooled training rows"
      % (z["auc"], z["ci95"][0], z["ci95"][1], z["train_rows_pooled"]))
print("  DeLong p (two-sided, final vs centralized) %.4f%s" % (rep["delong_p"],
      ": no significant difference at 0.05" if rep["delong_p"] >= 0.05 else ""))
if privacy:
    p = summary["privacy"]
    print("  DP-SGD (noise multiplier %s, clip %s, q %s, delta %g): epsilon spent of %g per hospital: %s"
          % (p["noise_multiplier"], p["clip"], p["sampling_rate"], p["delta"], p["epsilon_budget"],
             ", ".join("%s %.3f" % (h, p["epsilon_spent"][h]) for h in sorted(p["epsilon_spent"]))))
    print("  (the centralized model is trained without DP: the price of privacy is the gap)")
for h in partners:
    print("  %-11s verified tip %s" % (h, tips[h]))
print("  balances at the end: " + ", ".join("%s %d" % (k, balances[k]) for k in sorted(balances)) +
      "; escrow released to %s" % (released_to or "nobody (not released)"))
print("  plots: " + ", ".join(rep["plots"]))
EOF
if [[ -n $TURN_FAILURES ]]; then
  STEP="checking the turns"
  echo "demo.sh: turns ended other than by the vote:" >&2
  printf '  %s\n' "${TURN_FAILURES//$'\n'/$'\n'  }" >&2
  exit 1
fi
echo "demo OK in $SECONDS s"
