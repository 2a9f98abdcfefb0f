// Package plugins owns augur's own plugin protocol: hashicorp/go-plugin over
// gRPC with a versioned handshake, so that a host program can launch the
// augur binary (`augur plugin …`) and ask it the same questions the service
// answers in-process.
//
// The gRPC service is declared by hand (a grpc.ServiceDesc, no protoc) and
// carries the service package's JSON types through a JSON codec registered
// under the content-subtype "augur-json". Errors cross the boundary as a gRPC
// status (code and message) and come back as *Error, which matches
// service.ErrBadRequest, context.Canceled, context.DeadlineExceeded and
// ErrUnavailable with errors.Is. Deadlines and cancellation of the caller's
// context propagate to the plugin process.
//
// Host side: Start launches the binary and returns a *Client whose Decide and
// Query take a context. Plugin side: Serve serves an Analyzer (normally a
// *service.Service) and writes nothing to standard output but go-plugin's
// handshake line; logs go to standard error.
//
// This package is the home of github.com/hashicorp/go-plugin (with
// plugins/argo). It imports service and analysis for the wire types; it must
// not import cobra, client-go, argo-rollouts, the HTTP server, plugins/argo,
// engine internals or a metrics backend.
package plugins
