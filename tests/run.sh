#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
# Exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
./deploy/bootstrap.sh --with-test-tools
export BATON_S3RVER="$ROOT/.cache/npm/node_modules/.bin/s3rver"
export BATON_ROOT="$ROOT"
ctest --test-dir "$ROOT/build" --output-on-failure --timeout 900 -j "$(nproc)"
