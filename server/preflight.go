package server

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/augurproj/augur/lint"
)

// PreflightFunc lints what the rollout of Canary namespace/name depends on
// (the Canary, its target workload, the workload's HPA and PDB, its
// MetricTemplates), read from the cluster, and returns the findings about
// them. The CLI builds it over package kube.
type PreflightFunc func(ctx context.Context, namespace, name string, opts lint.Options) ([]lint.Finding, error)

// endpointPreflight labels /flagger/v1/preflight in the webhook metrics.
const endpointPreflight = "preflight"

// Preflight metadata keys.
const (
	// KeySeverity is the lowest severity that blocks (default error).
	KeySeverity = "severity"
	// KeyDisable lists rule ids to skip (comma-separated).
	KeyDisable = "disable"
	// KeyWarn lists rule ids (or all) whose errors only warn.
	KeyWarn = "warn"
)

// handlePreflight is POST /flagger/v1/preflight: a Flagger pre-rollout or
// confirm-rollout webhook that answers 200 when augur lint finds nothing at
// or above the blocking severity in what the Canary's rollout depends on,
// and 403 with the findings in one line otherwise. A finding is never a 5xx:
// Flagger counts every non-2xx as a failed check, and 403 says "checked, and
// no". Without cluster access (augur serve without --cluster) it answers 403
// saying so: the gate cannot pass what it cannot read.
func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r, s.opts.MaxBody)
	if err != nil {
		s.webhookError(w, r, endpointPreflight, err)
		return
	}
	p, err := decodePayload(b)
	if err != nil {
		s.webhookError(w, r, endpointPreflight, err)
		return
	}
	if !s.authorized(r, p.Metadata[KeyToken]) {
		s.unauthorized(w, false)
		return
	}
	delete(p.Metadata, KeyToken)
	block, opts, err := preflightMetadata(p.Metadata)
	if err != nil {
		s.webhookError(w, r, endpointPreflight, err)
		return
	}
	canary := p.Namespace + "/" + p.Name
	if s.opts.Preflight == nil {
		s.metrics.observeWebhook(endpointPreflight, resultFail)
		answerText(w, http.StatusForbidden, "augur preflight: no cluster access: start augur serve with --cluster (or --kubeconfig) "+
			"so that the preflight gate can read Canary "+canary+" and its workload")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	fs, err := s.opts.Preflight(ctx, p.Namespace, p.Name, opts)
	if err != nil {
		s.metrics.observeWebhook(endpointPreflight, resultFail)
		s.opts.Logger.WarnContext(ctx, "preflight not checked", "canary", canary, "error", err.Error())
		answerText(w, http.StatusForbidden, "augur preflight: Canary "+canary+" not checked: "+err.Error())
		return
	}
	var blocking []lint.Finding
	for _, f := range fs {
		if f.Severity >= block {
			blocking = append(blocking, f)
		}
	}
	if len(blocking) > 0 {
		s.metrics.observeWebhook(endpointPreflight, resultFail)
		s.opts.Logger.InfoContext(ctx, "preflight blocked", "canary", canary, "findings", len(blocking))
		msg := fmt.Sprintf("augur preflight: Canary %s: %d finding(s) at or above %s: %s", canary, len(blocking), block, lint.OneLine(blocking))
		if len(msg) > maxReason {
			msg = fmt.Sprintf("augur preflight: Canary %s: %d finding(s) at or above %s (augur lint --cluster -n %s explains each): %s",
				canary, len(blocking), block, p.Namespace, lint.Brief(blocking))
		}
		answerText(w, http.StatusForbidden, msg)
		return
	}
	s.metrics.observeWebhook(endpointPreflight, resultPass)
	answerText(w, http.StatusOK, fmt.Sprintf("augur preflight: Canary %s: nothing at or above %s (%s)", canary, block, lint.Summary(fs)))
}

// preflightMetadata reads the webhook metadata: severity, disable, warn.
func preflightMetadata(md map[string]string) (lint.Severity, lint.Options, error) {
	block := lint.Error
	var opts lint.Options
	for _, k := range slices.Sorted(maps.Keys(md)) {
		v := md[k]
		switch k {
		case KeySeverity:
			s, err := lint.ParseSeverity(v)
			if err != nil {
				return block, opts, badf("metadata %s: %s", k, err.Error())
			}
			block = s
		case KeyDisable:
			opts.Disable = splitList(v)
		case KeyWarn:
			opts.Lower = splitList(v)
		default:
			return block, opts, badf("metadata key %q: the preflight gate reads %s, %s, %s and %s", k, KeySeverity, KeyDisable, KeyWarn, KeyToken)
		}
	}
	if err := opts.Check(); err != nil {
		return block, opts, badf("metadata: %s", err.Error())
	}
	return block, opts, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
