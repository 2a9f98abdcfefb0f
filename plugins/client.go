package plugins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/plugins/internal/pluginlog"
	"github.com/augurproj/augur/service"
)

// DefaultStartTimeout bounds how long Start waits for the plugin's handshake
// when the context has no earlier deadline.
const DefaultStartTimeout = time.Minute

// ClientOptions say which binary to launch and how.
type ClientOptions struct {
	// Path is the augur binary. Required.
	Path string
	// Args are flags of `augur plugin` (for example "--data", "file.om" or
	// "--prometheus", URL); Start runs `Path plugin Args...`.
	Args []string
	// Env adds variables (KEY=value) to the plugin's environment, which is
	// otherwise the host's; they win over the host's.
	Env []string
	// Logger receives go-plugin's messages and the plugin's own log lines
	// (nil: discard).
	Logger *slog.Logger
	// Stderr, when set, also receives the plugin's standard error verbatim.
	Stderr io.Writer
}

// Client is a running augur plugin process. Its methods are safe for
// concurrent use.
type Client struct {
	pc *plugin.Client
	an Analyzer
}

// Start launches `opts.Path plugin opts.Args...`, performs the handshake and
// returns a client for it. ctx bounds the start-up only (its deadline, or
// DefaultStartTimeout); the process runs until Close.
func Start(ctx context.Context, opts ClientOptions) (*Client, error) {
	if opts.Path == "" {
		return nil, errors.New("augur plugin: ClientOptions.Path is required")
	}
	cmd := exec.Command(opts.Path, append([]string{"plugin"}, opts.Args...)...)
	cmd.Env = append(os.Environ(), opts.Env...)
	return start(ctx, &plugin.ClientConfig{Cmd: cmd, SkipHostEnv: true}, opts)
}

// start completes cfg with augur's handshake and options and dispenses the
// analyzer; tests use it with cfg.Reattach instead of cfg.Cmd.
func start(ctx context.Context, cfg *plugin.ClientConfig, opts ClientOptions) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("augur plugin %s: %w", opts.Path, err)
	}
	cfg.HandshakeConfig = Handshake
	cfg.Plugins = PluginMap
	cfg.AllowedProtocols = []plugin.Protocol{plugin.ProtocolGRPC}
	cfg.Logger = pluginlog.HCLog(opts.Logger)
	cfg.Stderr = opts.Stderr
	cfg.StartTimeout = DefaultStartTimeout
	if dl, ok := ctx.Deadline(); ok {
		cfg.StartTimeout = max(time.Until(dl), time.Millisecond)
	}
	pc := plugin.NewClient(cfg)
	an, err := dispense(pc)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("augur plugin %s: %w", opts.Path, err)
	}
	return &Client{pc: pc, an: an}, nil
}

func dispense(pc *plugin.Client) (Analyzer, error) {
	proto, err := pc.Client()
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	raw, err := proto.Dispense(PluginName)
	if err != nil {
		return nil, fmt.Errorf("dispense %s: %w", PluginName, err)
	}
	an, ok := raw.(Analyzer)
	if !ok {
		return nil, fmt.Errorf("dispense %s: got %T, want an Analyzer", PluginName, raw)
	}
	return an, nil
}

// Decide runs one analysis tick in the plugin process.
func (c *Client) Decide(ctx context.Context, req service.DecideRequest) (analysis.Decision, error) {
	if c.pc.Exited() {
		return analysis.Decision{}, fmt.Errorf("augur plugin Decide: %w: the process exited", ErrUnavailable)
	}
	return c.an.Decide(ctx, req)
}

// Query runs metrics in the plugin process.
func (c *Client) Query(ctx context.Context, req service.QueryRequest) (service.QueryResponse, error) {
	if c.pc.Exited() {
		return service.QueryResponse{}, fmt.Errorf("augur plugin Query: %w: the process exited", ErrUnavailable)
	}
	return c.an.Query(ctx, req)
}

// Exited reports whether the plugin process has exited.
func (c *Client) Exited() bool { return c.pc.Exited() }

// Close stops the plugin process (gracefully, then by force) and waits for it.
func (c *Client) Close() error {
	c.pc.Kill()
	return nil
}
