package analysis

import (
	"encoding/json"
	"testing"
)

func TestCanaryServiceRoundTripsThroughJSON(t *testing.T) {
	in := `{"name":"podinfo-svc","port":9898,"gateways":["istio-system/public-gateway"],"trafficPolicy":{"tls":{"mode":"DISABLE"}}}`
	var s CanaryService
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if s.Name != "podinfo-svc" || len(s.Other) != 3 || string(s.Other["port"]) != "9898" {
		t.Fatalf("decoded %+v", s)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"gateways":["istio-system/public-gateway"],"name":"podinfo-svc","port":9898,"trafficPolicy":{"tls":{"mode":"DISABLE"}}}` {
		t.Errorf("re-encoded %s", out)
	}
	var empty CanaryService
	if err := json.Unmarshal([]byte(`{}`), &empty); err != nil || empty.Name != "" || empty.Other != nil {
		t.Errorf("empty service: %+v %v", empty, err)
	}
	if err := json.Unmarshal([]byte(`{"name":5}`), &empty); err == nil {
		t.Error("a non-string name must be an error")
	}
}
