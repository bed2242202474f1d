#!/usr/bin/env bash
# What CI can check of the vcpkg port and the Conan recipe without vcpkg,
# Conan or a network (packaging/README.md lists what it cannot):
#  - both name the version CMakeLists.txt sets (vcpkg.json literally, the
#    Conan recipe through the expression its set_version() applies);
#  - both read their CMake options from packaging/cmake-options.txt;
#  - those options configure, build and install e2b-cpp (static, the default
#    of vcpkg's x64-linux triplet and of the recipe's shared=False), and
#    the Conan test_package and tests/consumer build and run against the
#    installed result (find_package and pkg-config).
#
#   tests/packaging/recipe_options.sh <e2b-cpp source dir> <scratch dir>
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
finish() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then rm -rf "$work"; else echo "package recipes: kept $work" >&2; fi
}
trap finish EXIT
jobs=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
fail() { echo "package recipes: $*" >&2; exit 1; }

options_file="$src/packaging/cmake-options.txt"
port="$src/packaging/vcpkg/ports/e2b-cpp"
conanfile="$src/packaging/conan/conanfile.py"

echo "== versions =="
version=$(sed -n '/^project(e2b/,/)/s/^ *VERSION \([0-9][0-9.]*\)$/\1/p' \
  "$src/CMakeLists.txt")
vcpkg_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version-semver"])' \
  "$port/vcpkg.json")
[[ $vcpkg_version == "$version" ]] ||
  fail "vcpkg.json says $vcpkg_version, CMakeLists.txt $version"
# The recipe imports conan, which is not installed here: read its
# VERSION_RE constant without running it and apply it as set_version() does.
conan_version=$(python3 - "$conanfile" "$src/CMakeLists.txt" <<'PY'
import ast, re, sys
tree = ast.parse(open(sys.argv[1]).read())
expr = next(node.value.value for node in tree.body
            if isinstance(node, ast.Assign)
            and getattr(node.targets[0], "id", "") == "VERSION_RE")
print(re.search(expr, open(sys.argv[2]).read()).group(1))
PY
)
[[ $conan_version == "$version" ]] ||
  fail "the Conan recipe finds version $conan_version, CMakeLists.txt says $version"
echo "CMakeLists.txt, vcpkg.json and conanfile.py: $version"

echo "== options =="
grep -q 'packaging/cmake-options.txt' "$port/portfile.cmake" ||
  fail "the vcpkg portfile does not read packaging/cmake-options.txt"
grep -q '"packaging", "cmake-options.txt"' "$conanfile" ||
  fail "the Conan recipe does not read packaging/cmake-options.txt"
mapfile -t options < <(grep '^-D' "$options_file")
[[ ${#options[@]} -gt 0 ]] || fail "no option in $options_file"
printf '%s\n' "${options[@]}"

echo "== configure, build, install with the recipes' options =="
prefix="$work/prefix"
cmake -S "$src" -B "$work/build" "${options[@]}" -DBUILD_SHARED_LIBS=OFF \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$work/build" -j"$jobs" >/dev/null
cmake --install "$work/build" >/dev/null
# The options must leave out everything but the library.
[[ ! -e $prefix/bin ]] || fail "the install has programs: $(ls "$prefix/bin")"
for f in include/e2b/e2b.hpp include/e2b/version.h include/e2b/version.hpp \
  lib/cmake/e2b/e2bConfig.cmake lib/pkgconfig/e2b.pc lib/libe2b.a; do
  [[ -e $prefix/$f ]] || fail "the install lacks $f"
done
# Both recipes install it as the package's copyright.
[[ -f $src/LICENSE ]] || fail "no LICENSE to package"

port_number=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

echo "== Conan test_package against the install (find_package) =="
cmake -S "$src/packaging/conan/test_package" -B "$work/test_package" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >/dev/null
cmake --build "$work/test_package" -j"$jobs" >/dev/null
"$work/test_package/test_package"

echo "== tests/consumer against the install (pkg-config) =="
pc_dir=$(dirname "$(find "$prefix" -name e2b.pc | head -n1)")
# shellcheck disable=SC2046
c++ -std=c++17 "$src/tests/consumer/main.cpp" -o "$work/consumer" \
  $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs e2b)
"$work/consumer" "$port_number"
echo "package recipes: versions, options and the installed result agree"
