package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis"
)

// names lists "Kind namespace/name" of every object in a set, in order.
func names(set *Set) []string {
	var out []string
	for i := range set.Canaries {
		out = append(out, CanaryKey(&set.Canaries[i]).String())
	}
	for i := range set.Templates {
		out = append(out, TemplateKey(&set.Templates[i]).String())
	}
	return out
}

const minimalCanary = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
`

const minimalTemplate = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: up
  namespace: test
spec:
  provider: {type: prometheus}
  query: up
`

func TestDecodeInputs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty input", "", nil},
		{"only comments", "# nothing\n# here\n", nil},
		{"only separators", "---\n---\n...\n", nil},
		{"null document", "~\n", nil},
		{"one canary", minimalCanary, []string{"Canary test/podinfo"}},
		{"canary and template", minimalCanary + "---\n" + minimalTemplate, []string{"Canary test/podinfo", "MetricTemplate test/up"}},
		{"template first", minimalTemplate + "---\n" + minimalCanary, []string{"Canary test/podinfo", "MetricTemplate test/up"}},
		{"CRLF line endings", strings.ReplaceAll(minimalCanary, "\n", "\r\n"), []string{"Canary test/podinfo"}},
		{"byte order mark", "\ufeff" + minimalCanary, []string{"Canary test/podinfo"}},
		{"other kinds skipped", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {whatever: [1, 2]}\n---\n" +
			"apiVersion: flagger.app/v1beta1\nkind: AlertProvider\nmetadata: {name: slack}\nspec: {type: slack}\n", nil},
		{"JSON object", `{"apiVersion":"flagger.app/v1beta1","kind":"MetricTemplate","metadata":{"name":"up"},"spec":{"provider":{"type":"prometheus"},"query":"up"}}`,
			[]string{"MetricTemplate default/up"}},
		{"JSON stream", `{"apiVersion":"flagger.app/v1beta1","kind":"MetricTemplate","metadata":{"name":"a"}} {"apiVersion":"flagger.app/v1beta1","kind":"MetricTemplate","metadata":{"name":"b"}}`,
			[]string{"MetricTemplate default/a", "MetricTemplate default/b"}},
		{"JSON then YAML", `{"apiVersion":"flagger.app/v1beta1","kind":"MetricTemplate","metadata":{"name":"a"}}` + "\n---\n" + minimalCanary,
			[]string{"Canary test/podinfo", "MetricTemplate default/a"}},
		{"List", "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(minimalCanary, "\n", "\n  "),
			[]string{"Canary test/podinfo"}},
		{"anchored header and items", "apiVersion: &v v1\nkind: &k List\nitems: &i\n- apiVersion: flagger.app/v1beta1\n  kind: MetricTemplate\n  metadata: {name: a}\n",
			[]string{"MetricTemplate default/a"}},
		{"List of another group is skipped", "apiVersion: example.com/v1\nkind: List\nitems: 5\n", nil},
		{"empty List", "apiVersion: v1\nkind: List\nitems: []\n", nil},
		{"null items", "apiVersion: v1\nkind: List\nitems:\n", nil},
		{"nested List", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - " + strings.ReplaceAll(minimalTemplate, "\n", "\n    "),
			[]string{"MetricTemplate test/up"}},
		{"CanaryList without item kinds", "apiVersion: flagger.app/v1beta1\nkind: CanaryList\nitems:\n- metadata: {name: a}\n- metadata: {name: b, namespace: x}\n",
			[]string{"Canary default/a", "Canary x/b"}},
		{"MetricTemplateList", "apiVersion: flagger.app/v1beta1\nkind: MetricTemplateList\nitems:\n- metadata: {name: a}\n",
			[]string{"MetricTemplate default/a"}},
		{"anchors across documents do not leak", "a: &x 1\n---\n" + minimalTemplate, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := DecodeBytes([]byte(tt.in), "in.yaml")
			if tt.name == "anchors across documents do not leak" {
				// The first document has no kind, so it is an error; the point
				// is that decoding stops cleanly.
				if err == nil || !errors.Is(err, ErrNotObject) {
					t.Fatalf("err = %v, want ErrNotObject", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(set)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeErrorClasses pins the sentinel of every bad testdata file.
func TestDecodeErrorClasses(t *testing.T) {
	tests := map[string][]error{
		"alias-bomb.bad.yaml":             {ErrSyntax, ErrUnknownField},
		"alias-cycle.bad.yaml":            {ErrSyntax},
		"duplicate-key.bad.yaml":          {ErrDuplicate},
		"duplicate-object.bad.yaml":       {ErrDuplicate},
		"json-stream.bad.yaml":            {ErrType, ErrUnknownField},
		"list-items.bad.yaml":             {ErrUnknownField, ErrNotObject, ErrUnknownKind, ErrType},
		"map-keys.bad.yaml":               {ErrSyntax},
		"raw-values.bad.yaml":             {ErrType, ErrDuplicate, ErrSyntax},
		"not-an-object.bad.yaml":          {ErrNotObject, ErrType},
		"syntax-json.bad.yaml":            {ErrSyntax},
		"syntax-json-truncated.bad.yaml":  {ErrSyntax},
		"syntax-multidoc.bad.yaml":        {ErrSyntax},
		"targetref-namespace.bad.yaml":    {ErrUnknownField},
		"type-numbers.bad.yaml":           {ErrType},
		"type-quoted-int.bad.yaml":        {ErrType},
		"type-structure.bad.yaml":         {ErrType},
		"type-yaml11.bad.yaml":            {ErrType},
		"unknown-field-deep.bad.yaml":     {ErrUnknownField},
		"unknown-field-metadata.bad.yaml": {ErrUnknownField},
		"unknown-field-service.bad.yaml":  {ErrUnknownField},
		"unknown-field-spec.bad.yaml":     {ErrUnknownField},
		"unknown-field-status.bad.yaml":   {ErrUnknownField},
		"unknown-field-template.bad.yaml": {ErrUnknownField},
		"unknown-field-top.bad.yaml":      {ErrUnknownField},
		"unknown-field-webhook.bad.yaml":  {ErrUnknownField},
		"unknown-kind.bad.yaml":           {ErrUnknownKind},
		"wrong-apiversion.bad.yaml":       {ErrAPIVersion, ErrNotObject},
		"yaml-tags.bad.yaml":              {ErrType},
	}
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := tests[filepath.Base(f)]; !ok {
			t.Errorf("%s has no entry in this table", f)
		}
	}
	all := []error{ErrSyntax, ErrNotObject, ErrAPIVersion, ErrUnknownKind, ErrUnknownField, ErrType, ErrDuplicate, ErrInvalid, ErrUnresolved}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeFile(filepath.Join("testdata", name))
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range all {
				if got := errors.Is(err, s); got != slices.Contains(want, s) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
		})
	}
}

func TestDeepNesting(t *testing.T) {
	tests := map[string]string{
		"JSON": strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"YAML": "a: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeBytes([]byte(in), "deep")
			if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "exceeded max depth") {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestListCycle(t *testing.T) {
	_, err := DecodeBytes([]byte("&r {apiVersion: v1, kind: List, items: [*r, *r]}\n"), "c.yaml")
	want := "c.yaml:1:1: document 1, items[0]: this List contains itself (through an alias)\n" +
		"c.yaml:1:1: document 1, items[1]: this List contains itself (through an alias)"
	if err == nil || err.Error() != want || !errors.Is(err, ErrSyntax) {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Decode(iotest.ErrReader(boom), "<stdin>")
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "<stdin>") {
		t.Errorf("err = %v, want it to wrap the read error and name the source", err)
	}
	_, err = DecodeFile(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want fs.ErrNotExist", err)
	}
}

// writeFiles creates files (path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func template(name string) string {
	return fmt.Sprintf("apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata: {name: %s}\nspec: {provider: {type: prometheus}, query: up}\n", name)
}

func TestDecodePaths(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.yaml":                template("b"),
		"a/z.yml":               template("az"),
		"a/deep/y.json":         `{"apiVersion":"flagger.app/v1beta1","kind":"MetricTemplate","metadata":{"name":"ay"}}`,
		"c.yaml":                "# empty\n",
		"notes.txt":             "not: [a manifest",
		"README.md":             "# readme",
		".hidden/x.yaml":        "broken: [",
		".hidden.yaml":          "broken: [",
		"values/chart.YAML":     "broken: [", // extensions are case-sensitive, as kubectl's
		"other/explicit.txt":    template("explicit"),
		"empty/.gitkeep":        "",
		"dup/one.yaml":          template("same"),
		"dup/two.yaml":          template("same"),
		"bad/broken.yaml":       template("fine") + "---\nbroken: [\n",
		"bad/unknown.yaml":      template("fine2") + "bogus: 1\n",
		"linked/target/l.yaml":  template("linked"),
		"link-holder/.keep":     "",
		"single/only.yaml":      template("only"),
		"single/more/also.yaml": template("also"),
		"single/only.test.yaml": "tests:\n- name: an augur test file, not a manifest\n",
	})
	if err := os.Symlink(filepath.Join(dir, "linked", "target"), filepath.Join(dir, "link-holder", "dirlink.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "b.yaml"), filepath.Join(dir, "link-holder", "filelink.yaml")); err != nil {
		t.Fatal(err)
	}
	p := func(s string) string { return filepath.Join(dir, filepath.FromSlash(s)) }

	tests := []struct {
		name    string
		paths   []string
		want    []string
		wantErr []string
		is      error
	}{
		{
			name:  "directory: recursive, sorted, manifests only",
			paths: []string{p("a"), p("b.yaml"), p("c.yaml")},
			want:  []string{"MetricTemplate default/ay", "MetricTemplate default/az", "MetricTemplate default/b"},
		},
		{
			name:  "explicit file with any extension",
			paths: []string{p("other/explicit.txt")},
			want:  []string{"MetricTemplate default/explicit"},
		},
		{
			name:  "a file reached twice is read once",
			paths: []string{p("single"), p("single/only.yaml")},
			want:  []string{"MetricTemplate default/also", "MetricTemplate default/only"},
		},
		{
			name:  "symlinked files are read, symlinked directories are not followed",
			paths: []string{p("link-holder")},
			want:  []string{"MetricTemplate default/b"},
		},
		{
			name:    "duplicates across files",
			paths:   []string{p("dup")},
			wantErr: []string{"dup/two.yaml:1:1: document 1, MetricTemplate default/same: defined twice; first at ", "dup/one.yaml:1:1 (document 1)"},
			is:      ErrDuplicate,
		},
		{
			name:    "duplicates across arguments",
			paths:   []string{p("b.yaml"), p("link-holder/filelink.yaml")},
			wantErr: []string{"filelink.yaml:1:1: document 1, MetricTemplate default/b: defined twice"},
			is:      ErrDuplicate,
		},
		{
			name:    "problems in all files are reported",
			paths:   []string{p("bad")},
			wantErr: []string{"broken.yaml:6: document 2: invalid YAML", "unknown.yaml:5:1: document 1, MetricTemplate default/fine2: bogus: unknown field"},
		},
		{
			name:    "directory without manifests",
			paths:   []string{p("empty")},
			wantErr: []string{"no .yaml, .yml or .json files"},
		},
		{
			name:    "missing path",
			paths:   []string{p("nope")},
			wantErr: []string{"nope"},
			is:      fs.ErrNotExist,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := DecodePaths(tt.paths)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; decoded %v", names(set))
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(filepath.ToSlash(err.Error()), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("error does not wrap %v", tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(set)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	set, err := DecodeFile("testdata/defaults.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := &set.Canaries[0]
	if c.Metadata.Namespace != DefaultNamespace || set.Templates[0].Metadata.Namespace != DefaultNamespace {
		t.Errorf("namespaces = %q, %q; want %q", c.Metadata.Namespace, set.Templates[0].Metadata.Namespace, DefaultNamespace)
	}
	m := &c.Spec.Analysis.Metrics[0]
	if m.TemplateRef.Namespace != "" {
		t.Errorf("templateRef.namespace = %q: the decoder must not fill it", m.TemplateRef.Namespace)
	}
	if got := TemplateNamespace(c, m.TemplateRef); got != DefaultNamespace {
		t.Errorf("TemplateNamespace = %q", got)
	}
	if tm, ok := set.TemplateFor(c, m); !ok || tm != &set.Templates[0] {
		t.Errorf("TemplateFor = %p, %v; want %p", tm, ok, &set.Templates[0])
	}
	if _, ok := set.TemplateFor(c, &analysis.Metric{Name: "request-success-rate"}); ok {
		t.Error("TemplateFor found a template for a metric without templateRef")
	}
	tests := []struct {
		name, namespace string
		found           bool
	}{
		{"not-found-percentage", "", true},
		{"not-found-percentage", "default", true},
		{"not-found-percentage", "test", false},
		{"other", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.namespace, func(t *testing.T) {
			if _, ok := set.Template(tt.name, tt.namespace); ok != tt.found {
				t.Errorf("Template(%q, %q) found = %v", tt.name, tt.namespace, ok)
			}
		})
	}
	if _, ok := set.Canary("podinfo", ""); !ok {
		t.Error("Canary(podinfo, \"\") not found")
	}
	if _, ok := set.Canary("podinfo", "test"); ok {
		t.Error("Canary(podinfo, test) found")
	}
}

func TestServiceFields(t *testing.T) {
	set, err := DecodeFile("testdata/service-fields.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc := set.Canaries[0].Spec.Service
	if svc.Name != "podinfo-svc" {
		t.Errorf("Name = %q", svc.Name)
	}
	if _, ok := svc.Other["name"]; ok {
		t.Error("name is also in Other")
	}
	// Every field of canaryService but name, and nothing else, is in Other.
	var want []string
	for f := range reflect.TypeFor[canaryService]().Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "name" {
			want = append(want, tag)
		}
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, sortedKeys(svc.Other)); diff != "" {
		t.Errorf("Other keys (-want +got):\n%s", diff)
	}
	for k, raw := range svc.Other {
		if !json.Valid(raw) {
			t.Errorf("Other[%s] = %s is not JSON", k, raw)
		}
	}
	if got := string(svc.Other["gatewayRefs"]); got != `[{"name":"gateway","namespace":"istio-ingress","sectionName":"https"}]` {
		t.Errorf("gatewayRefs = %s", got)
	}
	if got := string(svc.Other["targetPort"]); got != `"http"` {
		t.Errorf("targetPort = %s", got)
	}
}

func TestOrigins(t *testing.T) {
	set, err := DecodeFile("testdata/list.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o, ok := set.Sources[Key{Kind: analysis.KindCanary, Namespace: "test", Name: "podinfo"}]
	if !ok {
		t.Fatal("no origin for the canary")
	}
	if o.Source != "testdata/list.good.yaml" || o.Document != 1 || o.Item != "items[1]" || o.Pos != (Position{Line: 14, Column: 5}) {
		t.Errorf("origin = %+v", o)
	}
	tests := []struct {
		path string
		want Position
		has  bool
	}{
		{"spec.analysis.interval", Position{Line: 27, Column: 19}, true},
		{"spec.analysis.metrics[0].thresholdRange.min", Position{Line: 33, Column: 20}, true},
		{"spec.analysis.metrics[0].interval", Position{Line: 31, Column: 13}, false}, // falls back to the metric
		{"spec.analysis.iterations", Position{Line: 27, Column: 9}, false},           // to the analysis mapping
		{"status.phase", Position{Line: 14, Column: 5}, false},                       // to the object
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := o.At(tt.path); got != tt.want {
				t.Errorf("At = %v, want %v", got, tt.want)
			}
			if got := o.Has(tt.path); got != tt.has {
				t.Errorf("Has = %v, want %v", got, tt.has)
			}
		})
	}
}

func TestParentPath(t *testing.T) {
	tests := map[string]string{
		"spec.analysis.metrics[1].thresholdRange.min": "spec.analysis.metrics[1].thresholdRange",
		"spec.analysis.metrics[1]":                    "spec.analysis.metrics",
		"metadata.labels[app.kubernetes.io/name]":     "metadata.labels",
		"metadata.labels[a[b]]":                       "metadata.labels",
		"a[x.y].b":                                    "a[x.y]",
		"spec":                                        "",
		"":                                            "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := parentPath(in); got != want {
				t.Errorf("parentPath(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"everything", Error{Source: "c.yaml", Document: 2, Item: "items[1]", Object: "Canary test/podinfo", Path: "spec.x", Pos: Position{3, 4}, Msg: "bad"},
			"c.yaml:3:4: document 2, items[1], Canary test/podinfo: spec.x: bad"},
		{"no column", Error{Source: "c.yaml", Document: 1, Pos: Position{Line: 3}, Msg: "bad"}, "c.yaml:3: document 1: bad"},
		{"no position", Error{Source: "c.yaml", Object: "Canary a/b", Msg: "bad"}, "c.yaml: Canary a/b: bad"},
		{"no source", Error{Path: "spec", Msg: "bad"}, "<input>: spec: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimalCanary)
	for i := range 150 {
		fmt.Fprintf(&b, "bogus%d: 1\n", i)
	}
	_, err := DecodeBytes([]byte(b.String()), "many.yaml")
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	if len(errs) != maxErrors+1 {
		t.Fatalf("%d errors, want %d", len(errs), maxErrors+1)
	}
	if last := errs[len(errs)-1].Error(); !strings.Contains(last, "too many problems") {
		t.Errorf("last error = %q", last)
	}
}

func TestMerge(t *testing.T) {
	a, err := DecodeBytes([]byte(minimalCanary), "a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeBytes([]byte(minimalTemplate), "b.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var set Set
	if err := set.Merge(a); err != nil {
		t.Fatal(err)
	}
	if err := set.Merge(nil); err != nil {
		t.Fatal(err)
	}
	if err := set.Merge(b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Canary test/podinfo", "MetricTemplate test/up"}, names(&set)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if set.Sources[CanaryKey(&set.Canaries[0])].Source != "a.yaml" || set.Sources[TemplateKey(&set.Templates[0])].Source != "b.yaml" {
		t.Errorf("sources = %+v", set.Sources)
	}
	again, err := DecodeBytes([]byte(minimalTemplate+"---\n"+template("new")), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = set.Merge(again)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("err = %v, want ErrDuplicate", err)
	}
	if want := "c.yaml:1:1: document 1, MetricTemplate test/up: defined twice; first at b.yaml:1:1 (document 1)"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if len(set.Templates) != 1 {
		t.Errorf("a failed Merge changed the set: %v", names(&set))
	}
	// Objects built in code have no origin; the error still names them.
	built := &Set{Templates: []analysis.MetricTemplate{{Metadata: analysis.ObjectMeta{Name: "up", Namespace: "test"}}}}
	if err := set.Merge(built); err == nil || err.Error() != "<input>: MetricTemplate test/up: defined twice; first at b.yaml:1:1 (document 1)" {
		t.Errorf("err = %v", err)
	}
	var fromCode Set
	if err := fromCode.Merge(built); err != nil {
		t.Fatal(err)
	}
	if err := fromCode.Merge(built); err == nil || err.Error() != "<input>: MetricTemplate test/up: defined twice" {
		t.Errorf("err = %v", err)
	}
}

func TestEncodeJSON(t *testing.T) {
	set := &Set{
		Canaries: []analysis.Canary{{
			Metadata: analysis.ObjectMeta{Name: "built", Namespace: "ns"},
			Spec: analysis.CanarySpec{
				TargetRef: analysis.CrossNamespaceObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "built"},
				Service: analysis.CanaryService{Name: "svc", Other: map[string]json.RawMessage{
					"port": json.RawMessage(`80`), "hosts": json.RawMessage(`["a"]`),
				}},
			},
			Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 20},
		}},
		Templates: []analysis.MetricTemplate{{
			Metadata: analysis.ObjectMeta{Name: "t", Namespace: "ns"},
			Spec:     analysis.MetricTemplateSpec{Provider: analysis.MetricTemplateProvider{Type: "prometheus"}, Query: "up"},
		}},
	}
	out, err := EncodeJSON(set)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBytes(out, "encoded")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := &Set{Canaries: slices.Clone(set.Canaries), Templates: slices.Clone(set.Templates)}
	want.Canaries[0].APIVersion, want.Canaries[0].Kind = analysis.APIVersion, analysis.KindCanary
	want.Templates[0].APIVersion, want.Templates[0].Kind = analysis.APIVersion, analysis.KindMetricTemplate
	equalSets(t, want, got)

	bad := &Set{Canaries: []analysis.Canary{{Spec: analysis.CanarySpec{Service: analysis.CanaryService{
		Other: map[string]json.RawMessage{"port": json.RawMessage(`{not json`)},
	}}}}}
	if _, err := EncodeJSON(bad); err == nil {
		t.Error("EncodeJSON accepted invalid raw JSON")
	}
}
