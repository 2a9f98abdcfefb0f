package webhookstest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
)

// FuzzHandle drives the loadtester logic with arbitrary paths and bodies and
// checks the answers against the loadtester's rules.
func FuzzHandle(f *testing.F) {
	for _, seed := range []struct{ path, body string }{
		{"/healthz", ""},
		{"/gate/check", `{"name":"a","namespace":"prod"}`},
		{"/gate/open", `{"name":"a","namespace":"prod"}`},
		{"/gate/close", `{"name":"a","namespace":"dev"}`},
		{"/rollback/open", `{"name":"a","namespace":"prod"}`},
		{"/rollback/check", `{"name":"a","namespace":"prod"}`},
		{"/gate/approve", `{}`},
		{"/gate/halt", `{}`},
		{"/", `{"name":"a","namespace":"prod","metadata":{"cmd":"hey"}}`},
		{"/", `{"name":"a","namespace":"prod","metadata":{"type":"bash","cmd":"ok","returnCmdOutput":"true"}}`},
		{"/", `{"name":"a","namespace":"prod","metadata":{"type":"bash","cmd":"bad"}}`},
		{"/", `{"name":"a","namespace":"prod","metadata":{"type":"grpc"}}`},
		{"/", `{"name":"a","namespace":"prod","metadata":{"type":"ngrinder"}}`},
		{"/", `{"name":"a","namespace":"prod","metadata":{}}`},
		{"/", `{"metadata":{"cmd":1}}`},
		{"/x", `not json`},
		{"/", `null`},
	} {
		f.Add(seed.path, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		s := newState(Options{
			NamespaceRegexp: regexp.MustCompile("^prod"),
			Commands: map[string][]Outcome{
				"ok":  {{Output: "fine"}},
				"bad": {{Output: "broken", ExitCode: 2}},
			},
		})
		tasks := len(s.tasks)
		rep := s.handle(path, body)
		if path == "/healthz" {
			if rep.status != http.StatusOK || rep.body != "OK" {
				t.Fatalf("/healthz = %d %q", rep.status, rep.body)
			}
			return
		}
		var p Payload
		if err := json.Unmarshal(body, &p); err != nil {
			if rep.status != http.StatusBadRequest || rep.drop {
				t.Fatalf("undecodable body %q answered %d (drop %v), want 400", body, rep.status, rep.drop)
			}
			return
		}
		if !s.auth.MatchString(p.Namespace) {
			if rep.status != http.StatusForbidden || rep.body != "Forbidden" {
				t.Fatalf("namespace %q answered %d %q, want 403 Forbidden", p.Namespace, rep.status, rep.body)
			}
			return
		}
		switch path {
		case "/gate/open", "/rollback/open":
			if rep.status != http.StatusAccepted {
				t.Fatalf("%s answered %d", path, rep.status)
			}
			if check := s.handle(path[:len(path)-len("open")]+"check", body); check.status != http.StatusOK || check.body != "Approved" {
				t.Fatalf("%s then check answered %d %q, want 200 Approved", path, check.status, check.body)
			}
			return
		case "/gate/check", "/rollback/check", "/gate/halt", "/gate/close", "/rollback/close", "/gate/approve":
			if rep.status != http.StatusOK && rep.status != http.StatusForbidden && rep.status != http.StatusAccepted {
				t.Fatalf("%s answered %d", path, rep.status)
			}
			return
		}
		added := len(s.tasks) - tasks
		typ, hasType := p.Metadata["type"]
		switch {
		case len(p.Metadata) == 0:
			if rep.status != http.StatusBadRequest || rep.body != "metadata not found in payload" {
				t.Fatalf("no metadata answered %d %q", rep.status, rep.body)
			}
		case rep.drop:
			if !hasType || typ == TypeCmd || typ == TypeBash || typ == TypeHelm || typ == TypeHelmv3 || typ == TypeKubectl || typ == TypeConcord || typ == TypeNGrinder {
				t.Fatalf("known type %q (set %v) dropped the connection", typ, hasType)
			}
		case rep.status == http.StatusAccepted:
			if added != 1 || (hasType && typ != TypeCmd) {
				t.Fatalf("202 for type %q added %d tasks", typ, added)
			}
		case rep.status == http.StatusOK || rep.status == http.StatusInternalServerError:
			if added != 1 || !hasType || typ == TypeCmd {
				t.Fatalf("blocking answer %d for type %q added %d tasks", rep.status, typ, added)
			}
			if rep.status == http.StatusOK && rep.body != "" && rep.body != "fine" {
				t.Fatalf("blocking success body %q", rep.body)
			}
		case rep.status == http.StatusBadRequest:
			if _, ok := p.Metadata["cmd"]; ok || added != 0 {
				t.Fatalf("400 with a cmd (added %d tasks)", added)
			}
		case rep.status == http.StatusNotImplemented:
			if typ != TypeConcord && typ != TypeNGrinder {
				t.Fatalf("501 for type %q", typ)
			}
		default:
			t.Fatalf("unexpected answer %d %q", rep.status, rep.body)
		}
	})
}
