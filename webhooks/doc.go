// Package webhooks owns calling Flagger-style webhooks: the Hook and Payload
// types (Payload has the exact JSON of Flagger's CanaryWebhookPayload), the
// event-hook payload, Flagger's timeout rule and a Client that POSTs a payload
// with Flagger's success rule (status <= 202) and go-retryablehttp's retry
// policy, written here on the standard library.
//
// Deliberate changes from Flagger, each documented where it lives: a zero or
// negative timeout means DefaultTimeout instead of "no timeout"; error bodies
// are capped and trimmed; after retries on a retryable status are exhausted
// the error keeps the last status and body instead of losing them; a
// Retry-After wait is capped at MaxWait; URL passwords are redacted and hook
// metadata never appears in errors or logs.
//
// The package imports only the standard library. It must not import analysis,
// engine, metrics, templates or any transport (server, plugins, kube, cli);
// the engine maps Flagger's Webhook objects onto Hook.
package webhooks
