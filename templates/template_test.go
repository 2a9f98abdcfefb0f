package templates

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/google/go-cmp/cmp"
)

// podinfo is the model used by most tests.
var podinfo = Model{
	Name:      "podinfo",
	Namespace: "test",
	Target:    "podinfo",
	Service:   "podinfo-svc",
	Ingress:   "podinfo-ing",
	Route:     "podinfo-route",
	Interval:  "1m",
}

func with(m Model, f func(*Model)) Model {
	f(&m)
	return m
}

// TestRender reproduces Flagger's own RenderQuery tests and the template
// features the builtin queries rely on.
func TestRender(t *testing.T) {
	cluster := with(podinfo, func(m *Model) { m.Variables = map[string]string{"cluster": "eu-west-1"} })
	tests := []struct {
		name string
		text string
		m    Model
		want string
		err  string // exact error text; empty means success
	}{
		{
			name: "every model function",
			text: "{{ name }}|{{ namespace }}|{{ target }}|{{ service }}|{{ ingress }}|{{ route }}|{{ interval }}",
			m:    podinfo,
			want: "podinfo|test|podinfo|podinfo-svc|podinfo-ing|podinfo-route|1m",
		},
		{
			name: "variables.cluster",
			text: `sum(rate(http_requests_total{cluster="{{ variables.cluster }}",namespace="{{ namespace }}"}[{{ interval }}]))`,
			m:    cluster,
			want: `sum(rate(http_requests_total{cluster="eu-west-1",namespace="test"}[1m]))`,
		},
		{
			name: "missing variable key",
			text: `x{cluster="{{ variables.cluster }}"}`,
			m:    with(podinfo, func(m *Model) { m.Variables = map[string]string{"region": "eu"} }),
			err:  `template excution failed: template: q:1:14: executing "q" at <variables>: map has no entry for key "cluster"`,
		},
		{
			name: "missing variables map",
			text: `x{cluster="{{ variables.cluster }}"}`,
			m:    podinfo,
			err:  `template excution failed: template: q:1:14: executing "q" at <variables>: map has no entry for key "cluster"`,
		},
		{
			name: "empty interval renders empty",
			text: "rate(x[{{ interval }}])",
			m:    with(podinfo, func(m *Model) { m.Interval = "" }),
			want: "rate(x[])",
		},
		{
			name: "sprig upper",
			text: `{{ upper namespace }}/{{ target | upper }}`,
			m:    podinfo,
			want: "TEST/PODINFO",
		},
		{
			name: "sprig default on empty interval",
			text: `rate(x[{{ interval | default "5m" }}])`,
			m:    with(podinfo, func(m *Model) { m.Interval = "" }),
			want: "rate(x[5m])",
		},
		{
			name: "sprig default keeps a set interval",
			text: `rate(x[{{ interval | default "5m" }}])`,
			m:    podinfo,
			want: "rate(x[1m])",
		},
		{
			name: "printf builtin",
			text: `up{deployment="{{ printf "%s-primary" target }}"}`,
			m:    podinfo,
			want: `up{deployment="podinfo-primary"}`,
		},
		{
			name: "index builtin",
			text: `{{ index variables "cluster" }}`,
			m:    cluster,
			want: "eu-west-1",
		},
		{
			// index ignores missingkey=error: a missing key yields the zero value.
			name: "index builtin on a missing key",
			text: `[{{ index variables "cluster" }}]`,
			m:    podinfo,
			want: "[]",
		},
		{
			name: "template variable",
			text: "{{- $route := printf \"kube_%s__%s\" namespace ingress }}\n\tx{route=~\"{{ $route }}\"}",
			m:    podinfo,
			want: "\n\tx{route=~\"kube_test__podinfo-ing\"}",
		},
		{
			name: "trim markers",
			text: "a  {{- name -}}  b",
			m:    podinfo,
			want: "apodinfob",
		},
		{
			name: "conditionals and comparisons",
			text: `{{ if eq namespace "test" }}{{ len variables }}{{ else }}no{{ end }}`,
			m:    cluster,
			want: "1",
		},
		{
			name: "range over variables is sorted",
			text: `{{ range $k, $v := variables }}{{ $k }}={{ $v }};{{ end }}`,
			m:    with(podinfo, func(m *Model) { m.Variables = map[string]string{"b": "2", "a": "1", "c": "3"} }),
			want: "a=1;b=2;c=3;",
		},
		{
			name: "define and template",
			text: `{{ define "sel" }}namespace="{{ namespace }}"{{ end }}up{ {{- template "sel" }}}`,
			m:    podinfo,
			want: `up{namespace="test"}`,
		},
		{
			// Flagger executes with nil data.
			name: "dot is nil data",
			text: "{{ . }}",
			m:    podinfo,
			want: "<no value>",
		},
		{
			name: "field of nil data",
			text: "{{ .Namespace }}",
			m:    podinfo,
			err:  `template excution failed: template: q:1:3: executing "q" at <.Namespace>: nil data; no entry for key "Namespace"`,
		},
		{
			name: "empty text",
			text: "",
			m:    podinfo,
			want: "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render("q", tc.text, tc.m)
			checkResult(t, "Render", got, err, tc.want, tc.err)

			tmpl, err := Compile("q", tc.text)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			for i := range 2 { // the second run reuses a pooled clone
				got, err := tmpl.Execute(tc.m)
				checkResult(t, fmt.Sprintf("Execute #%d", i+1), got, err, tc.want, tc.err)
			}
		})
	}
}

