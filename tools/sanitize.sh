#!/usr/bin/env bash
# Builds the project under a sanitizer and runs the suite with it: unit
# tests, e2b-local's own tests, integration tests against e2b-local, every
# example against e2b-local and the JS SDK conformance suite against the
# sanitized e2b-local.
#
#   tools/sanitize.sh [address|thread] [ctest args...]
#
#   address  AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer
#            (-DE2B_SANITIZE=address,undefined), build dir build-asan
#   thread   ThreadSanitizer (-DE2B_SANITIZE=thread), build dir build-tsan
#
# Every sanitized process (test binaries, the e2b-local servers the tests
# start, examples) writes its reports to files under
# <build dir>/sanitizer-reports rather than to a stderr nobody reads; the
# run fails if ctest fails OR if any report file exists afterwards, so a leak
# at e2b-local's shutdown or a race in a server thread fails CI even when
# every test passed.
#
# Environment: E2B_SANITIZE_BUILD_DIR (build directory),
# E2B_SANITIZE_LABELS (ctest label regex, default
# unit|e2b-local|integration|examples|conformance), E2B_JOBS (parallelism,
# default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

mode=${1:-address}
[[ $# -gt 0 ]] && shift
case "$mode" in
  address) sanitize="address,undefined"; default_dir=build-asan ;;
  thread) sanitize="thread"; default_dir=build-tsan ;;
  *)
    echo "usage: $0 [address|thread] [ctest args...]" >&2
    exit 2
    ;;
esac
build_dir=${E2B_SANITIZE_BUILD_DIR:-$default_dir}
labels=${E2B_SANITIZE_LABELS:-unit|e2b-local|integration|examples|conformance}
jobs=${E2B_JOBS:-$(nproc)}
supp_dir="$root/tests/sanitizers"

./tools/install-deps.sh

start=$SECONDS
# -O1 keeps the instrumented code quick enough to run the whole suite while
# leaving stack traces readable; benchmarks, install rules and fuzzers are
# not part of a sanitizer run.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
  -DE2B_SANITIZE="$sanitize" -DE2B_WERROR=ON -DE2B_BUILD_TESTS=ON \
  -DE2B_BUILD_EXAMPLES=ON -DE2B_BUILD_LOCAL_SERVER=ON \
  -DE2B_BUILD_BENCHMARKS=OFF -DE2B_BUILD_FUZZERS=OFF -DE2B_INSTALL=OFF \
  >/dev/null
cmake --build "$build_dir" -j"$jobs"
build_seconds=$((SECONDS - start))

reports="$(cd "$build_dir" && pwd)/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
# e2b-local's namespace runtime drops to the sandbox user (uid 1000) in
# forked children before they exec; a report from such a child must be
# writable too.
chmod 1777 "$reports"

# Suppressions only for proven third-party false positives; each file says
# why for every entry. A missing file means no suppressions for that tool.
supp() {
  [[ -f "$supp_dir/$1.supp" ]] && printf ':suppressions=%s' "$supp_dir/$1.supp"
  return 0
}
# Shared by all tools: reports go to per-process files
# (<mode>.<exe>.<pid>), and the first report ends the process with a
# failing status.
common="halt_on_error=1:log_path=$reports/$mode:log_exe_name=1"
export UBSAN_OPTIONS="$common:print_stacktrace=1$(supp ubsan)"
case "$mode" in
  address)
    export ASAN_OPTIONS="$common:detect_leaks=1:strict_init_order=1"
    ASAN_OPTIONS+=":check_initialization_order=1"
    ASAN_OPTIONS+=":detect_stack_use_after_return=1$(supp asan)"
    export LSAN_OPTIONS="$common$(supp lsan)"
    ;;
  thread)
    export TSAN_OPTIONS="$common:second_deadlock_stack=1$(supp tsan)"
    ;;
esac

sudo=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  sudo="sudo --preserve-env=PATH,ASAN_OPTIONS,LSAN_OPTIONS,UBSAN_OPTIONS,TSAN_OPTIONS"
fi

test_start=$SECONDS
set +e
$sudo ctest --test-dir "$build_dir" -L "$labels" --output-on-failure \
  -j"$jobs" --timeout 600 "$@"
ctest_status=$?
set -e
test_seconds=$((SECONDS - test_start))

mapfile -t found < <(find "$reports" -type f -size +0 | sort)
echo
echo "==== sanitize.sh $mode: build ${build_seconds}s, tests ${test_seconds}s," \
  "ctest status $ctest_status, ${#found[@]} sanitizer report(s) ===="
for f in "${found[@]}"; do
  echo "---- $f ----"
  head -n 80 "$f"
done
if [[ $ctest_status -ne 0 || ${#found[@]} -ne 0 ]]; then
  echo "sanitize.sh $mode: FAILED" >&2
  exit 1
fi
echo "sanitize.sh $mode: clean"
