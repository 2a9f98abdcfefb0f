package argo

import (
	"os/exec"
	"testing"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// argoClient starts the binary as Argo's host does (go-plugin client, Argo's
// handshake and net/rpc stubs) and returns the dispensed provider.
func argoClient(tb testing.TB, args ...string) (rpc.MetricProviderPlugin, *goplugin.Client) {
	tb.Helper()
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: Handshake,
		Plugins:         map[string]goplugin.Plugin{PluginMapKey: &rpc.RpcMetricProviderPlugin{}},
		Cmd:             exec.Command(augurBinary(tb), args...),
		Logger:          hclog.NewNullLogger(),
	})
	proto, err := client.Client()
	if err != nil {
		client.Kill()
		tb.Fatal(err)
	}
	raw, err := proto.Dispense(PluginMapKey)
	if err != nil {
		client.Kill()
		tb.Fatal(err)
	}
	return raw.(rpc.MetricProviderPlugin), client
}

// BenchmarkRun measures one measurement (a query over recorded data, judged
// by a condition and a range) in-process and through a real plugin process
// over Argo's net/rpc protocol.
func BenchmarkRun(b *testing.B) {
	data := writeData(b)
	m := metric(b, "sr", obj{"data": data, "query": `success_ratio{app="podinfo"}`, "thresholdRange": obj{"min": 0.99}}, "result[0] >= 0.99", "")
	run := analysisRun("test")
	b.Run("in-process", func(b *testing.B) {
		p := newProvider(b)
		b.ReportAllocs()
		for b.Loop() {
			if got := p.Run(run, m); got.Phase != successful {
				b.Fatal(got.Message)
			}
		}
	})
	b.Run("plugin-subprocess", func(b *testing.B) {
		p, client := argoClient(b, "argo-plugin")
		defer client.Kill()
		b.ReportAllocs()
		for b.Loop() {
			if got := p.Run(run, m); got.Phase != successful {
				b.Fatal(got.Message)
			}
		}
	})
}

// BenchmarkStart measures starting the plugin as Argo does (fork/exec,
// handshake, net/rpc dial, InitPlugin) and killing it.
func BenchmarkStart(b *testing.B) {
	augurBinary(b)
	b.ReportAllocs()
	for b.Loop() {
		p, client := argoClient(b)
		if e := p.InitPlugin(); e.HasError() {
			b.Fatal(e)
		}
		client.Kill()
	}
}
