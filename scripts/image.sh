#!/usr/bin/env bash
# image.sh - build augur's OCI image offline with umoci (Debian package) from a
# locally built static binary: no base image, no registry, no daemon. The
# layout is the Dockerfile's final stage: /usr/local/bin/augur, the CA
# certificates of Debian's ca-certificates package, an empty /tmp, user
# 65532:65532, ENTRYPOINT augur, OCI version labels.
#
#   scripts/image.sh BINARY OUT_DIR
#
# The version labels are what the binary itself reports (augur version -o json).
#
# OUT_DIR/oci is an OCI image layout (tag "augur:latest" and "augur:VERSION");
# OUT_DIR/augur-oci.tar is the same as an oci-archive (skopeo copy
# oci-archive:OUT_DIR/augur-oci.tar docker://REGISTRY/augur:TAG pushes it).
set -euo pipefail
bin="${1:?binary}" out="${2:?out dir}"
command -v umoci >/dev/null || { echo "image.sh: umoci not found (apt-get install umoci)" >&2; exit 1; }
certs=/etc/ssl/certs/ca-certificates.crt
[[ -s "$certs" ]] || { echo "image.sh: $certs missing (apt-get install ca-certificates)" >&2; exit 1; }
file "$bin" 2>/dev/null | grep -q 'statically linked' || ldd "$bin" 2>&1 | grep -q 'not a dynamic executable' || {
  echo "image.sh: $bin is not a static binary (build with CGO_ENABLED=0)" >&2; exit 1; }
info=$("$bin" version -o json)
field() { printf '%s\n' "$info" | sed -n "s/^ *\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p"; }
version=$(field version) commit=$(field commit)
[[ -n "$version" && -n "$commit" ]] || { echo "image.sh: cannot read the version of $bin: $info" >&2; exit 1; }
tag="${version//[^A-Za-z0-9_.-]/}"; tag="${tag:-devel}"
rm -rf "$out/oci" "$out/bundle" "$out/augur-oci.tar"
mkdir -p "$out"
umoci init --layout "$out/oci"
umoci new --image "$out/oci:latest"
umoci unpack --rootless --image "$out/oci:latest" "$out/bundle" >/dev/null
root="$out/bundle/rootfs"
install -D -m 0755 "$bin" "$root/usr/local/bin/augur"
install -D -m 0644 "$certs" "$root/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$root/tmp" && chmod 1777 "$root/tmp"
umoci repack --image "$out/oci:latest" "$out/bundle"
umoci config --image "$out/oci:latest" --tag "$tag" \
  --os linux --architecture "$(go env GOARCH 2>/dev/null || echo amd64)" \
  --config.entrypoint /usr/local/bin/augur --config.cmd serve --config.cmd --listen=:8080 \
  --config.user 65532:65532 --config.workingdir / --config.exposedports 8080/tcp \
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --config.label org.opencontainers.image.title=augur \
  --config.label "org.opencontainers.image.source=https://github.com/augurproj/augur" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$commit"
umoci tag --image "$out/oci:$tag" latest
umoci gc --layout "$out/oci"
rm -rf "$out/bundle"
tar -C "$out/oci" -cf "$out/augur-oci.tar" .
echo "image.sh: $out/oci (tags latest, $tag), $out/augur-oci.tar ($(du -h "$out/augur-oci.tar" | cut -f1))" >&2
