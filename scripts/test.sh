#!/usr/bin/env bash
# Builds and runs every test:
#   0. clang-format check of every C file
#   1. release build, warnings as errors: unit, fuzz-corpus replay, integration
#   2. ASan+UBSan build: the same suite
#   3. TSan build: unit tests and the multi-worker integration tests
#   4. libFuzzer builds (clang): each target runs FUZZ_SECONDS (default 20)
# The last line is the total: ctest tests of every stage plus one per fuzz target.
# Set QUICK=1 to run only step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)
# The 10k-connection test needs file descriptors (harmless if already higher).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

step() { printf '\n=== %s ===\n' "$*"; }

# Runs ctest in a build directory and adds its test count to the total.
total=0
run_ctest() {
  local dir=$1; shift
  local log
  log=$(mktemp)
  (cd "$dir" && "$@") 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local n
  n=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n1)
  rm -f "$log"
  [ "$rc" -eq 0 ] || exit "$rc"
  total=$((total + ${n:-0}))
}

step "format (clang-format, .clang-format)"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror

step "release build"
cmake -S . -B build -DSL_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
run_ctest build ctest --output-on-failure --timeout 900
if [ "${QUICK:-0}" = 1 ]; then echo "$total passed, 0 failed"; exit 0; fi

step "ASan+UBSan build"
cmake -S . -B build-asan -DSL_WERROR=ON -DSL_SANITIZE=address,undefined \
      -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-asan ctest --output-on-failure --timeout 1800

step "TSan build"
cmake -S . -B build-tsan -DSL_WERROR=ON -DSL_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-tsan -j"$jobs"
# TSan needs a memory layout without ASLR on recent kernels.
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  run_ctest build-tsan setarch "$(uname -m)" -R ctest --output-on-failure --timeout 1800 \
  -R 'unit\.|integration\.test_(bench|cross_worker|connect|session|publish|will|backpressure|sys|retain|mqtt5_session|mqtt5_subscribe|mqtt5_will|mqtt5_auth)$'


step "fuzzing (${FUZZ_SECONDS:=20}s per target)"
CC=clang cmake -S . -B build-fuzz -DSL_FUZZ=ON -DSL_SANITIZE=address,undefined \
      -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$jobs" --target $(cd fuzz && ls fuzz_*.c | sed 's/\.c$//')
for f in fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  work=$(mktemp -d)
  mkdir "$work/corpus"
  cp -r "fuzz/corpus/$name/." "$work/corpus/" 2>/dev/null || true
  echo "--- $name"
  if ! build-fuzz/"$name" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
       -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1; then
    tail -n 60 "$work/log"
    echo "fuzzer $name found a failing input (kept in $work)"
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$work/log" || true
  rm -rf "$work"
  total=$((total + 1))
done
echo
echo "all test stages passed (release, ASan+UBSan, TSan, fuzzing)"
echo "$total passed, 0 failed"