func checkResult(t *testing.T, what, got string, err error, want, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil {
			t.Fatalf("%s = %q, want error %q", what, got, wantErr)
		}
		if err.Error() != wantErr {
			t.Fatalf("%s error:\n got %q\nwant %q", what, err.Error(), wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: unexpected error %v", what, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		stage     Stage
		line, col int
		msg       string
		is        error
	}{
		{
			name: "env is not a function", text: `{{ env "HOME" }}`, stage: StageParse, line: 1,
			msg: `template parsing failed: template: q:1: function "env" not defined`,
		},
		{
			name: "expandenv is not a function", text: `x{{ expandenv "$HOME" }}`, stage: StageParse, line: 1,
			msg: `template parsing failed: template: q:1: function "expandenv" not defined`,
		},
		{
			name: "getHostByName is not a function", text: "\n{{ getHostByName \"localhost\" }}", stage: StageParse, line: 2,
			msg: `template parsing failed: template: q:2: function "getHostByName" not defined`,
		},
		{
			name: "unknown function", text: "a\nb\n{{ nope }}", stage: StageParse, line: 3,
			msg: `template parsing failed: template: q:3: function "nope" not defined`,
		},
		{
			name: "unclosed action", text: "{{ name ", stage: StageParse, line: 1,
			msg: `template parsing failed: template: q:1: unclosed action`,
		},
		{
			name: "missing if condition", text: "up\n{{ if }}{{ end }}", stage: StageParse, line: 2,
			msg: `template parsing failed: template: q:2: missing value for if`,
		},
		{
			name: "missing variable with position", text: "sum(\n  x{c=\"{{ variables.cluster }}\"})", stage: StageExecute, line: 2, col: 10,
			msg: `template excution failed: template: q:2:10: executing "q" at <variables>: map has no entry for key "cluster"`,
		},
		{
			name: "error in a defined template", text: "{{ define \"a\" }}\n{{ variables.k }}{{ end }}{{ template \"a\" }}", stage: StageExecute, line: 2, col: 3,
			msg: `template excution failed: template: q:2:3: executing "a" at <variables>: map has no entry for key "k"`,
		},
		{
			name: "sprig fail", text: `{{ fail "no cluster" }}`, stage: StageExecute, line: 1, col: 3,
			msg: `template excution failed: template: q:1:3: executing "q" at <fail "no cluster">: error calling fail: no cluster`,
		},
		{
			name: "endless recursion", text: `{{ define "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`, stage: StageParse,
			msg: `template parsing failed: template: q: template "a" calls itself: recursive templates are not supported in a query template`,
		},
		{
			name: "output too large", text: `{{ range until 600000 }}xx{{ end }}`, stage: StageExecute, is: ErrTooLarge,
			msg: `template excution failed: template: q: output exceeds 1048576 bytes: rendered text too large`,
		},
		{
			name: "repeat too large", text: `{{ "ab" | repeat 600000 }}`, stage: StageExecute, line: 1, col: 10, is: ErrTooLarge,
			msg: `template excution failed: template: q:1:10: executing "q" at <repeat 600000>: error calling repeat: repeat: size 1200000 exceeds 1048576: rendered text too large`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, rerr := Render("q", tc.text, podinfo)
			tmpl, cerr := Compile("q", tc.text)
			errs := map[string]error{"Render": rerr}
			if tc.stage == StageParse {
				if tmpl != nil {
					t.Fatalf("Compile returned a template for %q", tc.text)
				}
				errs["Compile"] = cerr
			} else {
				if cerr != nil {
					t.Fatalf("Compile: %v", cerr)
				}
				_, errs["Execute"] = tmpl.Execute(podinfo)
			}
			for what, err := range errs {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%s error %v (%T) is not an *Error", what, err, err)
				}
				got := struct {
					Template  string
					Stage     Stage
					Line, Col int
					Msg       string
				}{e.Template, e.Stage, e.Line, e.Col, err.Error()}
				want := got
				want.Template, want.Stage, want.Line, want.Col, want.Msg = "q", tc.stage, tc.line, tc.col, tc.msg
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", what, diff)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("%s: errors.Is(%v, %v) = false", what, err, tc.is)
				}
				if tc.stage == StageExecute && tc.is == nil {
					var ee template.ExecError
					if !errors.As(err, &ee) {
						t.Errorf("%s: %v does not unwrap to a text/template ExecError", what, err)
					}
				}
			}
		})
	}
}

