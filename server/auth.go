package server

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// authorizedBody authorizes a Flagger webhook call before its body is
// decoded (decoding is the expensive step an unauthenticated caller must
// not get): by the bearer header, or by the token in the payload's
// metadata, found by metadataToken's bounded linear scan.
func (s *Server) authorizedBody(r *http.Request, body []byte) bool {
	if s.opts.Token == "" {
		return true
	}
	tok := ""
	if r.Header.Get("Authorization") == "" {
		tok = metadataToken(body)
	}
	return s.authorized(r, tok)
}

// metadataToken returns the string member "token" of the top-level member
// "metadata" of a JSON object, or "" when there is none. It is one pass over
// the tokens (linear in the body, no allocation per member but the token
// itself), and it does not validate the rest: decodePayload does that once
// the caller is known.
func metadataToken(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return ""
		}
		if k != "metadata" {
			if skipValue(dec) != nil {
				return ""
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return ""
		}
		for dec.More() {
			mk, err := dec.Token()
			if err != nil {
				return ""
			}
			if mk == KeyToken {
				v, _ := dec.Token()
				s, _ := v.(string)
				return s
			}
			if skipValue(dec) != nil {
				return ""
			}
		}
		return ""
	}
	return ""
}

// skipValue reads past one JSON value.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}
