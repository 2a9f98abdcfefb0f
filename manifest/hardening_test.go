package manifest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDuplicateJSONKey(t *testing.T) {
	tests := []struct {
		in, path, key string
	}{
		{`{"a":1,"b":{"c":1,"d":[{"e":1},{"e":2,"e":3}]}}`, "b.d[1]", "e"},
		{`{"a":1,"a":2}`, "", "a"},
		{`{"status":{"x":{"y":1},"x":2}}`, "status", "x"},
		{`[{"a":1},{"a":1,"b":[1,2,{"c":{},"c":[]}]}]`, "[1].b[2]", "c"},
	}
	for _, tc := range tests {
		err := DuplicateJSONKey([]byte(tc.in), "")
		var de *DuplicateKeyError
		if !errors.As(err, &de) || de.Path != tc.path || de.Key != tc.key || !errors.Is(err, ErrDuplicateKey) {
			t.Errorf("%s: %v, want %s %s", tc.in, err, tc.path, tc.key)
		}
	}
	for _, ok := range []string{`{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}`, `[]`, `"x"`, `{"a":`} {
		if err := DuplicateJSONKey([]byte(ok), ""); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestFilesRefuseNestedDuplicates: in files as in bodies, a key given
// twice at any depth is an error (webhook metadata, labels, thresholds).
func TestFilesRefuseNestedDuplicates(t *testing.T) {
	canary := `{"apiVersion":"flagger.app/v1beta1","kind":"Canary","metadata":{"name":"p","namespace":"t"},
"spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"p"},"analysis":{"interval":"1m","threshold":1,
"metrics":[{"name":"request-success-rate","thresholdRange":{"min":99,"min":1}}],
"webhooks":[{"name":"h","url":"http://h/","metadata":{"cmd":"a","cmd":"b"}}]}}}`
	for _, src := range []string{canary, strings.ReplaceAll(canary, "\n", " ")} {
		_, err := DecodeBytes([]byte(src), "c.json")
		if err == nil || !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), `"min" is given twice`) || !strings.Contains(err.Error(), `"cmd" is given twice`) {
			t.Errorf("got %v", err)
		}
	}
}

// TestSingleLineJSONIsLinear: a ~1 MB Canary on one line (as objects read
// from the cluster are re-encoded) decodes about as fast as pretty JSON;
// the column used to be recounted from the start of the line for every
// token (13 s). Generous bound: the point is "bounded".
func TestSingleLineJSONIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("abuse test")
	}
	var labels strings.Builder
	for i := range 42000 {
		if i > 0 {
			labels.WriteByte(',')
		}
		fmt.Fprintf(&labels, `"label-%d":"v%d"`, i, i)
	}
	src := `{"apiVersion":"flagger.app/v1beta1","kind":"Canary","metadata":{"name":"p","namespace":"t","labels":{` + labels.String() +
		`}},"spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"p"},"analysis":{"interval":"1m","threshold":1}}}`
	if len(src) < 900<<10 {
		t.Fatalf("only %d bytes", len(src))
	}
	start := time.Now()
	if _, err := DecodeBytes([]byte(src), "c.json"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("%d bytes on one line took %s", len(src), took)
	}
}

// TestTooManyMetrics: a Canary's metrics are bounded (10,000 used to cost
// 24 s of CPU); the error names the field and the limit.
func TestTooManyMetrics(t *testing.T) {
	var b strings.Builder
	for i := range MaxMetrics + 1 {
		fmt.Fprintf(&b, "    - {name: m%d, query: up, thresholdRange: {min: 1}}\n", i)
	}
	src := "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: p, namespace: t}\nspec:\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: p}\n" +
		"  analysis:\n    interval: 1m\n    threshold: 1\n    metrics:\n" + b.String()
	set, err := DecodeBytes([]byte(src), "c.yaml")
	if err == nil {
		err = Validate(set)
	}
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("spec.analysis.metrics: %d metrics; augur evaluates at most %d", MaxMetrics+1, MaxMetrics)) {
		t.Errorf("error %.300v", err)
	}
}

func TestDuplicateKeyYAML(t *testing.T) {
	for in, want := range map[string]string{
		"status:\n  canaryWeight: 10\n  canaryWeight: 90\n": `status: key "canaryWeight" is given twice`,
		`{"a":{"b":[{"c":1,"c":2}]}}`:                       `a.b[0]: key "c" is given twice`,
		"a: 1\n---\nb: {c: 1}\nb: 2\n":                      `key "b" is given twice`,
	} {
		if err := DuplicateKey([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", in, err, want)
		}
	}
	if err := DuplicateKey([]byte("a: {b: 1}\nc: {b: 1}\n")); err != nil {
		t.Error(err)
	}
}
