#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
# Exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Where the time went, printed last (also on failure), so that a CI log's tail
# says whether the install, the build, the tests or the fuzzers grew.
phase="install and build"; phase_start=$SECONDS; phases=""
next_phase() { phases+="$phase $((SECONDS - phase_start)) s; "; phase="$1"; phase_start=$SECONDS; }
report_phases() {
  local rc=$? failed=""
  [[ $rc -ne 0 ]] && failed=" (failed, rc $rc)"
  echo "run.sh: ${phases}${phase} $((SECONDS - phase_start)) s${failed}; total ${SECONDS} s"
}
trap report_phases EXIT
./deploy/bootstrap.sh --with-test-tools
next_phase "ctest"
export BATON_S3RVER="$ROOT/.cache/npm/node_modules/.bin/s3rver"
export BATON_ROOT="$ROOT"
ctest --test-dir "$ROOT/build" --output-on-failure --timeout 900 -j "$(nproc)"

# Fuzz step (about 2 minutes): every libFuzzer target, built with clang-14 and
# ASan/UBSan in build-fuzz (without LibTorch), runs 10 s from its seed corpus
# in tests/fuzz/corpus/. A crash fails the run; libFuzzer saves the input in
# build-fuzz/. README "Fuzzing" says how to run them longer.
next_phase "fuzz build and run"
FUZZ_DIR="$ROOT/build-fuzz"
CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$FUZZ_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBATON_FUZZ=ON -DBATON_WITH_TORCH=OFF >/dev/null
cmake --build "$FUZZ_DIR" --target baton_fuzzers -j "$(nproc)"
for fuzzer in "$FUZZ_DIR"/bin/baton_fuzz_*; do
  name="$(basename "$fuzzer")"
  seeds=()
  if [ -d "$ROOT/tests/fuzz/corpus/${name#baton_fuzz_}" ]; then seeds=("$ROOT/tests/fuzz/corpus/${name#baton_fuzz_}"); fi
  work="$(mktemp -d)"  # new inputs go here, never into the committed corpus
  echo "fuzz: $name, 10 s"
  if ! "$fuzzer" -max_total_time=10 -artifact_prefix="$FUZZ_DIR/$name-" "$work" "${seeds[@]}" >"$work.log" 2>&1; then
    tail -n 60 "$work.log"
    echo "fuzz: $name crashed; the input is in $FUZZ_DIR/$name-*" >&2
    exit 1
  fi
  rm -rf "$work" "$work.log"
done
