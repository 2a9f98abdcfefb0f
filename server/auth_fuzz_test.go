package server

import (
	"testing"
)

// FuzzMetadataToken: the token the pre-decoding scan finds is the token
// the decoder reads, whenever the payload decodes; so authenticating before
// decoding never lets through a caller the decoder would see otherwise.
func FuzzMetadataToken(f *testing.F) {
	for _, s := range []string{
		`{"name":"p","metadata":{"token":"t"}}`,
		`{"metadata":{"a":{"token":"x"},"token":"t"},"name":"p"}`,
		`{"name":"p","x":{"metadata":{"token":"evil"}},"metadata":{"token":"t"}}`,
		`{"name":"p","metadata":{"token":"t","token":"u"}}`,
		`{"name":"p","metadata":{"token":1}}`,
		`[{"metadata":{"token":"t"}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok := metadataToken(b)
		p, err := decodePayload(b)
		if err != nil {
			return
		}
		if got := p.Metadata[KeyToken]; got != tok {
			t.Fatalf("scan found %q, decoder %q", tok, got)
		}
	})
}
