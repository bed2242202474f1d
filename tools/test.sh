#!/usr/bin/env bash
# The README's second command: install what is missing, build everything
# with warnings as errors, and run the whole suite through ctest: unit
# tests, e2b-local's own tests, integration tests against e2b-local, the
# official JS SDK conformance suite, every example against e2b-local, and
# the consumer-project builds.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/install-deps.sh
build_dir=${E2B_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${E2B_BUILD_TYPE:-RelWithDebInfo} \
  -DE2B_WERROR=ON -DE2B_BUILD_TESTS=ON -DE2B_BUILD_EXAMPLES=ON \
  -DE2B_BUILD_LOCAL_SERVER=ON ${E2B_CMAKE_ARGS:-}
cmake --build "$build_dir" -j"$(nproc)"

sudo=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  sudo="sudo --preserve-env=PATH"
fi
# Every sandbox stacks on e2b-local's own Debian root filesystem: build it
# (about 4 minutes, once; then cached) before the tests start servers.
$sudo "$build_dir/tools/e2b-local/e2b-local" --prepare-rootfs
$sudo ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" \
  --timeout 600 "$@"
