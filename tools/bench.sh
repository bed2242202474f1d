#!/usr/bin/env bash
# Runs every e2b-cpp benchmark and writes BENCHMARKS.md at the repo root.
#
#   tools/bench.sh [--smoke] [--build-dir DIR] [--no-build] [--output FILE]
#                  [--no-js] [--keep-json DIR] [--e2b-local BIN]
#                  [--no-callgrind] [--capacity N]
#
#   --smoke        tiny sizes (seconds, not minutes): checks that every phase
#                  works; the numbers mean nothing. Writes BENCHMARKS-smoke.md
#                  in the build directory unless --output is given.
#   --build-dir    where to build (default build-bench); always Release.
#   --no-build     use the binaries already in --build-dir.
#   --output       the report to write (default BENCHMARKS.md).
#   --no-js        skip the official JS SDK (otherwise it is installed from
#                  tests/bench/js/package-lock.json with npm ci when missing).
#   --js-optional  use the JS SDK only if node and tests/bench/js/node_modules
#                  are already there (no network; for ctest).
#   --keep-json    also copy each phase's JSON results to DIR.
#   --e2b-local    a different e2b-local binary (default: the one built).
#   --no-callgrind skip the per-call instruction counts (otherwise taken
#                  with valgrind's callgrind when valgrind is installed).
#   --capacity N   in the server phase, also create N idle sandboxes and
#                  keep them (how many the machine holds; minutes for 1,000).
#
# Each phase gets a fresh e2b-local on free loopback ports
# (tools/with-e2b-local.sh), so one phase's leftovers cannot skew another.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
smoke=0
build_dir="$repo/build-bench"
build=1
output=""
use_js=1
js_optional=0
keep_json=""
server_bin=""
use_callgrind=1
capacity=0
original_args=("$@")

while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build_dir=$(realpath -m "$2"); shift ;;
    --no-build) build=0 ;;
    --output) output=$(realpath -m "$2"); shift ;;
    --no-js) use_js=0 ;;
    --js-optional) js_optional=1 ;;
    --keep-json) keep_json=$(realpath -m "$2"); shift ;;
    --e2b-local) server_bin=$(realpath -m "$2"); shift ;;
    --no-callgrind) use_callgrind=0 ;;
    --capacity) capacity=$2; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$output" ]]; then
  if [[ $smoke -eq 1 ]]; then output="$build_dir/BENCHMARKS-smoke.md"
  else output="$repo/BENCHMARKS.md"; fi
fi

log() { echo "bench.sh: $*" >&2; }

if [[ $build -eq 1 ]]; then
  log "building in $build_dir (Release)"
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DE2B_BUILD_BENCHMARKS=ON -DE2B_BUILD_LOCAL_SERVER=ON \
    -DE2B_BUILD_TESTS=OFF -DE2B_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$build_dir" --target bench -j2 >/dev/null
fi
bench_bin="$build_dir/tests/bench/e2b_bench"
[[ -n "$server_bin" ]] || server_bin="$build_dir/tools/e2b-local/e2b-local"
for bin in "$bench_bin" "$server_bin"; do
  if [[ ! -x "$bin" ]]; then
    log "missing $bin (build the 'bench' target or drop --no-build)"
    exit 1
  fi
done

js_dir="$repo/tests/bench/js"
if [[ $use_js -eq 1 && $js_optional -eq 1 ]] &&
  { ! command -v node >/dev/null || [[ ! -d "$js_dir/node_modules/e2b" ]]; }; then
  log "JS SDK not installed: skipping it (--js-optional)"
  use_js=0
fi
js_args=()
node_version="not used"
if [[ $use_js -eq 1 ]]; then
  if ! command -v node >/dev/null; then
    log "node is not installed: rerun with --no-js or install node"
    exit 1
  fi
  if [[ ! -d "$js_dir/node_modules/e2b" ]]; then
    log "installing the official JS SDK (npm ci in tests/bench/js)"
    if ! (cd "$js_dir" && npm ci --no-audit --no-fund >&2); then
      log "npm ci failed: rerun with --no-js to skip the JS SDK"
      exit 1
    fi
  fi
  js_args=(--js-dir "$js_dir" --require-js 1)
  node_version=$(node --version)
fi

if [[ $smoke -eq 1 ]]; then
  overhead=(--rounds 2 --batch 3)
  transfer=(--bytes $((4 << 20)) --rounds 1)
  concurrency=(--threads 4 --calls 5 --rounds 1)
  server=(--create 3 --idle 3 --starts 5)
  callgrind_calls=10
  mode=smoke
