#!/usr/bin/env bash
# Baton demo, stage 1 (the ledger): installs what is missing and builds, makes
# four hospitals' keys and a genesis, builds a signed chain with
# `baton dev make-chain`, verifies it from genesis and shows it.
# (A later stage turns this into the training demo.)
#
#   deploy/demo.sh [--dir DIR] [--blocks N] [--txs-per-block K] [--no-bootstrap]
#
# DIR defaults to a fresh ./demo-out/run-YYYYmmdd-HHMMSS. Running again with
# the same --dir reuses its keys, genesis and ledger (idempotent) and only
# adds blocks up to N.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR=""
BLOCKS=50
TXS=10
BOOTSTRAP=1
HOSPITALS=(hospital-a hospital-b hospital-c hospital-d)

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) [[ $# -ge 2 ]] || { echo "demo.sh: --dir needs a directory" >&2; exit 2; }; DIR="$2"; shift ;;
    --blocks) [[ $# -ge 2 ]] || { echo "demo.sh: --blocks needs a number" >&2; exit 2; }; BLOCKS="$2"; shift ;;
    --txs-per-block) [[ $# -ge 2 ]] || { echo "demo.sh: --txs-per-block needs a number" >&2; exit 2; }; TXS="$2"; shift ;;
    --no-bootstrap) BOOTSTRAP=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $BLOCKS =~ ^[1-9][0-9]*$ ]] || { echo "demo.sh: --blocks must be a positive number, got '$BLOCKS'" >&2; exit 2; }
[[ $TXS =~ ^[0-9]+$ ]] || { echo "demo.sh: --txs-per-block must be a number, got '$TXS'" >&2; exit 2; }
[[ -n $DIR ]] || DIR="$ROOT/demo-out/run-$(date -u +%Y%m%d-%H%M%S)"

STEP="starting"
trap 'echo "demo.sh: FAILED while ${STEP} (see the messages above)" >&2' ERR
step() { STEP="$1"; printf '\n== %s\n' "$1"; }

if [[ $BOOTSTRAP == 1 ]]; then
  step "installing missing packages and building (deploy/bootstrap.sh)"
  "$ROOT/deploy/bootstrap.sh"
fi
BATON="${BATON_BUILD_DIR:-$ROOT/build}/bin/baton"
[[ -x $BATON ]] || { echo "demo.sh: $BATON was not built; run deploy/bootstrap.sh and look at its errors" >&2; exit 1; }

mkdir -p "$DIR/keys"
DIR="$(cd "$DIR" && pwd)"
echo "demo directory: $DIR"

step "making the four hospitals' keys"
for h in "${HOSPITALS[@]}"; do
  if [[ -f $DIR/keys/$h.key && -f $DIR/keys/$h.pub.json ]]; then
    echo "  $h: keys already there"
  else
    "$BATON" keygen --name "$h" --out "$DIR/keys"
  fi
done

step "writing the genesis"
if [[ -f $DIR/genesis.json ]]; then
  echo "  genesis.json already there"
else
  members=()
  for h in "${HOSPITALS[@]}"; do members+=(--member "$DIR/keys/$h.pub.json"); done
  "$BATON" genesis init --chain-id baton-demo "${members[@]}" --out "$DIR/genesis.json"
fi
"$BATON" genesis validate "$DIR/genesis.json"

step "building a signed chain of $BLOCKS blocks x $TXS transactions (baton dev make-chain)"
height=0
if [[ -d $DIR/ledger ]]; then
  height="$("$BATON" ledger show --data-dir "$DIR/ledger" --json | jq -r .height)"
fi
if (( height >= BLOCKS )); then
  echo "  the ledger already has $height blocks"
else
  "$BATON" dev make-chain --genesis "$DIR/genesis.json" --keys "$DIR/keys" \
    --blocks "$((BLOCKS - height))" --txs-per-block "$TXS" --data-dir "$DIR/ledger"
fi

step "verifying every hash, signature, nonce and commit from genesis (baton ledger verify)"
"$BATON" ledger verify --data-dir "$DIR/ledger" --genesis "$DIR/genesis.json"

step "showing the ledger (baton ledger show)"
"$BATON" ledger show --data-dir "$DIR/ledger" --last 5

step "showing block 1 (baton ledger block)"
"$BATON" ledger block --data-dir "$DIR/ledger" --height 1

step "exporting the chain for auditors (baton ledger export)"
rm -f "$DIR/chain.jsonl"
"$BATON" ledger export --data-dir "$DIR/ledger" --out "$DIR/chain.jsonl"

STEP="summarising"
summary="$("$BATON" ledger verify --data-dir "$DIR/ledger" --json)"
printf '\n== summary\n'
echo "  chain id      $(jq -r .chain_id <<<"$summary")"
echo "  height        $(jq -r .height <<<"$summary")"
echo "  tip           $(jq -r .tip <<<"$summary")"
echo "  transactions  $(jq -r .transactions <<<"$summary"), signatures checked $(jq -r .signatures_checked <<<"$summary")"
echo "  hospitals     ${HOSPITALS[*]}"
echo "  files         $DIR/{keys/,genesis.json,ledger/,chain.jsonl}"
echo "demo stage 1 OK"
