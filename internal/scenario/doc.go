// Package scenario runs augur's scenario corpus (testdata/scenarios/*.txtar):
// a Canary, its MetricTemplates, a status, metric values (or recorded data),
// webhook answers and the expected decision, as data. One runner serves every
// way of reaching a decision — the engine in-process, the CLI, the HTTP
// server, the go-plugin and the Argo adapter — so they are held to the same
// answers.
//
// It is test support: it imports analysis, engine, manifest, metrics,
// metrics/recorded, service and webhooks/webhookstest-free net/http/httptest;
// it must not import a transport (server, plugins) or cobra.
package scenario
