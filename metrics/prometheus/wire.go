package prometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/api"
)

// wireClient is the api.Client handed to client_golang's v1 API. It makes the
// requests wire-compatible with Flagger's provider and keeps per-request
// state out of shared maps:
//
//   - v1 sends queries as a form POST and falls back to GET on 403/405/501;
//     wireClient turns the POST into GET with the form in the URL, so exactly
//     one GET request is sent per query, as Flagger does.
//   - every request gets a fresh copy of the configured headers plus the
//     credentials, so nothing accumulates across calls (Flagger's aliasing bug).
//   - a non-2xx response becomes an *APIError carrying the status code, and no
//     response is handed back to v1, which would otherwise retry with GET.
type wireClient struct {
	inner  api.Client
	header http.Header
	auth   func(*http.Request)
}

var _ api.Client = (*wireClient)(nil)

// URL returns the endpoint URL, path prefix included.
func (c *wireClient) URL(ep string, args map[string]string) *url.URL {
	return c.inner.URL(ep, args)
}

// Do sends req as described on wireClient.
func (c *wireClient) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	out, err := c.rewrite(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	resp, body, err := c.inner.Do(ctx, out)
	if err != nil {
		// Never return the response with an error: v1 would read its
		// status and might send the request again.
		return nil, nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, &httpError{api: newHTTPError(resp.StatusCode, body), raw: truncateBody(body)}
	}
	return resp, body, nil
}

// rewrite builds the request actually sent: GET with the form as the URL
// query when v1 asked for a form POST, and fresh headers either way.
func (c *wireClient) rewrite(ctx context.Context, req *http.Request) (*http.Request, error) {
	method, target, body := req.Method, *req.URL, req.Body
	if req.Method == http.MethodPost && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := readForm(req.Body)
		if err != nil {
			return nil, fmt.Errorf("read request form: %w", err)
		}
		method, target.RawQuery, body = http.MethodGet, form, nil
	}
	out, err := http.NewRequestWithContext(ctx, method, target.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build %s request: %w", method, err)
	}
	out.Header = c.header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	if body != nil {
		if ct := req.Header.Get("Content-Type"); ct != "" {
			out.Header.Set("Content-Type", ct)
		}
	}
	if c.auth != nil {
		c.auth(out)
	}
	return out, nil
}

func readForm(body io.ReadCloser) (string, error) {
	if body == nil {
		return "", nil
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// newHTTPError decodes a Prometheus error envelope from body when there is
// one, and keeps the start of any other body.
func newHTTPError(code int, body []byte) *APIError {
	e := &APIError{StatusCode: code}
	var env struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Status == "error" && (env.ErrorType != "" || env.Error != "") {
		e.Type, e.Message = truncateBody([]byte(env.ErrorType)), truncateBody([]byte(env.Error))
		return e
	}
	e.Body = strings.TrimSpace(truncateBody(body))
	return e
}
