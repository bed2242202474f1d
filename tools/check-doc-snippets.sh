#!/usr/bin/env bash
# Checks that the guide shows only code the build compiles:
#
#   tools/check-doc-snippets.sh [GUIDE_DIR [SNIPPETS_DIR]]
#
# Every ```cpp block in GUIDE_DIR/*.md (default docs/guide) must directly
# follow a `<!-- snippet: NAME -->` line, and its lines must equal the
# region between `// [START NAME]` and `// [END NAME]` of a file in
# SNIPPETS_DIR/*.cpp (default docs/snippets), without the region's common
# indentation. Every region must be shown by some page and every name be
# unique. Prints each difference and exits 1 when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
guide_dir=${1:-docs/guide}
snippets_dir=${2:-docs/snippets}

work=$(mktemp -d "${TMPDIR:-/tmp}/doc-snippets.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/regions" "$work/blocks"
status=0
fail() {
  echo "check-doc-snippets: $*" >&2
  status=1
}

# Regions: one file per name, dedented by their common indentation.
for source in "$snippets_dir"/*.cpp; do
  awk -v out="$work/regions" -v src="$source" '
    function flush(   i, n, min, line) {
      min = -1
      for (i = 1; i <= count; i++) {
        if (lines[i] ~ /^[ \t]*$/) continue
        match(lines[i], /^ */)
        if (min < 0 || RLENGTH < min) min = RLENGTH
      }
      if (min < 0) min = 0
      for (i = 1; i <= count; i++) {
        line = lines[i]
        print (line ~ /^[ \t]*$/ ? "" : substr(line, min + 1)) > (out "/" name)
      }
      close(out "/" name)
    }
    /\/\/ \[START [A-Za-z0-9_]+\]/ {
      if (name != "") { print src ": region " name " not ended" > "/dev/stderr"; bad = 1 }
      match($0, /\[START [A-Za-z0-9_]+\]/)
      name = substr($0, RSTART + 7, RLENGTH - 8)
      if ((out "/" name) in seen || system("test -e " out "/" name) == 0) {
        print src ": region " name " defined twice" > "/dev/stderr"; bad = 1
      }
      seen[out "/" name] = 1
      count = 0
      next
    }
    /\/\/ \[END [A-Za-z0-9_]+\]/ {
      match($0, /\[END [A-Za-z0-9_]+\]/)
      end = substr($0, RSTART + 5, RLENGTH - 6)
      if (end != name) { print src ": [END " end "] without its START" > "/dev/stderr"; bad = 1 }
      else flush()
      name = ""
      next
    }
    name != "" { lines[++count] = $0 }
    END {
      if (name != "") { print src ": region " name " not ended" > "/dev/stderr"; bad = 1 }
      exit bad
    }' "$source" || status=1
done

# Blocks: every ```cpp fence, named by the marker line just before it.
for page in "$guide_dir"/*.md; do
  awk -v out="$work/blocks" -v page="$page" '
    /^<!-- snippet: [A-Za-z0-9_]+ -->$/ { marker = $3; marker_line = NR; next }
    /^```cpp[ \t]*$/ {
      if (marker == "" || marker_line != NR - 1) {
        print page ":" NR ": a cpp block without a <!-- snippet: NAME --> line before it" > "/dev/stderr"
        bad = 1; name = "-unmarked-" NR
      } else {
        name = marker
        if (system("test -e " out "/" name) == 0) {
          print page ":" NR ": snippet " name " shown twice" > "/dev/stderr"; bad = 1
        }
      }
      in_block = 1; marker = ""
      printf "" > (out "/" name); printf "%s:%d\n", page, NR > (out "/" name ".where")
      close(out "/" name ".where")
      next
    }
    in_block && /^```[ \t]*$/ { in_block = 0; close(out "/" name); next }
    in_block { print > (out "/" name); next }
    { if (NR != marker_line) marker = "" }
    END { exit bad }' "$page" || status=1
done

for block in "$work"/blocks/*; do
  [[ -e $block && $block != *.where ]] || continue
  name=$(basename "$block")
  [[ $name == -unmarked-* ]] && continue
  where=$(cat "$block.where")
  if [[ ! -f $work/regions/$name ]]; then
    fail "$where: snippet $name has no // [START $name] region in $snippets_dir"
  elif ! diff -u --label "$snippets_dir: $name" --label "$where" \
    "$work/regions/$name" "$block" >&2; then
    fail "$where: snippet $name differs from its region (diff above)"
  fi
done
for region in "$work"/regions/*; do
  [[ -e $region ]] || continue
  name=$(basename "$region")
  [[ -f $work/blocks/$name ]] || fail "region $name is shown by no page in $guide_dir"
done

if ((status == 0)); then
  echo "check-doc-snippets: $(find "$work/blocks" -type f ! -name '*.where' | wc -l) snippets match their sources"
fi
exit $status
