#!/usr/bin/env bash
# The README's first command: install what is missing, build e2b-cpp and
# e2b-local, start e2b-local on loopback, run examples/basic against it,
# and stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/install-deps.sh
build_dir=${E2B_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DE2B_BUILD_TESTS=OFF -DE2B_BUILD_EXAMPLES=ON -DE2B_BUILD_LOCAL_SERVER=ON
cmake --build "$build_dir" --target e2b-local example_basic -j"$(nproc)"

# e2b-local isolates sandboxes with user, mount, PID and network
# namespaces, cgroups and seccomp, which need root. Every sandbox stacks on
# its own Debian root filesystem, built once (about 4 minutes) and cached.
sudo=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  sudo="sudo --preserve-env=PATH"
fi
$sudo "$build_dir/tools/e2b-local/e2b-local" --prepare-rootfs
$sudo ./tools/with-e2b-local.sh "$build_dir/tools/e2b-local/e2b-local" \
  "$build_dir/examples/basic"
