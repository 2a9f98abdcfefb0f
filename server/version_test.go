package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/augurproj/augur/internal/version"
)

func TestVersionEndpointAndBuildInfo(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", func(o *Options) { o.Token = "secret-token" })
	want := version.Get()
	a := do(t, http.MethodGet, h.url+"/version", "", nil) // open, like /healthz
	var got version.Info
	if a.code != http.StatusOK || json.Unmarshal([]byte(a.body), &got) != nil || got != want {
		t.Fatalf("GET /version: %d %s, want 200 %+v", a.code, a.body, want)
	}
	m := do(t, http.MethodGet, h.url+"/metrics", "", nil)
	goos, goarch, _ := strings.Cut(want.Platform, "/")
	line := `augur_build_info{goarch="` + goarch + `",goos="` + goos + `",goversion="` + want.GoVersion +
		`",revision="` + want.Commit + `",version="` + want.Version + `"} 1`
	if !strings.Contains(m.body, line+"\n") {
		t.Errorf("/metrics lacks %s", line)
	}
}
