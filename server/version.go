package server

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurproj/augur/internal/version"
)

// buildInfo is the augur_build_info gauge: always 1, with the binary's
// version, commit and Go version as labels, as Prometheus's own components
// export <name>_build_info.
func buildInfo() prometheus.Collector {
	in := version.Get()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "augur_build_info",
		Help: "A metric with a constant '1' value labeled by version, revision (commit), goversion, goos and goarch of the augur binary.",
	}, []string{"version", "revision", "goversion", "goos", "goarch"})
	goos, goarch, _ := strings.Cut(in.Platform, "/")
	g.WithLabelValues(in.Version, in.Commit, in.GoVersion, goos, goarch).Set(1)
	return g
}

// handleVersion is GET /version: the binary's version, commit and Go
// version (what `augur version -o json` prints). Open like /healthz.
func (s *Server) handleVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, version.Get())
}