else
  overhead=(--rounds 60 --batch 20)
  transfer=(--bytes $((1 << 30)) --rounds 5)
  concurrency=(--threads 32 --calls 50 --rounds 2)
  server=(--create 100 --idle 20 --starts 100)
  callgrind_calls=200
  mode=full
fi

results=$(mktemp -d "${TMPDIR:-/tmp}/e2b-bench.XXXXXX")
trap 'rm -rf "$results"' EXIT
load_start=$(cat /proc/loadavg)

server_note="e2b-local as built"

run_phase() {
  local name=$1
  shift
  log "phase $name"
  "$repo/tools/with-e2b-local.sh" "$server_bin" \
    "$bench_bin" "$name" --out "$results/$name.json" "$@"
}

# The call-overhead phase runs the clients on CPU 0 and e2b-local (with
# the sandboxes it starts) on CPU 1 when there are two CPUs or more. Left
# to the scheduler, client and server sometimes share a core and sometimes
# not, which moved the same run's per-round ratios by 0.7x-1.3x on a
# 2-core machine; pinned, each request crosses cores as it would cross a
# network, the same way for every client.
placement="not pinned"
pin_server=()
pin_client=()
if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
  pin_server=(taskset -c 1)
  pin_client=(taskset -c 0)
  placement="clients on CPU 0, e2b-local and its sandboxes on CPU 1"
fi
log "phase overhead ($placement)"
"${pin_server[@]}" "$repo/tools/with-e2b-local.sh" "$server_bin" \
  "${pin_client[@]}" "$bench_bin" overhead --out "$results/overhead.json" \
  "${overhead[@]}" "${js_args[@]}"
run_phase transfer "${transfer[@]}" --tmp-dir "$results"
run_phase concurrency "${concurrency[@]}"
run_phase server "${server[@]}" --capacity "$capacity"

# Instructions per call under callgrind: unlike wall time, a loaded machine
# does not move them, so they show what the client itself costs.
if [[ $use_callgrind -eq 1 ]] && command -v valgrind >/dev/null; then
  log "phase instructions (callgrind)"
  "$repo/tools/with-e2b-local.sh" "$server_bin" bash -c '
    set -euo pipefail
    bin=$1 out=$2 calls=$3 tmp=$4
    json="{\"calls\":$calls,\"instructions_per_call\":{"
    sep=""
    for op in info raw-info run raw-run; do
      valgrind --tool=callgrind --toggle-collect="*CallLoop*" \
        --callgrind-out-file="$tmp/callgrind-$op.out" \
        --log-file="$tmp/callgrind-$op.log" \
        "$bin" loop --op "$op" --calls "$calls" --warmup 10 >/dev/null
      collected=$(sed -n "s/.*Collected : \([0-9]*\).*/\1/p" \
        "$tmp/callgrind-$op.log")
      if [[ -z "$collected" ]]; then
        echo "bench.sh: callgrind reported no count for $op" >&2
        exit 1
      fi
      json+="$sep\"$op\":$((collected / calls))"
      sep=","
      rm -f "$tmp/callgrind-$op.out" "$tmp/callgrind-$op.log"
    done
    echo "$json}}" >"$out"
  ' _ "$bench_bin" "$results/instructions.json" "$callgrind_calls" "$results"
elif [[ $use_callgrind -eq 1 ]]; then
  log "valgrind is not installed: skipping the instruction counts"
fi

if [[ -n "$keep_json" ]]; then
  mkdir -p "$keep_json"
  cp "$results"/*.json "$keep_json/"
fi
notes=()
if [[ $mode == full && -f "$repo/tests/bench/analysis.md" ]]; then
  notes=(--notes "$repo/tests/bench/analysis.md")
fi
compiler=$(c++ --version | head -n 1)
curl_version=$(curl --version | head -n 1 | cut -d' ' -f1-3)
command_line="tools/bench.sh${original_args[*]:+ ${original_args[*]}}"
"$bench_bin" report --in "$results" --out "$output" --mode "$mode" \
  --command "$command_line" --load-start "$load_start" \
  --compiler "$compiler" --curl "$curl_version" --node "$node_version" \
  --server "$server_note" --overhead-placement "$placement" --js-sdk "$( [[ $use_js -eq 1 ]] && echo 'e2b@2.51.0' || echo 'skipped (--no-js)')" \
  "${notes[@]}"
log "wrote $output"
