package manifest

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
	kyaml "sigs.k8s.io/yaml"
)

// yaml11Scalars are plain scalars whose meaning differs between YAML 1.1
// (Kubernetes) and YAML 1.2, or is easy to get wrong.
var yaml11Scalars = []string{
	"yes", "Yes", "YES", "no", "No", "NO", "y", "Y", "n", "N", "on", "On", "ON", "off", "Off", "OFF",
	"true", "True", "TRUE", "false", "False", "FALSE", "tRUE", "yEs", "nO",
	"~", "null", "Null", "NULL", "nULL",
	"0", "5", "-5", "+5", "050", "0o17", "0x1F", "-0x1F", "0b101", "-0b101", "0b", "08", "09.5", "1_000", "1__0",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
	"18446744073709551615", "18446744073709551616", "99999999999999999999",
	"5.0", "5.", ".5", "-.5", "+.5", "1e3", "1E3", "1e+3", "1.5e-3", "1e400", "-1e400", "1e100", "-1e100", "1e-400", "0.0", "-0", "-0.0",
	".inf", ".Inf", ".INF", "+.inf", "-.inf", "-.Inf", ".nan", ".NaN", ".NAN", ".iNf", ".",
	"2025-03-01", "2025-03-01T10:00:00Z", "1m", "30s", "1m30s", "10.0.0.1", "1.2.3", "+", "-a", "0x", "0xG",
	"v1", "podinfo", "=", "1:30", "0755", "07_55", "0o", "+0x10", "1e", "e5",
}

// k8sJSON is what Kubernetes' YAML reader makes of a YAML document.
func k8sJSON(t testing.TB, doc string) (map[string]json.RawMessage, error) {
	t.Helper()
	j, err := kyaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatalf("sigs.k8s.io/yaml produced invalid JSON %s: %v", j, err)
	}
	return m, nil
}

// scalarJSON is the JSON augur makes of a resolved scalar.
func scalarJSON(v scalar) ([]byte, error) {
	var x any
	switch v.t {
	case tNull:
		x = nil
	case tBool:
		x = v.b
	case tInt:
		x = v.i
	case tUint:
		x = v.u
	case tFloat:
		x = v.f
	default:
		x = v.s
	}
	return json.Marshal(x)
}

// checkAgainstKubernetes compares augur's resolution of plain scalar s, as a
// value and as a key, with sigs.k8s.io/yaml's.
func checkAgainstKubernetes(t *testing.T, s string) {
	t.Helper()
	want, kerr := k8sJSON(t, "v: "+s+"\n")
	got, gerr := scalarJSON(resolvePlain(s))
	switch {
	case kerr != nil && gerr != nil:
		// Neither has a JSON form (NaN, infinity).
	case kerr != nil || gerr != nil:
		t.Errorf("value %q: Kubernetes error %v, augur error %v", s, kerr, gerr)
	case string(want["v"]) != string(got):
		t.Errorf("value %q: Kubernetes reads %s, augur %s", s, want["v"], got)
	}

	wantKey, kerr := k8sJSON(t, s+": x\n")
	gotKey, gerr := keyString(resolvePlain(s))
	switch {
	case kerr != nil && gerr != nil:
	case kerr != nil || gerr != nil:
		t.Errorf("key %q: Kubernetes error %v, augur error %v", s, kerr, gerr)
	default:
		if _, ok := wantKey[gotKey]; !ok || len(wantKey) != 1 {
			t.Errorf("key %q: Kubernetes reads %v, augur %q", s, wantKey, gotKey)
		}
	}
}

// TestResolveMatchesKubernetes pins augur's YAML 1.1 scalar resolution to
// sigs.k8s.io/yaml, the reader kubectl uses.
func TestResolveMatchesKubernetes(t *testing.T) {
	for _, s := range yaml11Scalars {
		t.Run(s, func(t *testing.T) { checkAgainstKubernetes(t, s) })
	}
}

func TestResolveScalar(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    scalar
		wantErr string
	}{
		{"plain yes is a boolean", "yes", scalar{t: tBool, b: true, s: "yes"}, ""},
		{"quoted yes is a string", `"yes"`, scalar{t: tString, s: "yes", quoted: true}, ""},
		{"single quoted number is a string", `'5'`, scalar{t: tString, s: "5", quoted: true}, ""},
		{"block scalar is a string", "|\n  5\n", scalar{t: tString, s: "5\n", quoted: true}, ""},
		{"octal", "010", scalar{t: tInt, i: 8, s: "010"}, ""},
		{"explicit str", "!!str 5", scalar{t: tString, s: "5"}, ""},
		{"explicit int on a quoted value", `!!int "10"`, scalar{t: tInt, i: 10, s: "10"}, ""},
		{"explicit float on an integer", "!!float 3", scalar{t: tFloat, f: 3, s: "3"}, ""},
		{"explicit bool", "!!bool on", scalar{t: tBool, b: true, s: "on"}, ""},
		{"explicit null", "!!null ~", scalar{t: tNull, s: "~"}, ""},
		{"local tag is ignored", "!thing 5", scalar{t: tString, s: "5"}, ""},
		{"bad int", "!!int five", scalar{}, `cannot read "five" as !!int`},
		{"bad bool", "!!bool 1", scalar{}, `cannot read "1" as !!bool`},
		{"binary", "!!binary aGk=", scalar{}, "unsupported YAML tag !!binary"},
		{"timestamp tag", "!!timestamp 2025-01-01", scalar{}, "unsupported YAML tag !!timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.doc), &doc); err != nil {
				t.Fatal(err)
			}
			got, err := resolveScalar(doc.Content[0])
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestKeyString(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"name", "name", false},
		{"on", "true", false},
		{"n", "false", false},
		{"0x10", "16", false},
		{"1.5", "1.5", false},
		{"123456789.0", "1.2345679e+08", false},
		{".inf", ".inf", false},
		{"-.inf", "-.inf", false},
		{".nan", ".nan", false},
		{"1e100", ".inf", false},
		{"~", "", true},
		{"18446744073709551615", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := keyString(resolvePlain(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("keyString(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// FuzzResolveScalar checks augur's YAML 1.1 resolution against
// sigs.k8s.io/yaml for any plain scalar both parsers read the same way.
func FuzzResolveScalar(f *testing.F) {
	for _, s := range yaml11Scalars {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || s == "<<" || len(s) > 64 || strings.ContainsAny(s, "#:,[]{}&*!|>'\"%@`?\\") ||
			strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Skip() // syntax, not scalar resolution; printable ASCII only
		}
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte("v: "+s+"\n"), &doc); err != nil {
			t.Skip()
		}
		m := doc.Content[0]
		if m.Kind != yaml.MappingNode || len(m.Content) != 2 || m.Content[1].Kind != yaml.ScalarNode ||
			m.Content[1].Style != 0 || m.Content[1].Value != s {
			t.Skip()
		}
		if _, err := kyaml.YAMLToJSON([]byte("v: " + s + "\n")); err != nil {
			if v := resolvePlain(s); v.t != tFloat || !(math.IsNaN(v.f) || math.IsInf(v.f, 0)) {
				t.Fatalf("Kubernetes rejects %q (%v), augur resolves it to %+v", s, err, v)
			}
			return
		}
		checkAgainstKubernetes(t, s)
	})
}
