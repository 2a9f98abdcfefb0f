// Package pluginlog bridges log/slog and hashicorp/go-hclog for augur's two
// plugin transports (plugins and plugins/argo): go-plugin logs through an
// hclog.Logger, augur logs through *slog.Logger.
//
// HCLog adapts a *slog.Logger to hclog.Logger (the host side and go-plugin's
// own messages); NewHandler writes slog records in hclog's JSON line format,
// which a go-plugin host parses from the plugin's standard error and re-logs
// with the right level.
//
// It imports only the standard library and go-hclog. It must not import
// go-plugin, argo-rollouts, cobra, client-go or any other augur package.
package pluginlog
