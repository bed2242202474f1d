#!/usr/bin/env bash
# Builds every libFuzzer target with Clang (ASan + UBSan) in build-fuzz/,
# replays the committed regression inputs, then fuzzes each target for a
# bounded time from its seed corpus. Fails when any target crashes, leaks,
# times out or breaks an invariant, printing the reproducer's path.
#
#   tools/fuzz.sh [seconds-per-target]      (default 30)
#
# Environment: E2B_FUZZ_BUILD_DIR (default <repo>/build-fuzz),
# E2B_FUZZ_JOBS (build parallelism, default 2), E2B_FUZZ_TARGETS (a
# space-separated subset, e.g. "url json_mapping").
set -euo pipefail

seconds=${1:-30}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -lt 1 ]]; then
  echo "usage: $0 [seconds-per-target]" >&2
  exit 2
fi
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${E2B_FUZZ_BUILD_DIR:-$repo/build-fuzz}
jobs=${E2B_FUZZ_JOBS:-2}
cxx=${CXX_FUZZ:-clang++}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz.sh: $cxx not found; install clang and libclang-rt-14-dev" >&2
  exit 2
fi

cmake -S "$repo" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DE2B_BUILD_FUZZERS=ON \
  -DE2B_BUILD_TESTS=OFF -DE2B_BUILD_EXAMPLES=OFF -DE2B_BUILD_BENCHMARKS=OFF \
  -DE2B_INSTALL=OFF >/dev/null
cmake --build "$build" --target fuzzers -j "$jobs"

bin=$build/tests/fuzz
targets=()
if [[ -n ${E2B_FUZZ_TARGETS:-} ]]; then
  for t in $E2B_FUZZ_TARGETS; do targets+=("$t"); done
else
  for exe in "$bin"/fuzz_*; do
    [[ -x $exe && -f $exe ]] && targets+=("$(basename "$exe" | sed 's/^fuzz_//')")
  done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "fuzz.sh: no fuzz targets were built" >&2
  exit 1
fi

work=$build/fuzz-run
failed=()
summary=()
for t in "${targets[@]}"; do
  exe=$bin/fuzz_$t
  seeds=$repo/tests/fuzz/corpus/$t
  regressions=$repo/tests/fuzz/regressions/$t
  corpus=$work/corpus/$t
  artifacts=$work/artifacts/$t
  log=$work/logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")" "$seeds"
  : >"$log"

  # Every input that once crashed must stay fixed.
  if [[ -d $regressions ]] && compgen -G "$regressions/*" >/dev/null; then
    for input in "$regressions"/*; do
      if ! "$exe" -rss_limit_mb=2048 -timeout=10 "$input" >>"$log" 2>&1; then
        echo "fuzz.sh: $t: regression input still fails: $input" >&2
        failed+=("$t (regression $(basename "$input"))")
      fi
    done
  fi

  echo "== fuzzing $t for ${seconds}s"
  rc=0
  "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 \
    "$corpus" "$seeds" >>"$log" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
    tail -1 | grep -o '[0-9]*$' || true)
  if [[ $rc -ne 0 ]]; then
    reproducer=$(grep -o 'Test unit written to .*' "$log" | tail -1 |
      sed 's/Test unit written to //')
    echo "fuzz.sh: $t FAILED (exit $rc); reproducer: ${reproducer:-see $log}" >&2
    grep -E 'runtime error|ERROR: |invariant broken|what\(\)' "$log" |
      head -5 >&2 || true
    # CI keeps only the log: print the input itself so it can be replayed
    # (base64 -d > file; build-fuzz/tests/fuzz/fuzz_<target> file).
    if [[ -n $reproducer && -f $reproducer ]]; then
      echo "fuzz.sh: $t reproducer, base64 (first 8 KiB):" >&2
      head -c 8192 "$reproducer" | base64 -w 100 >&2
    fi
    failed+=("$t")
    summary+=("$t: FAILED after ${execs:-?} executions; reproducer ${reproducer:-none}; log $log")
  else
    summary+=("$t: ok, ${execs:-?} executions")
  fi
done

echo
echo "fuzz.sh summary (${seconds}s per target):"
for line in "${summary[@]}"; do echo "  $line"; done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: failures: ${failed[*]}" >&2
  exit 1
fi
