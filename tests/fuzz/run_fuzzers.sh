#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in BUILD_DIR and runs each for SECONDS
# (default 20), starting from tests/fuzz/corpus/<target>. Fails on any crash,
# sanitizer report, broken invariant or timeout; the failing input is left in
# BUILD_DIR/fuzz-artifacts/. New corpus entries go to BUILD_DIR/fuzz-corpus/, not
# to the repository.
#
#   tests/fuzz/run_fuzzers.sh build-fuzz 20
#
# Needs clang and Debian's libclang-rt-14-dev (libFuzzer and the sanitizer
# runtimes). Set FUZZ_TARGETS="fuzz_json fuzz_cbor" to run only some targets.
set -euo pipefail

BUILD_DIR=${1:?usage: run_fuzzers.sh BUILD_DIR [SECONDS]}
SECONDS_PER_TARGET=${2:-20}
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ_DIR=$SOURCE_DIR/tests/fuzz
TARGETS=${FUZZ_TARGETS:-fuzz_json fuzz_query fuzz_ec2 fuzz_rest_json fuzz_cbor fuzz_front_door fuzz_alb_request fuzz_ses_mime}

for tool in clang clang++ cmake ninja; do
  command -v "$tool" > /dev/null || { echo "run_fuzzers.sh: $tool is not installed" >&2; exit 2; }
done
if ! find /usr/lib/llvm-*/lib/clang -name 'libclang_rt.fuzzer-x86_64.a' 2> /dev/null | grep -q .; then
  echo "run_fuzzers.sh: libFuzzer is missing; install libclang-rt-14-dev" >&2
  exit 2
fi

FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
CC=clang CXX=clang++ cmake -S "$SOURCE_DIR" -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUNDERSTUDY_FUZZ=ON -DBUILD_TESTING=ON \
  -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" > /dev/null
ninja -C "$BUILD_DIR" ${NINJA_JOBS:+-j "$NINJA_JOBS"} $TARGETS

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
mkdir -p "$BUILD_DIR/fuzz-artifacts"
failed=()
for target in $TARGETS; do
  corpus=$BUILD_DIR/fuzz-corpus/$target
  mkdir -p "$corpus"
  echo "=== $target: ${SECONDS_PER_TARGET}s"
  if "$BUILD_DIR/tests/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=8192 \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -dict="$FUZZ_DIR/understudy.dict" \
      -artifact_prefix="$BUILD_DIR/fuzz-artifacts/$target-" \
      "$corpus" "$FUZZ_DIR/corpus/$target" 2> "$BUILD_DIR/fuzz-artifacts/$target.log"; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' \
      "$BUILD_DIR/fuzz-artifacts/$target.log" | sed "s/^/  /" || true
  else
    echo "  FAILED: see $BUILD_DIR/fuzz-artifacts/$target.log" >&2
    tail -40 "$BUILD_DIR/fuzz-artifacts/$target.log" >&2
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "run_fuzzers.sh: crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "run_fuzzers.sh: all fuzz targets ran ${SECONDS_PER_TARGET}s without a crash"
