package integration

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func FuzzParseEnv(f *testing.F) {
	for _, seed := range []string{
		"PROMETHEUS_URL=http://127.0.0.1:40123\nPROMETHEUS_PID=4242\nPROMETHEUS_DIR=/tmp/prometheus-testenv.abc\n",
		"# comment\r\n\r\nA=b=c\r\n_X1=\n",
		"A=1\nA=2",
		"1A=x",
		"JUNK",
		"A=\x00",
		"A=x\r\r\n B=y",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnv(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "env line ") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		lines := strings.Split(string(data), "\n")
		if len(env) > len(lines) {
			t.Fatalf("%d keys from %d lines", len(env), len(lines))
		}
		// Every pair is one line of the input, and writing the pairs back
		// out parses to the same map.
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(env)) {
			v := env[k]
			if !validKey(k) || strings.ContainsAny(v, "\n\x00") || strings.HasSuffix(v, "\r") {
				t.Fatalf("pair %q=%q should have been refused or trimmed", k, v)
			}
			if !strings.Contains(string(data), k+"="+v) {
				t.Fatalf("pair %q=%q is not in the input", k, v)
			}
			b.WriteString(k + "=" + v + "\n")
		}
		again, err := ParseEnv([]byte(b.String()))
		if err != nil {
			t.Fatalf("re-parsing %q: %v", b.String(), err)
		}
		if !maps.Equal(env, again) {
			t.Fatalf("round trip changed %v into %v", env, again)
		}
	})
}
