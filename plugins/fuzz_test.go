package plugins

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/augurproj/augur/service"
)

// FuzzCodec feeds arbitrary bytes to the wire codec as a DecideRequest and a
// QueryRequest. Decoding may fail but must not panic; whatever decodes must
// survive a round trip unchanged (marshal → unmarshal → marshal is stable),
// so that a request means the same thing on both sides of the boundary.
func FuzzCodec(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "wire.golden.json"))
	if err != nil {
		f.Fatal(err)
	}
	// The golden file holds three indented JSON values; seed with each.
	for _, part := range bytes.Split(golden, []byte("\n}\n")) {
		if len(bytes.TrimSpace(part)) > 0 {
			f.Add(append(part, '}'))
		}
	}
	f.Add([]byte(`{"canary":{"metadata":{"name":"a"},"spec":{"targetRef":{"name":"b"},"service":{"name":"s","port":80}}},"status":{"phase":"Progressing"}}`))
	f.Add([]byte(`{"metric":{"name":"m","thresholdRange":{"min":1e308}},"at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"values":{"m":{"value":null,"error":"no-values"}},"webhooks":"pass"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"canary":{"spec":{"analysis":{"metrics":[{"templateVariables":{"k":"v"}}]}}}}`))
	var codec jsonCodec
	f.Fuzz(func(t *testing.T, data []byte) {
		stable := func(v, fresh any) {
			if err := codec.Unmarshal(data, v); err != nil {
				return
			}
			b1, err := codec.Marshal(v)
			if err != nil {
				t.Fatalf("decoded %s but cannot encode it: %v", data, err)
			}
			if err := codec.Unmarshal(b1, fresh); err != nil {
				t.Fatalf("cannot decode own encoding %s: %v", b1, err)
			}
			b2, err := codec.Marshal(fresh)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b2) {
				t.Fatalf("round trip changed the request:\n%s\n%s", b1, b2)
			}
		}
		stable(new(service.DecideRequest), new(service.DecideRequest))
		stable(new(service.QueryRequest), new(service.QueryRequest))
	})
}
