package server

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/report"
)

// handleReport is POST /v1/report: the decide request's tick rendered as
// augur's HTML report when the client accepts text/html (a browser, a
// driver's UI), else the decision as JSON, exactly as /v1/decide answers.
// The body is decoded by the decide path.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	b, ok := s.apiBody(w, r)
	if !ok {
		return
	}
	req, err := decodeDecide(b)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	start := time.Now()
	at := s.svc.EvalTime(req.At)
	d, err := s.svc.Decide(ctx, req)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.metrics.observeDecision(&req.Canary, d, time.Since(start))
	if !acceptsHTML(r.Header.Get("Accept")) {
		writeJSON(w, http.StatusOK, d)
		return
	}
	rep := &report.Replay{
		Kind: report.KindDecide, Namespace: req.Canary.Metadata.Namespace, Name: req.Canary.Metadata.Name,
		Source: "augur serve (" + r.Host + ")", Before: req.Status, Result: d.Status.Phase,
		Finished: d.Status.Phase == analysis.PhaseSucceeded || d.Status.Phase == analysis.PhaseFailed,
		Ticks:    []report.Tick{report.FromDecision(at, d)}, Generated: s.opts.Now().UTC(),
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, rep); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.Header().Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// acceptsHTML reports whether an Accept header prefers HTML to JSON: it
// lists text/html (or application/xhtml+xml) with a quality above zero and
// at least that of application/json. No header, */* alone or a JSON-only
// client get JSON.
func acceptsHTML(accept string) bool {
	htmlQ, jsonQ := -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch mt {
		case "text/html", "application/xhtml+xml":
			htmlQ = max(htmlQ, q)
		case "application/json":
			jsonQ = max(jsonQ, q)
		}
	}
	return htmlQ > 0 && htmlQ >= jsonQ
}
