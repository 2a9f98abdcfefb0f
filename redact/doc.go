// Package redact owns augur's one redaction mechanism: a Set of the
// credentials the process holds (secretRef values, provider header values,
// URL passwords, serve and kube tokens) and the scrubbing of every string that
// leaves the process through it (CLI output, check reasons and events, HTTP
// answers and logs, webhook payloads, Argo measurements).
//
// Credentials are added where they enter (provider configuration, Secret
// reads, flags); the Set travels in a context.Context so that an output
// boundary can scrub with everything its request touched. A Set is safe for
// concurrent use and bounded (MaxValues).
//
// It imports only the standard library and no other augur package.
package redact
