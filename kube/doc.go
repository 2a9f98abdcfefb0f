// Package kube owns the cluster as a source: it reads Flagger's Canary and
// MetricTemplate objects (flagger.app/v1beta1, through the dynamic client)
// and the Secrets that MetricTemplates reference (through the typed core
// client) from a Kubernetes API server, and records analysis decisions as
// core/v1 Events on the Canary. ConfigMapGates keeps `augur serve`'s manual
// gates in one ConfigMap, so replicas share them and restarts keep them.
//
// A Source implements engine.TemplateSource and engine.SecretSource, so an
// engine resolves templateRefs and secretRefs against the cluster; missing
// objects are errors wrapping engine.ErrNotFound. Objects are decoded with
// the strict decoder of package manifest, so a Canary in the cluster is read
// exactly as the same object in a file would be, with the same field errors.
//
// Secrets are read on every call, as Flagger reads them on every tick: a
// changed Secret is used by the next evaluation, and no watch or cache can
// hold stale credentials. Templates and Canaries are read on every call too.
//
// Connection settings come from Options: an explicit kubeconfig file, else
// the KUBECONFIG environment variable, else the in-cluster service account,
// else $HOME/.kube/config.
//
// # Imports
//
// This is the only package that imports k8s.io/client-go, k8s.io/api and
// k8s.io/apimachinery (kube/kubetest, its test helper, and
// kube/clustermetrics, the keptn and externalmetrics providers, too). It imports
// analysis, engine (for the source interfaces and ErrNotFound) and manifest.
// It must not import server, plugins, cobra or internal/cli.
package kube
