package plugins

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/hashicorp/go-plugin"

	"github.com/augurproj/augur/plugins/internal/pluginlog"
)

// ErrNotPluginHost is returned by Serve when the process was not started by
// a plugin host (the handshake cookie is missing from the environment).
var ErrNotPluginHost = errors.New("not started by an augur plugin host")

// ServeOptions configure Serve.
type ServeOptions struct {
	// Analyzer answers the calls, normally a *service.Service. Required.
	Analyzer Analyzer
	// Logger receives go-plugin's messages (nil: discard). Use a logger
	// writing to standard error (see NewLogHandler): standard output
	// carries the handshake.
	Logger *slog.Logger
}

// Serve serves opts.Analyzer over augur's plugin protocol until the host
// closes the plugin. It returns ErrNotPluginHost, without serving, when the
// handshake cookie is not in the environment.
func Serve(opts ServeOptions) error {
	if os.Getenv(MagicCookieKey) != MagicCookieValue {
		return fmt.Errorf("%w: %s=%s is not set; `augur plugin` is launched by a host program (see plugins.Start), not run by hand",
			ErrNotPluginHost, MagicCookieKey, MagicCookieValue)
	}
	cfg, err := serveConfig(opts)
	if err != nil {
		return err
	}
	plugin.Serve(cfg)
	return nil
}

func serveConfig(opts ServeOptions) (*plugin.ServeConfig, error) {
	if opts.Analyzer == nil {
		return nil, errors.New("augur plugin: ServeOptions.Analyzer is required")
	}
	return &plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         map[string]plugin.Plugin{PluginName: &AnalyzerPlugin{Impl: opts.Analyzer}},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          pluginlog.HCLog(opts.Logger),
	}, nil
}

// NewLogHandler returns a slog.Handler for a plugin process: JSON lines in
// hclog's format on w (standard error), which the host re-logs at their level.
func NewLogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return pluginlog.NewHandler(w, level)
}
