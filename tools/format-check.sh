#!/usr/bin/env bash
# Checks that every C++ file under include/ src/ tests/ tools/ examples/
# docs/snippets/ is formatted as .clang-format says (clang-format --dry-run
# -Werror). Prints each file that is not, with the command that fixes it,
# and exits 1 when there is one; 0 when all are formatted; 2 when
# clang-format is missing.
#
#   tools/format-check.sh            # the whole tree
#   tools/format-check.sh FILE...    # only these files
#   CLANG_FORMAT=clang-format-14 tools/format-check.sh
#
# The files are the ones git tracks plus untracked ones it does not ignore,
# so build directories and node_modules (both in .gitignore) never count;
# third-party directories are left out by name as well. Outside a git
# checkout it falls back to find with the same exclusions.
set -euo pipefail
cd "$(dirname "$0")/.."

clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "format-check: $clang_format not found (apt-get install clang-format)" >&2
  exit 2
fi

dirs=(include src tests tools examples docs/snippets)
extensions='\.(cpp|hpp|cc|hh|cxx|hxx|h|c|ipp|inc)$'
excluded='(^|/)(build[^/]*|node_modules|third_party|third-party|vendor|external)/'

list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard -- "${dirs[@]}"
  else
    find "${dirs[@]}" -type f 2>/dev/null
  fi
}

files=()
if (($# > 0)); then
  files=("$@")
else
  while IFS= read -r file; do
    [[ -f $file ]] && files+=("$file")
  done < <(list_files | grep -E "$extensions" | grep -Ev "$excluded" | sort)
fi

# One clang-format process for all files (one per file costs a minute on
# two cores); each violation is reported as "<file>:<line>:<col>: error:".
unformatted=()
if ((${#files[@]} > 0)); then
  report=$("$clang_format" --dry-run -Werror "${files[@]}" 2>&1 >/dev/null) ||
    true
  while IFS= read -r file; do
    [[ -n $file ]] && unformatted+=("$file")
  done < <(sed -nE 's/^(.+):[0-9]+:[0-9]+: (error|warning): .*/\1/p' \
    <<<"$report" | sort -u)
  if [[ -n $report && ${#unformatted[@]} -eq 0 ]]; then
    # Not a formatting report (an unreadable file, a bad .clang-format).
    echo "format-check: clang-format failed:" >&2
    echo "$report" >&2
    exit 2
  fi
fi

if ((${#unformatted[@]} > 0)); then
  echo "format-check: ${#unformatted[@]} of ${#files[@]} files are not clang-formatted ($("$clang_format" --version | head -n1)):"
  printf '  %s\n' "${unformatted[@]}"
  echo "fix with: $clang_format -i <file>...  (see .clang-format)"
  exit 1
fi
echo "format-check: all ${#files[@]} files are clang-formatted"
