#!/usr/bin/env bash
# Builds tests/consumer against e2b-cpp in every supported way: installed
# (find_package and pkg-config), add_subdirectory and FetchContent, and runs
# each result.
#
#   tests/consumer/run.sh <e2b-cpp source dir> <scratch dir>
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work"
jobs=$(nproc)

# A loopback port with nothing listening (the consumer expects a refusal).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

common=(-DCMAKE_BUILD_TYPE=Release -DE2B_BUILD_TESTS=OFF
  -DE2B_BUILD_EXAMPLES=OFF -DE2B_BUILD_LOCAL_SERVER=OFF
  -DE2B_BUILD_BENCHMARKS=OFF)

echo "== install (static) =="
cmake -S "$src" -B "$work/lib" "${common[@]}" -DE2B_INSTALL=ON \
  -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/lib" -j"$jobs" >/dev/null
cmake --install "$work/lib" >/dev/null

echo "== find_package =="
cmake -S "$src/tests/consumer" -B "$work/find_package" \
  -DE2B_CONSUMER_MODE=find_package -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/find_package" -j"$jobs" >/dev/null
"$work/find_package/consumer" "$port"

echo "== find_package COMPONENTS testing =="
# Built only when the library found GoogleTest (E2B_BUILD_TESTING_LIB).
if [[ -f $(dirname "$(find "$work/prefix" -name e2bConfig.cmake | head -n1)")/e2bTestingTargets.cmake ]]; then
  cmake -S "$src/tests/consumer/testing" -B "$work/find_package_testing" \
    -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
  cmake --build "$work/find_package_testing" -j"$jobs" >/dev/null
  # No e2b-local here: the fixture must fail the test with its error.
  set +e
  # FakeE2B needs no server at all.
  "$work/find_package_testing/consumer_test" \
    --gtest_filter='FakeConsumerTest.*' >/dev/null
  out=$(E2B_LOCAL_BIN="$work/no-such-e2b-local" \
    "$work/find_package_testing/consumer_test" \
    --gtest_filter='ConsumerTest.*' 2>&1)
  status=$?
  set -e
  if [[ $status -eq 0 || $out != *"E2B_LOCAL_BIN='$work/no-such-e2b-local'"* ]]; then
    echo "the e2b::testing consumer did not fail with the missing-binary" \
      "error (status $status):" >&2
    echo "$out" >&2
    exit 1
  fi
  testing_checked=1
else
  echo "(e2b::testing not installed: no GoogleTest)"
  testing_checked=0
fi

echo "== pkg-config =="
pc_dir=$(dirname "$(find "$work/prefix" -name e2b.pc | head -n1)")
PKG_CONFIG_PATH="$pc_dir" pkg-config --validate e2b
# shellcheck disable=SC2046
c++ -std=c++17 "$src/tests/consumer/main.cpp" -o "$work/pkgconfig-consumer" \
  $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs e2b)
"$work/pkgconfig-consumer" "$port"

echo "== install (shared) + find_package =="
cmake -S "$src" -B "$work/lib-shared" "${common[@]}" -DE2B_INSTALL=ON \
  -DBUILD_SHARED_LIBS=ON -DCMAKE_INSTALL_PREFIX="$work/prefix-shared" >/dev/null
cmake --build "$work/lib-shared" -j"$jobs" >/dev/null
cmake --install "$work/lib-shared" >/dev/null
cmake -S "$src/tests/consumer" -B "$work/find_package_shared" \
  -DE2B_CONSUMER_MODE=find_package \
  -DCMAKE_PREFIX_PATH="$work/prefix-shared" >/dev/null
cmake --build "$work/find_package_shared" -j"$jobs" >/dev/null
# Not `ldd | grep -q`: under pipefail, grep quitting at the first match can
# kill ldd with SIGPIPE and fail the pipeline although the library is there.
linked=$(ldd "$work/find_package_shared/consumer")
[[ $linked == *libe2b.so* ]] || {
  echo "the shared consumer is not linked against libe2b.so:" >&2
  echo "$linked" >&2; exit 1; }
"$work/find_package_shared/consumer" "$port"

echo "== add_subdirectory =="
cmake -S "$src/tests/consumer" -B "$work/add_subdirectory" \
  -DE2B_CONSUMER_MODE=add_subdirectory -DE2B_SOURCE_DIR="$src" >/dev/null
cmake --build "$work/add_subdirectory" -j"$jobs" >/dev/null
"$work/add_subdirectory/consumer" "$port"

echo "== FetchContent =="
cmake -S "$src/tests/consumer" -B "$work/fetchcontent" \
  -DE2B_CONSUMER_MODE=fetchcontent -DE2B_SOURCE_DIR="$src" >/dev/null
cmake --build "$work/fetchcontent" -j"$jobs" >/dev/null
"$work/fetchcontent/consumer" "$port"

echo "consumer builds: $((5 + testing_checked)) passed, 0 failed"
