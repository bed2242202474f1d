#!/usr/bin/env bash
# Installs the Debian 12 packages e2b-cpp needs to build and test, using
# sudo when not root. Installs only what is missing, so it is quick to rerun.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libcurl4-openssl-dev nlohmann-json3-dev libcpp-httplib-dev
  libssl-dev zlib1g-dev libbrotli-dev
  googletest libgtest-dev libbenchmark-dev
  util-linux procps iproute2 curl
  clang libclang-rt-14-dev clang-format clang-tidy jq
  # The reference docs: the docs.doxygen test fails without it.
  doxygen
  # The Debian package test (tests/packaging/debian_package.sh).
  debhelper dpkg-dev fakeroot lintian
  # e2b-local's sandboxes: the base root filesystem (mmdebstrap, the Debian
  # keys it checks the mirror with; zstd for --rootfs *.tar.zst), the
  # seccomp filter of the sandbox init, user-mode networking and the
  # sandbox's egress rules.
  mmdebstrap debian-archive-keyring zstd
  libseccomp-dev libnftables-dev slirp4netns nftables e2fsprogs
)
# The conformance suite runs the official JS SDK; keep an existing Node.js.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
