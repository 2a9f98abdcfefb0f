// Package service is the one entry point every transport calls — the HTTP
// server, the go-plugin server and the Argo Rollouts adapter — so that the
// same request gives the same decision whichever way it arrives. It holds the
// request/response types (JSON tags shared by all transports) and validates
// requests before handing them to the engine.
//
// It imports analysis, engine and webhooks; it must not import a transport
// (server, plugins), cobra, client-go or a metrics backend — those are
// injected through engine.Options.
package service
