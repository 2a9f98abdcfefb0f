package kube

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultNamespace is the namespace of names given without one when the
// configuration names none, as kubectl does.
const DefaultNamespace = "default"

// UserAgent is the User-Agent augur sends to the API server.
const UserAgent = "augur"

// Client rate limits: Flagger's defaults are 100 queries per second with a
// burst of 250; augur reads a few objects per tick and stays well below.
const (
	clientQPS   = 50
	clientBurst = 100
)

// inClusterNamespaceFile holds the pod's namespace in a service account mount.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// ErrNoConfig is returned by New when no cluster configuration is found:
// no kubeconfig given, KUBECONFIG unset, not running in a cluster and no
// $HOME/.kube/config.
var ErrNoConfig = errors.New("no cluster configuration: no kubeconfig given, KUBECONFIG unset, not running in a cluster and no ~/.kube/config")

// Options selects the cluster a Source reads.
type Options struct {
	// Kubeconfig is the path of a kubeconfig file. Empty means the files in
	// the KUBECONFIG environment variable, then the in-cluster service
	// account, then $HOME/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context to use (default: its current-context).
	// It needs a kubeconfig: it is an error with the in-cluster configuration.
	Context string
}

// clusterConfig is a resolved connection: the REST config, the namespace
// for names given without one, and where both came from.
type clusterConfig struct {
	rest      *rest.Config
	namespace string
	origin    string
}

// loadConfig resolves opts into a REST config. getenv and the in-cluster
// loader are parameters so tests can run outside and "inside" a cluster.
func loadConfig(opts Options, getenv func(string) string, inCluster func() (*rest.Config, error), nsFile string) (*clusterConfig, error) {
	if opts.Kubeconfig != "" {
		return fromKubeconfig(&clientcmd.ClientConfigLoadingRules{ExplicitPath: opts.Kubeconfig},
			opts.Context, "kubeconfig "+opts.Kubeconfig)
	}
	if env := getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		paths := filepath.SplitList(env)
		return fromKubeconfig(&clientcmd.ClientConfigLoadingRules{Precedence: paths},
			opts.Context, "KUBECONFIG "+env)
	}
	cfg, err := inCluster()
	switch {
	case err == nil:
		if opts.Context != "" {
			return nil, fmt.Errorf("context %q: a context needs a kubeconfig, and the in-cluster configuration has none", opts.Context)
		}
		ns := DefaultNamespace
		if b, err := os.ReadFile(nsFile); err == nil && strings.TrimSpace(string(b)) != "" {
			ns = strings.TrimSpace(string(b))
		}
		return &clusterConfig{rest: cfg, namespace: ns, origin: "in-cluster service account"}, nil
	case !errors.Is(err, rest.ErrNotInCluster):
		return nil, fmt.Errorf("in-cluster configuration: %w", err)
	}
	if home := getenv("HOME"); home != "" {
		p := filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)
		if _, err := os.Stat(p); err == nil {
			return fromKubeconfig(&clientcmd.ClientConfigLoadingRules{ExplicitPath: p}, opts.Context, "kubeconfig "+p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("kubeconfig %s: %w", p, err)
		}
	}
	return nil, ErrNoConfig
}

func fromKubeconfig(rules *clientcmd.ClientConfigLoadingRules, context, origin string) (*clusterConfig, error) {
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	if context != "" {
		if _, ok := raw.Contexts[context]; !ok {
			return nil, fmt.Errorf("%s: no context %q", origin, context)
		}
	}
	cc := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("%s: namespace: %w", origin, err)
	}
	if ns == "" {
		ns = DefaultNamespace
	}
	return &clusterConfig{rest: cfg, namespace: ns, origin: origin}, nil
}
