package plugins

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/augurproj/augur/service"
)

// ErrUnavailable is matched (errors.Is) by errors of calls that could not
// reach the plugin process: it exited, or its connection broke.
var ErrUnavailable = errors.New("augur plugin unavailable")

// Error is an error returned by the plugin process (or by gRPC on its way):
// a gRPC status code and the plugin's message. errors.Is matches it against
// the sentinel its code stands for: service.ErrBadRequest (InvalidArgument),
// context.Canceled (Canceled), context.DeadlineExceeded (DeadlineExceeded)
// and ErrUnavailable (Unavailable).
type Error struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the error text as the plugin reported it.
	Message string
}

// Error returns the message.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code.String()
	}
	return e.Message
}

// Is reports whether target is the sentinel for e's code.
func (e *Error) Is(target error) bool {
	switch e.Code {
	case codes.InvalidArgument:
		return target == service.ErrBadRequest
	case codes.Canceled:
		return target == context.Canceled
	case codes.DeadlineExceeded:
		return target == context.DeadlineExceeded
	case codes.Unavailable:
		return target == ErrUnavailable
	}
	return false
}

// code maps an Analyzer error to the gRPC status code it crosses the
// boundary with.
func code(err error) codes.Code {
	switch {
	case errors.Is(err, service.ErrBadRequest):
		return codes.InvalidArgument
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, ErrUnavailable):
		return codes.Unavailable
	}
	return codes.Unknown
}

// toStatus turns an Analyzer error into a gRPC status error.
func toStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(code(err), err.Error())
}

// fromStatus turns an error returned by grpc.ClientConn.Invoke into *Error.
func fromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &Error{Code: st.Code(), Message: st.Message()}
}
