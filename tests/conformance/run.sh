#!/usr/bin/env bash
# Runs the official E2B JS SDK (npm "e2b", pinned in package.json) against a
# freshly started e2b-local, to prove e2b-local speaks the real protocol.
#
#   tests/conformance/run.sh <path-to-e2b-local-binary> [args...]
#
# Extra args ending in .test.mjs select test files (default: all of them);
# other extra args go to `node --test` (e.g. --test-name-pattern=stdin).
#
# The server gets free ports, a throw-away state directory and a random API
# key; the SDK only sees E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY, exactly
# as a user pointing it at e2b-local would. Exit status is the test result.
set -euo pipefail

if [[ $# -lt 1 || "$1" == "-h" || "$1" == "--help" ]]; then
  echo "usage: $0 <path-to-e2b-local-binary> [file.test.mjs...] [node --test args...]" >&2
  exit 2
fi

server_bin=$1
shift
if [[ ! -x "$server_bin" ]]; then
  echo "run.sh: '$server_bin' is not an executable file" >&2
  exit 2
fi
server_bin=$(cd "$(dirname "$server_bin")" && pwd)/$(basename "$server_bin")

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

# Upper bounds, so a hung server or SDK can never hang CI.
startup_timeout_s=${E2B_CONFORMANCE_STARTUP_TIMEOUT:-30}
suite_timeout_s=${E2B_CONFORMANCE_TIMEOUT:-600}
shutdown_timeout_s=15

if [[ ! -d node_modules/e2b ]]; then
  echo "run.sh: installing the pinned SDK (npm)" >&2
  if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund >&2
  else
    npm install --no-audit --no-fund >&2
  fi
fi

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/e2b-conformance.XXXXXX")
state_dir="$work_dir/state"
mkdir -p "$state_dir"
server_out="$work_dir/server.stdout"
server_log="$work_dir/server.stderr"
server_pid=""
server_status=""

stop_server() {
  [[ -n "$server_pid" ]] || return 0
  local pid=$server_pid
  server_pid=""
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null && ((waited < shutdown_timeout_s * 10)); do
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: e2b-local ignored SIGTERM for ${shutdown_timeout_s}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  set +e
  wait "$pid" 2>/dev/null
  server_status=$?
  set -e
}

print_server_log() {
  if [[ -s "$server_log" ]]; then
    echo "----- e2b-local stderr (last 80 lines) -----" >&2
    tail -n 80 "$server_log" >&2
    echo "----- end of e2b-local stderr -----" >&2
  fi
}

cleanup() {
  local rc=$?
  stop_server
  if ((rc != 0)); then
    print_server_log
  fi
  # A server that leaks mounts must not make us delete through them.
  if grep -q " $state_dir" /proc/self/mounts 2>/dev/null; then
    echo "run.sh: e2b-local left mounts under $state_dir:" >&2
    grep " $state_dir" /proc/self/mounts >&2 || true
  fi
  rm -rf --one-file-system "$work_dir" 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

api_key="e2b_$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')"

"$server_bin" --host 127.0.0.1 --api-port 0 --envd-port 0 \
  --state-dir "$state_dir" --api-key "$api_key" \
  >"$server_out" 2>"$server_log" &
server_pid=$!

# Wait for the three lines e2b-local prints once both listeners are bound.
deadline=$((SECONDS + startup_timeout_s))
while :; do
  if [[ $(grep -c '^E2B_' "$server_out" 2>/dev/null || true) -ge 3 ]]; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: e2b-local exited before printing its URLs" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "run.sh: e2b-local printed no URLs within ${startup_timeout_s}s" >&2
    exit 1
  fi
  sleep 0.1
done

api_url=$(sed -n 's/^E2B_API_URL=//p' "$server_out" | head -n 1)
sandbox_url=$(sed -n 's/^E2B_SANDBOX_URL=//p' "$server_out" | head -n 1)
printed_key=$(sed -n 's/^E2B_API_KEY=//p' "$server_out" | head -n 1)
if [[ ! "$api_url" =~ ^http://127\.0\.0\.1:[0-9]+$ ||
      ! "$sandbox_url" =~ ^http://127\.0\.0\.1:[0-9]+$ ]]; then
  echo "run.sh: unexpected startup lines from e2b-local:" >&2
  cat "$server_out" >&2
  exit 1
fi
if [[ "$printed_key" != "$api_key" ]]; then
  echo "run.sh: e2b-local printed a different API key than --api-key" >&2
  exit 1
fi

# Only what a user would set; anything inherited that changes SDK behaviour
# (debug mode, another domain) is removed.
unset E2B_DEBUG E2B_DOMAIN E2B_ACCESS_TOKEN E2B_VOLUME_API_URL
export E2B_API_URL="$api_url"
export E2B_SANDBOX_URL="$sandbox_url"
export E2B_API_KEY="$api_key"
# The JS SDK sends volume content requests here (default: api.<domain>).
export E2B_VOLUME_API_URL="$api_url"
# restart.test.mjs starts servers of its own (it stops and crashes them).
export E2B_LOCAL_BIN="$server_bin"

echo "run.sh: e2b-local at $E2B_API_URL (envd $E2B_SANDBOX_URL)" >&2

shopt -s nullglob
test_files=()
node_args=()
for arg in "$@"; do
  if [[ "$arg" == *.test.mjs ]]; then
    test_files+=("$(basename "$arg")")
  else
    node_args+=("$arg")
  fi
done
if ((${#test_files[@]} == 0)); then
  test_files=(*.test.mjs)
fi
if ((${#test_files[@]} == 0)); then
  echo "run.sh: no *.test.mjs files in $here" >&2
  exit 1
fi

set +e
timeout --signal=TERM --kill-after=10 "$suite_timeout_s" \
  node --test --test-concurrency=1 --test-timeout=300000 \
  ${node_args[@]+"${node_args[@]}"} "${test_files[@]}"
tests_rc=$?
set -e
if ((tests_rc == 124)); then
  echo "run.sh: the suite exceeded ${suite_timeout_s}s and was stopped" >&2
fi

stop_server
if [[ "$server_status" != "0" ]]; then
  echo "run.sh: e2b-local exited with status $server_status on SIGTERM (want 0)" >&2
  if ((tests_rc == 0)); then
    tests_rc=1
  fi
fi
exit "$tests_rc"
