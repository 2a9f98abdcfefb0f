package templates

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template/parse"
)

// nondeterministic are the functions whose result may differ between two
// executions with the same model: clock, randomness, map iteration order
// (keys, values) and pointers printed by address (semver values in a list).
var nondeterministic = []string{
	"now", "ago", "date", "date_in_zone", "dateInZone", "date_modify", "dateModify", "must_date_modify",
	"mustDateModify", "htmlDate", "htmlDateInZone",
	"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randBytes", "randInt", "shuffle", "uuidv4",
	"keys", "values", "semver",
	"bcrypt", "htpasswd", "encryptAES", "genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert",
	"genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey", "buildCustomCert",
}

// pointerVerb matches a fmt verb that prints an address.
var pointerVerb = regexp.MustCompile(`%[-+# 0-9.*\[\]]*p`)

// deterministic reports whether executing t twice with one model must give
// the same result.
func deterministic(t *Template, text string) bool {
	if pointerVerb.MatchString(text) {
		return false
	}
	ok := true
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if n == nil || !ok {
			return
		}
		switch n := n.(type) {
		case *parse.IdentifierNode:
			if slices.Contains(nondeterministic, n.Ident) {
				ok = false
			}
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	for _, tt := range t.base.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			walk(tt.Tree.Root)
		}
	}
	return ok
}

// FuzzRender renders arbitrary template text with an arbitrary model.
// Invariants: nothing panics; failures are *Error values with Flagger's
// prefixes and the template's name; Render and Compile+Execute agree; a
// deterministic template renders identically twice; the output respects
// MaxRenderedBytes; Collapse of the output is fully collapsed.
func FuzzRender(f *testing.F) {
	seeds := []string{
		"",
		"up",
		"{{ name }}/{{ namespace }}/{{ target }}/{{ service }}/{{ ingress }}/{{ route }}/{{ interval }}",
		`x{c="{{ variables.cluster }}"}`,
		`{{ index variables "cluster" }}`,
		`{{ upper namespace }}{{ interval | default "1m" }}`,
		`{{ printf "%s-primary" target }}`,
		"{{- $route := printf \"kube(ew)?_%s__%s_canary__.*__%s_canary(_[0-9]+)?\" namespace ingress service }}\n\tsum(rate(x{route=~\"{{ $route }}\"}[{{ interval }}]))",
		`{{ if eq namespace "test" }}a{{ else }}b{{ end }}`,
		`{{ define "s" }}ns="{{ namespace }}"{{ end }}up{ {{- template "s" }}}`,
		`{{ with variables }}{{ .cluster }}{{ end }}`,
		`{{ . }}{{ .x }}`,
		`{{ env "HOME" }}`,
		"{{ name ",
		`{{ trunc 3 target | quote }} {{ replace "-" "_" service }} {{ list 1 2 | toJson }}`,
		`{{ fail "x" }}`,
	}
	for _, o := range Observers() {
		for _, m := range builtinMetrics {
			if q, err := BuiltinQuery(o, m); err == nil {
				seeds = append(seeds, q)
			}
		}
	}
	for _, s := range seeds {
		f.Add(s, "podinfo", "test", "podinfo", "1m", "cluster", "eu-1")
	}
	f.Add("{{ interval }}", "", "", "", "", "", "")
	f.Add(" \t{{ name }}\n\n{{ namespace }} ", "a b", "\n", "\t\t", "  ", "k", "\r\n")

	f.Fuzz(func(t *testing.T, text, name, namespace, target, interval, key, value string) {
		m := Model{
			Name: name, Namespace: namespace, Target: target, Service: target + "-svc",
			Ingress: target + "-ing", Route: target + "-route", Interval: interval,
			Variables: map[string]string{key: value},
		}
		const tname = "fuzz"
		rout, rerr := Render(tname, text, m)
		tmpl, cerr := Compile(tname, text)
		if cerr != nil {
			checkError(t, cerr, StageParse, tname)
			if rerr == nil || rerr.Error() != cerr.Error() {
				t.Fatalf("Compile failed with %v but Render gave %q, %v", cerr, rout, rerr)
			}
			return
		}
		out1, err1 := tmpl.Execute(m)
		out2, err2 := tmpl.Execute(m)
		for _, err := range []error{rerr, err1, err2} {
			if err != nil {
				checkError(t, err, StageExecute, tname)
			}
		}
		if deterministic(tmpl, text) {
			if !sameResult(out1, err1, out2, err2) {
				t.Fatalf("two executions differ: %q, %v vs %q, %v", out1, err1, out2, err2)
			}
			if !sameResult(out1, err1, rout, rerr) {
				t.Fatalf("Execute %q, %v differs from Render %q, %v", out1, err1, rout, rerr)
			}
		}
		for _, out := range []string{rout, out1, out2} {
			if len(out) > MaxRenderedBytes {
				t.Fatalf("output of %d bytes exceeds MaxRenderedBytes", len(out))
			}
			checkCollapsed(t, out, Collapse(out))
		}
	})
}

func sameResult(a string, aerr error, b string, berr error) bool {
	if (aerr == nil) != (berr == nil) {
		return false
	}
	if aerr != nil {
		return aerr.Error() == berr.Error()
	}
	return a == b
}

func checkError(t *testing.T, err error, stage Stage, name string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Stage != stage || e.Template != name || e.Err == nil || e.Line < 0 || e.Col < 0 {
		t.Fatalf("error %#v: want stage %v, template %q, a cause and a non-negative position", e, stage, name)
	}
	if !strings.HasPrefix(err.Error(), stage.prefix()) {
		t.Fatalf("error %q lacks Flagger's prefix %q", err, stage.prefix())
	}
}
