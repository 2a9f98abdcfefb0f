package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/server"
)

// gateFlags choose where `augur serve` keeps its manual gates.
type gateFlags struct {
	// Store is auto (the cluster when one is configured, else memory),
	// memory or cluster.
	Store string
	// ConfigMap is the cluster store's ConfigMap, [namespace/]name.
	ConfigMap string
}

func (g *gateFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&g.Store, "gate-store", "auto",
		"where /flagger/v1/gate approvals live: memory (this process; lost on restart, not shared by replicas), "+
			"cluster (a ConfigMap: shared by replicas, kept across restarts) or auto (cluster with --cluster/--kubeconfig, else memory)")
	cmd.Flags().StringVar(&g.ConfigMap, "gate-configmap", kube.DefaultGatesConfigMap,
		"the cluster gate store's ConfigMap, [namespace/]name (namespace default: augur's own, the pod's or the kubeconfig's)")
}

// clusterGates adapts kube's ConfigMap store to server.GateKV.
type clusterGates struct{ *kube.ConfigMapGates }

func (c clusterGates) Describe() server.GateStoreInfo {
	return server.GateStoreInfo{Kind: "cluster", Location: c.String(), Shared: true, Durable: true}
}

// store returns the gate store the flags ask for; nil means the server's
// in-memory default. cluster is nil without a cluster configuration.
func (g *gateFlags) store(cluster *kube.Source) (server.GateKV, error) {
	switch g.Store {
	case "memory":
		return nil, nil
	case "auto":
		if cluster == nil {
			return nil, nil
		}
	case "cluster":
		if cluster == nil {
			return nil, errors.New("--gate-store cluster needs a cluster: give --cluster, --kubeconfig or --kube-context")
		}
	default:
		return nil, fmt.Errorf("--gate-store %q: want auto, memory or cluster", g.Store)
	}
	ns, name, ok := strings.Cut(g.ConfigMap, "/")
	if !ok {
		ns, name = "", g.ConfigMap
	}
	if name == "" || strings.Contains(name, "/") || (ok && ns == "") {
		return nil, fmt.Errorf("--gate-configmap %q: want [namespace/]name", g.ConfigMap)
	}
	return clusterGates{cluster.Gates(ns, name)}, nil
}
