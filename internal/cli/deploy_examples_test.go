package cli

import (
	"os"
	"strings"
	"testing"
)

// TestFlaggerDeployExample: examples/flagger-in-cluster/canary.yaml is a Canary augur
// reads strictly, and its webhooks call the Service deploy/augur.yaml
// creates, with the token placeholder the README substitutes.
func TestFlaggerDeployExample(t *testing.T) {
	const path = "../../examples/flagger-in-cluster/canary.yaml"
	if code, _, errOut := run(t, "", "render", "-f", path); code != ExitOK {
		t.Fatalf("render %s: exit %d: %s", path, code, errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	deploy, err := os.ReadFile("../../deploy/augur.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"url: http://augur.augur-system:8080/flagger/v1/check", "url: http://augur.augur-system:8080/flagger/v1/gate",
		`token: "${AUGUR_TOKEN}"`, "type: confirm-promotion"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	for _, want := range []string{"kind: Service\nmetadata:\n  name: augur\n  namespace: augur-system", "port: 8080"} {
		if !strings.Contains(string(deploy), want) {
			t.Errorf("deploy/augur.yaml lacks %q: the example's URL would not reach augur", want)
		}
	}
}
