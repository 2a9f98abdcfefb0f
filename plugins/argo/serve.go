package argo

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/hashicorp/go-plugin"

	"github.com/augurproj/augur/plugins/internal/pluginlog"
)

// Argo Rollouts' metric-provider handshake and plugin map key (Argo's host
// keeps its copy unexported; these are the same values).
const (
	// ProtocolVersion is Argo's metric plugin protocol version.
	ProtocolVersion = 1
	// MagicCookieKey is the environment variable Argo sets for its plugins.
	MagicCookieKey = "ARGO_ROLLOUTS_RPC_PLUGIN"
	// MagicCookieValue is MagicCookieKey's value for metric providers.
	MagicCookieValue = "metricprovider"
	// PluginMapKey is the name Argo dispenses the metric provider by.
	PluginMapKey = "RpcMetricProviderPlugin"
)

// Handshake is Argo Rollouts' metric-provider handshake.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   MagicCookieKey,
	MagicCookieValue: MagicCookieValue,
}

// ErrNotArgo is returned by Serve when the process was not started by Argo
// Rollouts (its handshake cookie is missing from the environment).
var ErrNotArgo = errors.New("not started by Argo Rollouts")

// StartedByArgo reports whether Argo Rollouts' metric-provider cookie is in
// the environment given by getenv.
func StartedByArgo(getenv func(string) string) bool {
	return getenv(MagicCookieKey) == MagicCookieValue
}

// ServeOptions configure Serve.
type ServeOptions struct {
	// Provider answers Argo's calls. Required.
	Provider *Provider
	// Logger receives go-plugin's messages (nil: discard); it must write to
	// standard error, since standard output carries the handshake.
	Logger *slog.Logger
}

// Serve serves opts.Provider over Argo Rollouts' plugin protocol (net/rpc)
// until Argo stops the process. It returns ErrNotArgo, without serving, when
// Argo's cookie is not in the environment.
func Serve(opts ServeOptions) error {
	if !StartedByArgo(os.Getenv) {
		return fmt.Errorf("%w: %s=%s is not set; Argo Rollouts starts this plugin itself (see docs/argo.md)",
			ErrNotArgo, MagicCookieKey, MagicCookieValue)
	}
	cfg, err := serveConfig(opts)
	if err != nil {
		return err
	}
	plugin.Serve(cfg)
	return nil
}

func serveConfig(opts ServeOptions) (*plugin.ServeConfig, error) {
	if opts.Provider == nil {
		return nil, errors.New("argo plugin: ServeOptions.Provider is required")
	}
	return &plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         map[string]plugin.Plugin{PluginMapKey: &rpc.RpcMetricProviderPlugin{Impl: opts.Provider}},
		Logger:          pluginlog.HCLog(opts.Logger),
	}, nil
}
