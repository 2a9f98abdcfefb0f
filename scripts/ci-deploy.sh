#!/usr/bin/env bash
# ci-deploy.sh - CI for augur's deployment artefacts (called by .ci/run):
#   * installs umoci and ca-certificates (Debian) when missing,
#   * builds Helm from its Go module (helm.sh/helm/v4) once into $HOME/.cache,
#   * builds the OCI image offline (make image),
#   * runs internal/deploytest for real: Dockerfile lint, the image (unpacked
#     with umoci, config checked, augur version run from it), the chart (helm
#     lint + template with default and non-default values; the rendering equals
#     deploy/augur.yaml). A skipped test fails the step.
# The rendered manifests and RBAC are applied to a real kube-apiserver by
# `make kube-test` (kube/deploy_integration_test.go).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM_VERSION="${HELM_VERSION:-v4.3.2}"
TOOLS="${AUGUR_TOOLS_CACHE:-$HOME/.cache/augur-tools}"
start=$(date +%s)
log() { echo "ci-deploy: $* ($(( $(date +%s) - start ))s)"; }

sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v umoci >/dev/null || [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then
  log "installing umoci and ca-certificates with apt-get"
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends umoci ca-certificates >/dev/null
fi
log "umoci $(umoci --version | awk '{print $NF}')"

helm="$TOOLS/helm-$HELM_VERSION/helm"
if [ ! -x "$helm" ]; then
  log "building helm $HELM_VERSION from helm.sh/helm/v4 (cold: several minutes on 2 cores; cached in $TOOLS)"
  mkdir -p "$TOOLS/helm-$HELM_VERSION"
  (cd "$TOOLS" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOBIN="$TOOLS/helm-$HELM_VERSION" \
     go install -trimpath "helm.sh/helm/v4/cmd/helm@$HELM_VERSION")
fi
log "$("$helm" version --short 2>/dev/null || "$helm" version)"

log "building the OCI image offline (make image)"
make image

log "internal/deploytest: Dockerfile, image, Helm chart"
out=$(mktemp)
rc=0
HELM="$helm" AUGUR_IMAGE_DIR="$PWD/bin/image" go test -count=1 -v ./internal/deploytest/ >"$out" 2>&1 || rc=$?
grep -E '^ *(--- (PASS|FAIL|SKIP)|PASS$|FAIL|ok )' "$out" || true
if [ "$rc" -ne 0 ]; then cat "$out"; exit "$rc"; fi
if grep -q -- '--- SKIP' "$out"; then echo "ci-deploy: deploy tests were skipped: they must run" >&2; cat "$out"; exit 1; fi
rm -f "$out"
log "done"
