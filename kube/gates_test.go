package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/augurproj/augur/kube/kubetest"
)

func TestConfigMapGates(t *testing.T) {
	cl, err := kubetest.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g := cl.Source("augur-system").Gates("", "")
	if g.String() != "configmap augur-system/augur-gates" {
		t.Errorf("String() = %q", g.String())
	}
	if _, ok, err := g.Get(ctx, "test/podinfo"); ok || err != nil {
		t.Fatalf("Get before any write: %v %v", ok, err)
	}
	set := func(v string) func(string, bool) (string, bool, error) {
		return func(string, bool) (string, bool, error) { return v, v != "", nil }
	}
	// The first write creates the ConfigMap; a no-op writes nothing.
	if err := g.Update(ctx, "test/podinfo", set("")); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Core.CoreV1().ConfigMaps("augur-system").Get(ctx, "augur-gates", metav1.GetOptions{}); err == nil {
		t.Error("closing a closed gate created the ConfigMap")
	}
	if err := g.Update(ctx, "test/podinfo", set(`{"checksum":"a"}`)); err != nil {
		t.Fatal(err)
	}
	cm, err := cl.Core.CoreV1().ConfigMaps("augur-system").Get(ctx, "augur-gates", metav1.GetOptions{})
	if err != nil || cm.Data["test_podinfo"] != `{"checksum":"a"}` {
		t.Fatalf("ConfigMap %v %v", cm, err)
	}
	var seen string
	if err := g.Update(ctx, "test/podinfo", func(old string, found bool) (string, bool, error) {
		seen = old
		return "", false, nil
	}); err != nil || seen != `{"checksum":"a"}` {
		t.Fatalf("update saw %q: %v", seen, err)
	}
	if _, ok, _ := g.Get(ctx, "test/podinfo"); ok {
		t.Error("deleted gate still there")
	}
	boom := errors.New("boom")
	if err := g.Update(ctx, "test/podinfo", func(string, bool) (string, bool, error) { return "x", true, boom }); !errors.Is(err, boom) {
		t.Errorf("f's error: %v", err)
	}
	for _, bad := range []string{"podinfo", "a_b/c", "/x", "ns/", "ns/" + strings.Repeat("a", 300)} {
		if err := g.Update(ctx, bad, set("x")); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}
