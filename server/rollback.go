package server

import (
	"fmt"
	"net/http"
	"time"
)

// The rollback gate: a person asks for a running canary to be rolled back,
// as with flagger-loadtester's /rollback/ endpoints. A Canary's `rollback`
// webhook pointed at POST /flagger/v1/rollback/check makes Flagger roll back
// while a rollback is requested (200), and carry on otherwise (403).
//
//	POST /flagger/v1/rollback/open   {"name", "namespace"[, "checksum"]}: request a rollback
//	POST /flagger/v1/rollback/close  {"name", "namespace"}: withdraw it
//	POST /flagger/v1/rollback/check  Flagger's rollback webhook
//	GET  /flagger/v1/rollback/{namespace}/{name}
//
// A request covers one revision, as an approval does: the first check after
// open binds it to the payload's checksum, and a check of another revision
// drops it (a new revision is not rolled back for the old one's sake).
// Requests live in memory: a restart forgets them.

const endpointRollback = "rollback"

// rollbackRoutes registers the rollback gate's endpoints.
func (s *Server) rollbackRoutes() {
	s.rollbacks = &gates{kv: NewMemoryGates(s.opts.MaxGates), now: s.opts.Now}
	s.mux.HandleFunc("POST /flagger/v1/rollback/check", s.handleRollbackCheck)
	s.mux.HandleFunc("POST /flagger/v1/rollback/open", func(w http.ResponseWriter, r *http.Request) { s.rollbackChange(w, r, true) })
	s.mux.HandleFunc("POST /flagger/v1/rollback/close", func(w http.ResponseWriter, r *http.Request) { s.rollbackChange(w, r, false) })
	s.mux.HandleFunc("GET /flagger/v1/rollback/{namespace}/{name}", s.handleRollbackGet)
}

// handleRollbackCheck answers Flagger's rollback webhook: 200 (roll back)
// while a rollback of this revision is requested, else 403.
func (s *Server) handleRollbackCheck(w http.ResponseWriter, r *http.Request) {
	p, ok := s.flaggerPayload(w, r)
	if !ok {
		return
	}
	k := gateKey(p.Namespace, p.Name)
	requested, _, err := s.rollbacks.check(r.Context(), p.Namespace, p.Name, p.Checksum)
	if err != nil {
		// Never roll back on an error: Flagger carries on after a 403.
		s.metrics.observeWebhook(endpointRollback, resultFail)
		answerText(w, http.StatusForbidden, fmt.Sprintf("no rollback for %s: %v", k, err))
		return
	}
	if !requested {
		s.metrics.observeWebhook(endpointRollback, resultFail)
		answerText(w, http.StatusForbidden, fmt.Sprintf("no rollback requested for %s (request one with POST /flagger/v1/rollback/open)", k))
		return
	}
	s.metrics.observeWebhook(endpointRollback, resultPass)
	s.opts.Logger.InfoContext(r.Context(), "rollback signalled", "canary", k, "checksum", p.Checksum)
	answerText(w, http.StatusOK, "rollback requested for "+k)
}

// rollbackChange answers /flagger/v1/rollback/open and /close.
func (s *Server) rollbackChange(w http.ResponseWriter, r *http.Request, open bool) {
	s.storeChange(w, r, s.rollbacks, open, manualWords{noun: "rollback of", opened: "requested", closed: "withdrawn",
		logOpened: "rollback requested", logClosed: "rollback withdrawn"})
}

// rollbackJSON is GET /flagger/v1/rollback/{namespace}/{name}'s answer.
type rollbackJSON struct {
	Namespace   string     `json:"namespace"`
	Name        string     `json:"name"`
	Requested   bool       `json:"requested"`
	Checksum    string     `json:"checksum,omitempty"`
	RequestedAt *time.Time `json:"requestedAt,omitempty"`
}

func (s *Server) handleRollbackGet(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r, "") {
		s.unauthorized(w, true)
		return
	}
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	st, requested, err := s.rollbacks.get(r.Context(), ns, name)
	if err != nil {
		s.gateError(w, r, "", err)
		return
	}
	out := rollbackJSON{Namespace: ns, Name: name, Requested: requested, Checksum: st.Checksum}
	if requested {
		t := st.OpenedAt
		out.RequestedAt = &t
	}
	writeJSON(w, http.StatusOK, out)
}
