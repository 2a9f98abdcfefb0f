// Package deploytest holds the tests of augur's deployment artefacts: the
// Dockerfile (lint), the OCI image `make image` builds (unpacked with umoci,
// its config checked and its binary run) and the Helm chart (linted and
// rendered by Helm itself; the rendering equals deploy/augur.yaml). The image
// and Helm tests need the tools: scripts/ci-deploy.sh provides them and sets
// AUGUR_IMAGE_DIR and HELM; without them those tests skip (CI fails a skip).
//
// It has no code of its own and imports no augur package.
package deploytest
