package webhooks

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// StatusError is a hook's answer with a failure status (see IsSuccess).
type StatusError struct {
	// URL is the hook URL with any password redacted.
	URL string
	// Code is the HTTP status code.
	Code int
	// Body is the start of the response body (at most Options.MaxBody bytes),
	// trimmed of surrounding white space.
	Body string
	// raw is the capped body untrimmed, as Flagger's event quotes it.
	raw string
}

// Error returns the response body, as Flagger does. An empty body (a 204, for
// instance) yields the status line instead of Flagger's empty message.
func (e *StatusError) Error() string {
	if e.Body != "" {
		return e.Body
	}
	if text := http.StatusText(e.Code); text != "" {
		return strconv.Itoa(e.Code) + " " + text
	}
	return "HTTP status " + strconv.Itoa(e.Code)
}

// GiveUpError reports that a call failed on a retryable condition until
// retries ran out, or failed in transport (Flagger's retry client reports
// both the same way).
//
// Its text starts with go-retryablehttp's "POST <url> giving up after N
// attempt(s)". Deliberate change: Flagger loses the last response, augur
// keeps the last attempt's failure in Err (a *StatusError for a status, so
// the status and capped body stay reachable with errors.As).
type GiveUpError struct {
	// URL is the hook URL with any password redacted.
	URL string
	// Attempts is how many requests were sent.
	Attempts int
	// Err is why the last attempt failed.
	Err error
}

// Error returns "POST <url> giving up after N attempt(s): <last failure>".
func (e *GiveUpError) Error() string {
	s := fmt.Sprintf("%s %s giving up after %d attempt(s)", http.MethodPost, e.URL, e.Attempts)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the last attempt's failure.
func (e *GiveUpError) Unwrap() error { return e.Err }

// FlaggerText returns the error text Flagger v1.44.0 puts in its event for a
// failed call, where err.Error() is augur's fuller account. They differ for
// a *GiveUpError: when a retryable status (5xx, 429) exhausted the retries,
// go-retryablehttp reports only "POST <url> giving up after N attempt(s)"
// and Flagger loses the status and body; after a transport error it appends
// that error, as augur does. A failure status quotes the body untrimmed (up
// to the cap), as Flagger does; an empty body keeps augur's status line
// (a deliberate change: Flagger's event would end in nothing). An answer
// whose body could not be read whole reads "error reading body: <cause>", as
// Flagger's (it fails after go-retryablehttp returned, so no "giving up"
// prefix). Every other error reads the same.
func FlaggerText(err error) string {
	if err == nil {
		return ""
	}
	var re *readError
	if errors.As(err, &re) {
		return "error reading body: " + re.err.Error()
	}
	var g *GiveUpError
	if errors.As(err, &g) {
		var se *StatusError
		if g.Err == nil || errors.As(g.Err, &se) {
			return fmt.Sprintf("%s %s giving up after %d attempt(s)", http.MethodPost, g.URL, g.Attempts)
		}
	}
	var se *StatusError
	if errors.As(err, &se) && se.Body != "" {
		return se.raw
	}
	return err.Error()
}
