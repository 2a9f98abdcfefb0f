package prometheus

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
)

// TestFlaggerText pins the text Flagger's provider gives an HTTP error
// (what its event quotes) next to augur's decoded Error().
func TestFlaggerText(t *testing.T) {
	body := `{"status":"error","errorType":"execution","error":"boom"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	p, err := New(metrics.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Query(context.Background(), "up", time.Time{})
	var ft metrics.FlaggerTexter
	if !errors.As(err, &ft) {
		t.Fatalf("%v (%T) has no Flagger text", err, err)
	}
	if got, want := ft.FlaggerText(), "error response: Status 503 Service Unavailable: "+body; got != want {
		t.Errorf("FlaggerText = %q, want %q", got, want)
	}
	var api *APIError
	if !errors.As(err, &api) || api.Type != "execution" || api.Message != "boom" {
		t.Errorf("APIError %+v", api)
	}
}
