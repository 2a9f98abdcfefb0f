// Package webhookstest owns an in-process stand-in for flagger-loadtester: a
// real net/http server on 127.0.0.1 (httptest) with the loadtester's
// endpoints and answers (/healthz, the /gate/* and /rollback/* gates and the
// "/" task endpoint), plus per-path scripted answers for testing timeouts,
// retries and connection drops. Every request is recorded for assertions. It
// never executes a command: blocking tasks answer from canned outcomes.
//
// The package imports only the standard library. It must not import any
// augur package, webhooks included (it decodes the payload with its own
// mirror of the JSON), nor analysis, engine, metrics, templates or any
// transport.
package webhookstest
