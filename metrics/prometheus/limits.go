package prometheus

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxResponseBody bounds a Prometheus answer's body (32 MiB): reading stops
// there and the query fails, so a huge answer costs neither the time nor the
// memory of reading it whole. A one-number query's answer is a few hundred
// bytes; a judged metric's range query some kilobytes per series.
const MaxResponseBody = 32 << 20

// ErrResponseTooLarge is returned (wrapped) for an answer over MaxResponseBody.
var ErrResponseTooLarge = errors.New("response body too large")

// capBody is a RoundTripper whose response bodies fail past MaxResponseBody.
type capBody struct{ rt http.RoundTripper }

func (c capBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: MaxResponseBody}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Is there more? One byte tells.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, int64(MaxResponseBody))
		}
		return b.rc.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// credentialHeaders are dropped on a redirect to another host, besides the
// configured headers (net/http drops Authorization and Cookie itself only
// when the new host is not a subdomain of the old).
var credentialHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

// dropCredentialsOffHost returns a CheckRedirect that follows at most 10
// redirects and strips every configured header and every credential header
// when a redirect leaves the original host (host and port).
func dropCredentialsOffHost(configured map[string][]string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if req.URL.Host == via[0].URL.Host && req.URL.Scheme == via[0].URL.Scheme {
			return nil
		}
		for k := range configured {
			req.Header.Del(k)
		}
		for _, k := range credentialHeaders {
			req.Header.Del(k)
		}
		return nil
	}
}
