package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSecretFromFile(t *testing.T) {
	const doc = `apiVersion: v1
kind: Secret
metadata:
  name: prom-auth
  namespace: test
  resourceVersion: "42"
  creationTimestamp: "2026-11-01T10:00:00Z"
type: Opaque
data:
  username: YXVndXI=          # augur
  password: czNjcjN0LXB3      # s3cr3t-pw
stringData:
  token: tok-planted-1
`
	set, err := DecodeBytes([]byte(doc), "secret.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := set.LookupSecret("test", "prom-auth")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"username": "augur", "password": "s3cr3t-pw", "token": "tok-planted-1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("data %v, want %v", got, want)
	}
	// Nothing prints or encodes a value.
	b, _ := json.Marshal(set)
	printed := fmt.Sprintf("%v %+v %#v %s", set.Secrets, set.Secrets, set.Secrets[0].Data, b)
	for _, v := range want {
		if strings.Contains(printed, v) {
			t.Errorf("a secret value is printed: %s", printed)
		}
	}
	if _, err := set.LookupSecret("other", "prom-auth"); err == nil || !strings.Contains(err.Error(), "other/prom-auth") {
		t.Errorf("missing Secret: %v", err)
	}
}

func TestSecretErrorsNameKeysNotValues(t *testing.T) {
	cases := map[string]struct {
		doc  string
		err  error
		want string
	}{
		"not base64":    {"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  token: not*base64*planted\n", ErrType, "data.token is not base64"},
		"unknown field": {"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndatta:\n  token: eA==\n", ErrUnknownField, `"datta"`},
		"twice":         {"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", ErrDuplicate, "Secret default/s"},
	}
	for name, tc := range cases {
		_, err := DecodeBytes([]byte(tc.doc), "s.yaml")
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %v containing %q", name, err, tc.err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "planted") {
			t.Errorf("%s: error prints the value: %v", name, err)
		}
	}
}
