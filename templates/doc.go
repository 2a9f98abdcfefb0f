// Package templates owns query rendering: Flagger's MetricTemplate query
// language (Go text/template run with nil data, missingkey=error, and the
// model exposed as the zero-argument functions name, namespace, target,
// service, ingress, route, interval and variables), the sprig extension
// functions, Flagger's whitespace collapse, and Flagger's builtin query
// families (the request-success-rate and request-duration templates of every
// observer, observer selection and duration units).
//
// Templates cannot run queries, read the process environment or touch the
// network: sprig's env, expandenv and getHostByName are removed, and every
// rendered text is bounded by MaxRenderedBytes.
//
// The package imports only the standard library and
// github.com/Masterminds/sprig/v3. It must not import analysis, metrics,
// engine, kube or any transport (server, plugins, internal/cli); callers map
// their own types onto Model.
package templates
