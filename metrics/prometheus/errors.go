package prometheus

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// Sentinel errors returned (wrapped) by New.
var (
	// ErrInvalidAddress is returned for an empty, unparsable or non-http(s) address.
	ErrInvalidAddress = errors.New("invalid address")
	// ErrMissingCredential is returned when a secret is configured but lacks a
	// required key (Flagger: "credentials does not contain a username").
	ErrMissingCredential = errors.New("missing credential")
)

// maxErrorBody bounds how much of a non-JSON error body is kept in an APIError.
const maxErrorBody = 512

// APIError is an error reported by the Prometheus server (or a proxy in front
// of it): a non-2xx HTTP status, or a 2xx body whose status is "error" or that
// cannot be decoded.
type APIError struct {
	// StatusCode is the HTTP status code; 0 when the error was reported in
	// the body of a 2xx response.
	StatusCode int
	// Type is Prometheus's errorType (bad_data, execution, timeout, …), or
	// bad_response for a body that could not be decoded; empty when the
	// body was not a Prometheus error envelope.
	Type string
	// Message is Prometheus's error text.
	Message string
	// Body is the start of a response body that was not a Prometheus error
	// envelope (at most 512 bytes).
	Body string
}

// Error formats the status, the errorType and message, or the body.
func (e *APIError) Error() string {
	var b []byte
	if e.StatusCode != 0 {
		b = append(b, "server returned HTTP status "...)
		b = strconv.AppendInt(b, int64(e.StatusCode), 10)
		if text := http.StatusText(e.StatusCode); text != "" {
			b = append(b, ' ')
			b = append(b, text...)
		}
	}
	detail := e.Body
	switch {
	case e.Type != "" && e.Message != "":
		detail = e.Type + ": " + e.Message
	case e.Type != "":
		detail = e.Type
	case e.Message != "":
		detail = e.Message
	}
	if detail != "" {
		if len(b) > 0 {
			b = append(b, ": "...)
		}
		b = append(b, detail...)
	}
	if len(b) == 0 {
		return "prometheus returned an error without a message"
	}
	return string(b)
}

// truncateBody keeps at most maxErrorBody bytes of body without splitting a
// UTF-8 sequence.
func truncateBody(body []byte) string {
	if len(body) <= maxErrorBody {
		return string(body)
	}
	cut := maxErrorBody
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return string(body[:cut]) + "…"
}

// invalidAddress builds the constructor's address error; the address is
// shown redacted when it parsed.
func invalidAddress(address, reason string, cause error) error {
	if cause != nil {
		return fmt.Errorf("%w: prometheus address %q is not a valid URL: %w", ErrInvalidAddress, address, cause)
	}
	return fmt.Errorf("%w: prometheus address %q is not a valid URL: %s", ErrInvalidAddress, address, reason)
}

// missingCredential names the absent secret key, never a secret value.
func missingCredential(what string) error {
	return fmt.Errorf("%w: prometheus credentials does not contain a %s (secret key %q)", ErrMissingCredential, what, what)
}

// httpError is a non-2xx answer: the decoded *APIError (what errors.As
// finds and Error() reads) plus the start of the body as it came, which
// Flagger's provider quotes.
type httpError struct {
	api *APIError
	raw string
}

func (e *httpError) Error() string { return e.api.Error() }
func (e *httpError) Unwrap() error { return e.api }

// FlaggerText is the error as Flagger v1.44.0's Prometheus provider words
// it: "error response: Status <code> <text>: <body>", the body as it came
// (cut at 512 bytes, where Flagger keeps all of it). augur's Error()
// decodes the envelope instead; the engine shows both (event, detail).
func (e *httpError) FlaggerText() string {
	return fmt.Sprintf("error response: Status %d %s: %s", e.api.StatusCode, http.StatusText(e.api.StatusCode), e.raw)
}
