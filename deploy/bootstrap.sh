#!/usr/bin/env bash
# Installs the Debian packages Baton needs (only those missing; quiet when all
# are there), optionally the npm test tools, then configures and builds into
# build/ (RelWithDebInfo). Binaries land in build/bin/.
#
#   deploy/bootstrap.sh [--with-test-tools] [--no-build] [--build-dir DIR] [-- extra cmake args]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BATON_BUILD_DIR:-$ROOT/build}"
WITH_TEST_TOOLS=0
DO_BUILD=1
CMAKE_EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --with-test-tools) WITH_TEST_TOOLS=1 ;;
    --no-build) DO_BUILD=0 ;;
    --build-dir) BUILD_DIR="$2"; shift ;;
    --) shift; CMAKE_EXTRA=("$@"); break ;;
    *) echo "bootstrap.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-all-dev librocksdb-dev rocksdb-tools libsodium-dev libcrypto++-dev libssl-dev openssl
  libprotobuf-dev protobuf-compiler libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libtorch-dev
  curl jq python3
)
TEST_PACKAGES=(
  clang-14 libfuzzer-14-dev libclang-rt-14-dev nodejs npm awscli
  python3-sklearn python3-nacl python3-cryptography python3-torch gnuplot
  iproute2  # testnet.sh --netns (the Netns instances of tests/integration/wan_test.cpp)
  chromium  # the web console's browser test (tests/integration/console_browser_test.cpp)
)
wanted=("${PACKAGES[@]}")
[[ $WITH_TEST_TOOLS == 1 ]] && wanted+=("${TEST_PACKAGES[@]}")

missing=()
for p in "${wanted[@]}"; do
  # NodeSource's nodejs ships npm itself and conflicts with Debian's npm.
  if [[ $p == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap.sh: missing Debian packages: ${missing[*]}; run as root or install them with apt-get." >&2
    exit 1
  fi
  echo "bootstrap.sh: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# s3rver, a real S3 server process the storage tests start on loopback.
if [[ $WITH_TEST_TOOLS == 1 ]]; then
  NPM_PREFIX="$ROOT/.cache/npm"
  if [[ ! -x "$NPM_PREFIX/node_modules/.bin/s3rver" ]]; then
    echo "bootstrap.sh: installing s3rver@3.7.1 from npm into .cache/npm"
    mkdir -p "$NPM_PREFIX"
    npm install --silent --no-audit --no-fund --prefix "$NPM_PREFIX" s3rver@3.7.1 >/dev/null
  fi
fi

if [[ $DO_BUILD == 1 ]]; then
  # Paths relative to the checkout, so that ccache hits across clones and build dirs.
  # With -g (RelWithDebInfo) ccache also hashes the compiler's working directory
  # unless told not to, which made every other clone a miss (2.5% hits
  # measured): the debug info's compilation directory may then name another
  # clone, which only a debugger notices.
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
  if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${CMAKE_EXTRA[@]}" >/dev/null
  elif [[ ${#CMAKE_EXTRA[@]} -gt 0 ]]; then
    cmake "$BUILD_DIR" "${CMAKE_EXTRA[@]}" >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j "$(nproc)"
fi