func TestStageString(t *testing.T) {
	for s, want := range map[Stage]string{StageParse: "parse", StageExecute: "execute", 0: "Stage(0)", 7: "Stage(7)"} {
		if got := s.String(); got != want {
			t.Errorf("Stage(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}

func TestPosition(t *testing.T) {
	tests := []struct {
		name, msg string
		line, col int
	}{
		{"q", "template: q:3: unexpected EOF", 3, 0},
		{"q", `template: q:12:7: executing "q" at <x>: boom`, 12, 7},
		{"a:1", "template: a:1:4: function \"x\" not defined", 4, 0},
		{"q", "template: q: output exceeds", 0, 0},
		{"q", "template: other:3: x", 0, 0},
		{"q", "template: q:99999999999999999999999: x", 0, 0},
		{"q", "", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.msg, func(t *testing.T) {
			line, col := position(tc.name, tc.msg)
			if line != tc.line || col != tc.col {
				t.Errorf("position(%q, %q) = %d:%d, want %d:%d", tc.name, tc.msg, line, col, tc.line, tc.col)
			}
		})
	}
}

// TestFlaggerNamesWin lists which of Flagger's function names sprig also
// defines and checks that templates always see Flagger's meaning.
func TestFlaggerNamesWin(t *testing.T) {
	// sprig v3.3.0 defines none of Flagger's eight names. If an upgrade adds
	// one, this list changes and the checks below prove Flagger still wins.
	var wantCollisions []string
	var collisions []string
	for n := range sprig.TxtFuncMap() {
		if slices.Contains(flaggerNames, n) {
			collisions = append(collisions, n)
		}
	}
	slices.Sort(collisions)
	if diff := cmp.Diff(wantCollisions, collisions); diff != "" {
		t.Errorf("sprig/Flagger name collisions changed (-want +got):\n%s", diff)
	}

	m := Model{Name: "v-name", Namespace: "v-namespace", Target: "v-target", Service: "v-service",
		Ingress: "v-ingress", Route: "v-route", Interval: "v-interval", Variables: map[string]string{"k": "v-variables"}}
	expr := func(n string) string {
		if n == "variables" {
			return "{{ variables.k }}"
		}
		return "{{ " + n + " }}"
	}
	// A base function map that defines every Flagger name, as a future
	// sprig could.
	hostile := template.FuncMap{"upper": strings.ToUpper}
	for _, n := range flaggerNames {
		if n == "variables" {
			hostile[n] = func() map[string]string { return map[string]string{"k": "sprig"} }
		} else {
			hostile[n] = func() string { return "sprig" }
		}
	}
	for _, n := range flaggerNames {
		t.Run(n, func(t *testing.T) {
			want := "v-" + n
			got, err := Render("q", expr(n), m)
			if err != nil || got != want {
				t.Errorf("Render(%s) = %q, %v; want %q", expr(n), got, err, want)
			}
			tt, err := newTemplate("q", hostile, &binding{m: m}).Parse(expr(n) + "{{ upper \"x\" }}")
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := tt.Execute(&b, nil); err != nil || b.String() != want+"X" {
				t.Errorf("with a colliding base map, %s = %q, %v; want %q", expr(n), b.String(), err, want+"X")
			}
		})
	}
}

// TestSprigFunctionSet checks that templates get all of sprig except the
// functions that read the environment or the network, and those that would
// replace a text/template builtin (sprig's "slice").
func TestSprigFunctionSet(t *testing.T) {
	var want []string
	for n := range sprig.TxtFuncMap() {
		if !slices.Contains([]string{"env", "expandenv", "getHostByName", "slice"}, n) && !slices.Contains(removedCrypto, n) {
			want = append(want, n)
		}
	}
	var got []string
	for n := range sprigFuncs() {
		got = append(got, n)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sprig function set (-want +got):\n%s", diff)
	}
}

// TestExecuteConcurrent executes one compiled template from many goroutines
// with different models; run with -race. The expected text is built by
// plain substitution, not by the renderer.
func TestExecuteConcurrent(t *testing.T) {
	text, err := BuiltinQuery(ObserverIstio, MetricRequestSuccessRate)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Compile("istio", text)
	if err != nil {
		t.Fatal(err)
	}
	const workers, runs = 8, 50
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range runs {
				m := Model{Namespace: fmt.Sprintf("ns-%d-%d", w, i), Target: fmt.Sprintf("app-%d", w), Interval: fmt.Sprintf("%dm", i+1)}
				want := strings.NewReplacer("{{ namespace }}", m.Namespace, "{{ target }}", m.Target, "{{ interval }}", m.Interval).Replace(text)
				got, err := tmpl.Execute(m)
				if err != nil {
					errc <- err
					return
				}
				if got != want {
					errc <- fmt.Errorf("worker %d run %d: got %q, want %q", w, i, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func TestTemplateName(t *testing.T) {
	tmpl, err := Compile("istio/request-duration", "x")
	if err != nil {
		t.Fatal(err)
	}
	if got := tmpl.Name(); got != "istio/request-duration" {
		t.Errorf("Name() = %q", got)
	}
}
