// Package argo makes augur an Argo Rollouts metric provider plugin: it serves
// Argo's plugin protocol (hashicorp/go-plugin over net/rpc, Argo's handshake
// and RPC types) and answers each measurement with augur's engine — a
// Flagger-style query, MetricTemplate body or builtin metric, evaluated
// against a live Prometheus or recorded data, judged by thresholdRange and by
// the Metric's own successCondition / failureCondition exactly as Argo's
// built-in providers judge them.
//
// The plugin is registered as PluginName ("augur/augur") and reads its
// configuration from metric.provider.plugin["augur/augur"]; docs/argo.md
// describes the configuration, the phase rules and the ConfigMap entry.
//
// This is the only augur package that imports github.com/argoproj/argo-rollouts,
// and only metricproviders/plugin/rpc, utils/plugin/types,
// pkg/apis/rollouts/v1alpha1, utils/evaluate (conditions) and utils/time
// (Measurement timestamps). Those pull in k8s.io/apimachinery and k8s.io/api
// types (Argo's API structs embed them) and logrus, but not client-go's
// clientsets or k8s.io/kubernetes. The package itself imports neither
// client-go nor apimachinery, cobra, the HTTP server nor the plugins package
// (the slog/hclog bridge it shares with plugins lives in
// plugins/internal/pluginlog).
//
// Each measurement goes through service.Query, the entry point every
// transport shares. Because a check flattens what Argo's conditions need
// (an empty result versus NaN, ±Inf, several series), the metrics providers
// are wrapped in a probe that records, in the measurement's context, what
// the provider itself returned. GetMetadata renders the query without
// running it through engine.PlanWith.
package argo
