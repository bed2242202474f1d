#!/usr/bin/env bash
# Makes a small two-layer image from this host's bash and coreutils (with
# their libraries) in the two offline forms e2b-local's FromImage reads:
#   make_test_image.sh <images-dir> <name> <tag>
# writes <images-dir>/<name>-oci:<tag>/ (an OCI image layout),
# <images-dir>/<name>-ociarchive:<tag>.tar (the same as an oci-archive) and
# <images-dir>/<name>-docker:<tag>.tar (a docker-archive).
# Layer 1: the binaries, /etc/image-release ("from-image"), /work and
# /removed.txt; layer 2 (gzipped): /etc/layer2 and a whiteout of
# /removed.txt. Config: Env IMAGE_VAR=hello, WorkingDir /work.
set -euo pipefail
images=$1 name=$2 tag=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/etc" "$root/work" "$root/tmp"
for b in bash sh cat ls id whoami mkdir rm env echo stat test; do
  path=$(type -P "$b")
  mkdir -p "$root$(dirname "$path")"
  cp -L "$path" "$root$path"
  for lib in $(ldd "$path" 2>/dev/null | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
done
# As a usrmerge distribution: /bin is /usr/bin.
if [[ ! -e $root/bin ]]; then ln -s usr/bin "$root/bin"; fi
echo from-image > "$root/etc/image-release"
echo gone > "$root/removed.txt"
echo 'root:x:0:0:root:/root:/bin/bash' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
tar -C "$root" --numeric-owner -cf "$tmp/l1.tar" .
mkdir -p "$tmp/l2/etc"
echo second-layer > "$tmp/l2/etc/layer2"
: > "$tmp/l2/.wh.removed.txt"
tar -C "$tmp/l2" --numeric-owner -czf "$tmp/l2.tar.gz" .
digest() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
cat > "$tmp/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/bin:/usr/bin:/bin","IMAGE_VAR=hello"],"WorkingDir":"/work"},"rootfs":{"type":"layers","diff_ids":[]}}
JSON

# OCI image layout
oci=$images/$name-oci:$tag
mkdir -p "$oci/blobs/sha256"
for f in l1.tar l2.tar.gz config.json; do
  cp "$tmp/$f" "$oci/blobs/sha256/$(digest "$tmp/$f")"
done
cat > "$tmp/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$(digest "$tmp/config.json")","size":$(size "$tmp/config.json")},
 "layers":[
  {"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$(digest "$tmp/l1.tar")","size":$(size "$tmp/l1.tar")},
  {"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$(digest "$tmp/l2.tar.gz")","size":$(size "$tmp/l2.tar.gz")}]}
JSON
cp "$tmp/manifest.json" "$oci/blobs/sha256/$(digest "$tmp/manifest.json")"
echo '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
cat > "$oci/index.json" <<JSON
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$(digest "$tmp/manifest.json")","size":$(size "$tmp/manifest.json"),"annotations":{"org.opencontainers.image.ref.name":"$tag"}}]}
JSON

tar -C "$oci" -cf "$images/$name-ociarchive:$tag.tar" .

# docker-archive
mkdir -p "$tmp/docker"
cp "$tmp/l1.tar" "$tmp/l2.tar.gz" "$tmp/config.json" "$tmp/docker/"
cat > "$tmp/docker/manifest.json" <<JSON
[{"Config":"config.json","RepoTags":["$name-docker:$tag"],"Layers":["l1.tar","l2.tar.gz"]}]
JSON
mkdir -p "$(dirname "$images/$name-docker:$tag.tar")"
tar -C "$tmp/docker" -cf "$images/$name-docker:$tag.tar" .
