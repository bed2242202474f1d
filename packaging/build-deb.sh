#!/usr/bin/env bash
# Builds the Debian source and binary packages of e2b-cpp (libe2b-dev and
# libe2b<soversion>) from a source tree, with dpkg-buildpackage and the
# recipe in packaging/debian/. The package version comes from CMakeLists.txt
# (the one place a release sets it); debian/changelog is generated from it.
#
#   packaging/build-deb.sh <e2b-cpp source dir> <output dir>
#
# The output dir receives the .dsc, the tarballs, the .debs and the .changes.
# Needs dpkg-dev, debhelper and the Build-Depends of packaging/debian/control.
# DEB_JOBS sets the parallel build jobs (default: all cores).
set -euo pipefail
src=$(cd "$1" && pwd)
out=$2

version=$(sed -n '/^project(e2b/,/)/s/^ *VERSION \([0-9][0-9.]*\)$/\1/p' \
  "$src/CMakeLists.txt")
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || {
  echo "cannot read project(e2b VERSION x.y.z) from $src/CMakeLists.txt" >&2
  exit 1; }
major=${BASH_REMATCH[1]}
minor=${BASH_REMATCH[2]}
# The SONAME policy of docs/ABI.md: 0.MINOR while 0.x, MAJOR from 1.0.
if [[ $major == 0 ]]; then soversion="0.$minor"; else soversion=$major; fi
if ! grep -qx "Package: libe2b$soversion" "$src/packaging/debian/control"; then
  echo "packaging/debian/control must name the shared library package" \
    "libe2b$soversion (SONAME libe2b.so.$soversion for version $version)" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
tree="$out/e2b-cpp-$version"
mkdir "$tree"

# The upstream tree: the files git knows (tracked and new, not ignored) when
# it is the top of a checkout, else everything but build directories.
if [[ $(git -C "$src" rev-parse --show-toplevel 2>/dev/null) == "$src" ]]; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$tree"
else
  tar -C "$src" --exclude='./build*' --exclude=./.git --exclude=./debian \
    -cf - . | tar -xf - -C "$tree"
fi
tar -C "$out" --exclude="e2b-cpp-$version/debian" \
  -czf "$out/e2b-cpp_$version.orig.tar.gz" "e2b-cpp-$version"

cp -r "$src/packaging/debian" "$tree/debian"
cat >"$tree/debian/changelog" <<CHANGELOG
e2b-cpp ($version-1) unstable; urgency=medium

  * Upstream release $version; see CHANGELOG.md.

 -- $(sed -n 's/^Maintainer: //p' "$src/packaging/debian/control")  $(date -R -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")
CHANGELOG

export DEB_BUILD_OPTIONS="nocheck parallel=${DEB_JOBS:-$(nproc)}"
(cd "$tree" && dpkg-buildpackage -us -uc)
rm -rf "$tree"
ls "$out"
