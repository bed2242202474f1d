#!/usr/bin/env bash
# Builds the Debian packages (packaging/build-deb.sh), unpacks them into a
# scratch root with dpkg -x (nothing is installed on this machine) and builds
# tests/consumer against that root: find_package with the shared library,
# pkg-config, and the static archive. Checks the SONAME the packages promise
# and that the CMake package and e2b.pc point into the root they were
# unpacked to (relocatable), and runs lintian on the result when present.
#
#   tests/packaging/debian_package.sh <e2b-cpp source dir> <scratch dir>
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
# Kept when the test fails, for a look at build.log and the packages.
finish() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then rm -rf "$work"; else echo "debian package: kept $work" >&2; fi
}
trap finish EXIT
jobs=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}

fail() { echo "debian package: $*" >&2; exit 1; }

"$src/packaging/build-deb.sh" "$src" "$work/debs" >"$work/build.log" 2>&1 ||
  { tail -n 60 "$work/build.log" >&2; fail "dpkg-buildpackage failed"; }

version=$(sed -n '/^project(e2b/,/)/s/^ *VERSION \([0-9][0-9.]*\)$/\1/p' \
  "$src/CMakeLists.txt")
IFS=. read -r major minor _ <<<"$version"
if [[ $major == 0 ]]; then soversion="0.$minor"; else soversion=$major; fi

root="$work/root"
mkdir -p "$root"
debs=()
for deb in "$work/debs/"*.deb; do
  [[ $deb == *-dbgsym_* ]] || debs+=("$deb")
done
[[ ${#debs[@]} -eq 2 ]] || fail "expected 2 .debs, got: ${debs[*]}"
for deb in "${debs[@]}"; do
  echo "== $(basename "$deb") =="
  dpkg-deb --field "$deb" Package Version Depends
  dpkg -x "$deb" "$root"
done
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir="$root/usr/lib/$arch"

echo "== contents =="
for f in usr/include/e2b/e2b.hpp usr/include/e2b/version.hpp \
  usr/include/e2b/version.h "usr/lib/$arch/libe2b.a" \
  "usr/lib/$arch/libe2b.so" "usr/lib/$arch/libe2b.so.$soversion" \
  "usr/lib/$arch/libe2b.so.$version" "usr/lib/$arch/cmake/e2b/e2bConfig.cmake" \
  "usr/lib/$arch/cmake/e2b/e2bConfigVersion.cmake" \
  "usr/lib/$arch/pkgconfig/e2b.pc"; do
  [[ -e $root/$f ]] || fail "missing $f"
done
soname=$(readelf -d "$libdir/libe2b.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == "libe2b.so.$soversion" ]] ||
  fail "SONAME is '$soname', expected libe2b.so.$soversion"
# Every public header compiles on its own from the unpacked root.
for h in "$root"/usr/include/e2b/*.h*; do
  echo "#include <e2b/$(basename "$h")>" |
    c++ -std=c++17 -fsyntax-only -I"$root/usr/include" -x c++ - ||
    fail "e2b/$(basename "$h") does not compile alone"
done
# A CMake package that names a build or staging path is not relocatable.
if grep -rlE "$work|/debian/tmp|obj-(static|shared)" "$libdir/cmake/e2b" "$libdir/pkgconfig"; then
  fail "the CMake package or e2b.pc names a build path"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export LD_LIBRARY_PATH="$libdir"

echo "== find_package (shared) =="
cmake -S "$src/tests/consumer" -B "$work/find_package" \
  -DE2B_CONSUMER_MODE=find_package -DCMAKE_PREFIX_PATH="$root/usr" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build "$work/find_package" -j"$jobs" >/dev/null
grep -q -- "-isystem $root/usr/include" "$work/find_package/compile_commands.json" ||
  fail "find_package(e2b) did not take its headers from $root/usr/include"
needed=$(readelf -d "$work/find_package/consumer")
[[ $needed == *"[libe2b.so.$soversion]"* ]] ||
  fail "the consumer does not need libe2b.so.$soversion: $needed"
resolved=$(ldd "$work/find_package/consumer")
[[ $resolved == *"$libdir/libe2b.so.$soversion"* ]] ||
  fail "libe2b does not resolve into the root: $resolved"
"$work/find_package/consumer" "$port"

echo "== pkg-config (shared) =="
# The sysroot prefixes -I and -L with the root, as for a cross build.
pc() { PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
  pkg-config "$@"; }
pc --validate e2b
[[ $(pc --modversion e2b) == "$version" ]] || fail "e2b.pc is not $version"
# shellcheck disable=SC2046
c++ -std=c++17 "$src/tests/consumer/main.cpp" -o "$work/pkgconfig-consumer" \
  $(pc --cflags --libs e2b)
"$work/pkgconfig-consumer" "$port"

echo "== static archive =="
# shellcheck disable=SC2046
c++ -std=c++17 "$src/tests/consumer/main.cpp" -o "$work/static-consumer" \
  $(pc --cflags e2b) "$libdir/libe2b.a" $(pkg-config --libs libcurl) -pthread
linked=$(ldd "$work/static-consumer")
[[ $linked != *libe2b* ]] || fail "the static consumer loads libe2b: $linked"
"$work/static-consumer" "$port"

if command -v lintian >/dev/null; then
  echo "== lintian =="
  # Errors fail the test; warnings and notes are printed for the maintainer.
  lintian --fail-on error --tag-display-limit 0 "$work/debs/"*.changes
else
  echo "lintian is not installed: skipped (tools/install-deps.sh installs it)"
fi
echo "debian package: built, unpacked and consumed 3 ways"
