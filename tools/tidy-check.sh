#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy's checks, every finding an error) over the
# library and e2b-local: every .cpp under src/ and tools/e2b-local/, and
# through .clang-tidy's header filter the headers of include/e2b/, src/
# and tools/e2b-local/ they include. Prints each finding once (a header
# included by ten files is reported once) and a one-line summary; exits 1
# when there is a finding, 0 when there is none, 2 when clang-tidy or jq
# is missing or could not run (configure failed, a file that is not in the
# compilation database, a crash).
#
#   tools/tidy-check.sh                     # src/ and tools/e2b-local/
#   tools/tidy-check.sh src/a.cpp ...       # only these .cpp files
#   CLANG_TIDY=clang-tidy-16 tools/tidy-check.sh
#   E2B_TIDY_BUILD_DIR=build-tidy tools/tidy-check.sh   # keep the build dir
#
# It only configures (for compile_commands.json and the generated version
# header), never builds: about 5 minutes on 2 idle cores, all clang-tidy.
# e2b-local is configured, so its dependencies (tools/install-deps.sh) must
# be installed; the tests and the examples are not checked yet, so they are
# not configured.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

clang_tidy=${CLANG_TIDY:-clang-tidy}
if ! command -v "$clang_tidy" >/dev/null 2>&1; then
  echo "tidy-check: $clang_tidy not found (apt-get install clang-tidy)" >&2
  exit 2
fi
if ! command -v jq >/dev/null 2>&1; then
  echo "tidy-check: jq not found (apt-get install jq)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/e2b-tidy.XXXXXX")
trap 'rm -rf "$work"' EXIT
build_dir=${E2B_TIDY_BUILD_DIR:-$work/build}
if ! cmake -S . -B "$build_dir" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DE2B_BUILD_TESTS=OFF -DE2B_BUILD_EXAMPLES=OFF -DE2B_BUILD_BENCHMARKS=OFF \
  -DE2B_BUILD_LOCAL_SERVER=ON >"$work/configure.log" 2>&1; then
  echo "tidy-check: cmake configure failed:" >&2
  cat "$work/configure.log" >&2
  exit 2
fi
# e2b_local_core compiles its own copy of src/internal/connect_envelope.cpp,
# so that file has two entries, and clang-tidy would check it once per entry.
# Keep only the library's: a database without e2b_local_core's entries for
# files outside tools/e2b-local/.
mkdir -p "$work/db"
if ! jq '[.[] | select((.file | contains("/tools/e2b-local/")) or
    ((.output // .command) | contains("/e2b_local_core.dir/") | not))]' \
  "$build_dir/compile_commands.json" >"$work/db/compile_commands.json"; then
  echo "tidy-check: could not read $build_dir/compile_commands.json" >&2
  exit 2
fi

files=()
if (($# > 0)); then
  files=("$@")
else
  while IFS= read -r file; do
    [[ -f $file ]] && files+=("$file")
  done < <(git ls-files --cached --others --exclude-standard -- 'src/*.cpp' \
    'tools/e2b-local/*.cpp' 2>/dev/null ||
    find src tools/e2b-local -name '*.cpp')
fi
if ((${#files[@]} == 0)); then
  echo "tidy-check: no files to check" >&2
  exit 2
fi

# One clang-tidy per file, $(nproc) at a time; each writes its own log so
# parallel output never interleaves. Header filter and checks come from
# .clang-tidy; --warnings-as-errors makes clang-tidy's exit status say
# "found something", which tells a clean file from one it could not check.
mkdir -p "$work/logs"
export E2B_TIDY_BIN=$clang_tidy E2B_TIDY_DB=$work/db E2B_TIDY_LOGS=$work/logs
# shellcheck disable=SC2016  # expanded by the inner sh, once per file
printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "$(nproc)" sh -c '
  log="$E2B_TIDY_LOGS/$(printf %s "$1" | tr / _).log"
  "$E2B_TIDY_BIN" -p "$E2B_TIDY_DB" --quiet --warnings-as-errors="*" "$1" \
    >"$log" 2>&1 || printf "%s\n" "$1" >>"$E2B_TIDY_LOGS/failed.list"
' sh

# A diagnostic is its "<file>:<line>:<col>: warning|error: ... [check]"
# line plus the source excerpt and notes under it. Keep the first copy of
# each, with paths relative to the checkout.
diagnostic='^[^ ]+:[0-9]+:[0-9]+: (warning|error): '
cat "$work"/logs/*.log | sed "s|^$root/||" | awk -v start="$diagnostic" '
  function flush() { if (key != "" && !(key in seen)) { seen[key] = 1; printf "%s", block } }
  $0 ~ start { flush(); key = $0; block = ""; }
  key != "" && $0 !~ /^[0-9]+ (warnings?|errors?) generated\.$/ { block = block $0 "\n" }
  END { flush() }
' >"$work/findings.txt"
count=$(grep -cE "$diagnostic" "$work/findings.txt" || true)

if ((count > 0)); then
  cat "$work/findings.txt"
  checked_files=$(grep -E "$diagnostic" "$work/findings.txt" | cut -d: -f1 |
    sort -u | wc -l)
  echo "tidy-check: $count findings in $checked_files files ($(
    "$clang_tidy" --version | grep -o 'version [0-9.]*'); ${#files[@]} .cpp files checked)"
  exit 1
fi
if [[ -s $work/logs/failed.list ]]; then
  # clang-tidy failed without a diagnostic: say what it printed.
  echo "tidy-check: clang-tidy failed on:" >&2
  while IFS= read -r file; do
    echo "  $file" >&2
    sed 's/^/    /' "$work/logs/$(printf %s "$file" | tr / _).log" >&2
  done <"$work/logs/failed.list"
  exit 2
fi
echo "tidy-check: no findings in ${#files[@]} files ($(
  "$clang_tidy" --version | grep -o 'version [0-9.]*'))"
