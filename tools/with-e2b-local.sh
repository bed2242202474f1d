#!/usr/bin/env bash
# Runs a command against a fresh e2b-local on free loopback ports.
#
#   tools/with-e2b-local.sh <e2b-local binary> <command> [args...]
#
# Starts the server with its own temporary state directory, exports
# E2B_API_URL, E2B_SANDBOX_URL, E2B_API_KEY and E2B_VOLUME_API_URL for the
# command, and always stops the server afterwards. Exits with the command's status.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 <e2b-local binary> <command> [args...]" >&2
  exit 2
fi
server_bin=$1
shift

workdir=$(mktemp -d "${TMPDIR:-/tmp}/e2b-local-run.XXXXXX")
server_pid=""
cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -s "$workdir/server.log" ]]; then
    echo "---- e2b-local log (tail) ----" >&2
    tail -n 40 "$workdir/server.log" >&2
  fi
  rm -rf "$workdir"
  exit $status
}
trap cleanup EXIT INT TERM

api_key="e2b_$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$server_bin" --host 127.0.0.1 --api-port 0 --envd-port 0 \
  --state-dir "$workdir/state" --api-key "$api_key" \
  >"$workdir/server.out" 2>"$workdir/server.log" &
server_pid=$!

# Wait for the three E2B_* lines (the server prints them once both
# listeners are bound).
for _ in $(seq 1 200); do
  if [[ $(grep -c '^E2B_' "$workdir/server.out" 2>/dev/null || true) -ge 3 ]]; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "e2b-local exited before it was ready" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ $(grep -c '^E2B_' "$workdir/server.out" || true) -lt 3 ]]; then
  echo "e2b-local did not become ready within 20 s" >&2
  exit 1
fi

E2B_API_URL=$(sed -n 's/^E2B_API_URL=//p' "$workdir/server.out")
E2B_SANDBOX_URL=$(sed -n 's/^E2B_SANDBOX_URL=//p' "$workdir/server.out")
E2B_API_KEY=$(sed -n 's/^E2B_API_KEY=//p' "$workdir/server.out")
E2B_VOLUME_API_URL=$(sed -n 's/^E2B_VOLUME_API_URL=//p' "$workdir/server.out")
export E2B_API_URL E2B_SANDBOX_URL E2B_API_KEY E2B_VOLUME_API_URL
unset E2B_DOMAIN E2B_DEBUG

set +e
"$@"
status=$?
set -e
exit $status
