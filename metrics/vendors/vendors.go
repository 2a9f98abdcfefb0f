// Package vendors registers the metrics providers of Flagger's
// MetricTemplate types other than prometheus that augur speaks (cloudwatch, datadog,
// newrelic, dynatrace, graphite, influxdb, splunk, stackdriver), for live runs, and stand-ins that refuse
// them clearly in offline runs.
//
// It imports only package metrics and the vendor provider packages; it must
// not import the engine, the analysis core or a transport.
package vendors

import (
	"fmt"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/cloudwatch"
	"github.com/augurproj/augur/metrics/datadog"
	"github.com/augurproj/augur/metrics/dynatrace"
	"github.com/augurproj/augur/metrics/graphite"
	"github.com/augurproj/augur/metrics/influxdb"
	"github.com/augurproj/augur/metrics/newrelic"
	"github.com/augurproj/augur/metrics/splunk"
	"github.com/augurproj/augur/metrics/stackdriver"
)

// Types lists the vendor provider types this package registers.
var Types = []string{cloudwatch.Type, datadog.Type, dynatrace.Type, graphite.Type, influxdb.Type, newrelic.Type, splunk.Type, stackdriver.Type}

// Register adds every vendor provider to r.
func Register(r *metrics.Registry) {
	cloudwatch.Register(r)
	datadog.Register(r)
	dynatrace.Register(r)
	graphite.Register(r)
	influxdb.Register(r)
	newrelic.Register(r)
	splunk.Register(r)
	stackdriver.Register(r)
}

// RegisterOffline adds, for every vendor type, a constructor that fails
// with why (for example "recorded data holds Prometheus series only"), so a
// run that must not reach the network names the template's provider instead
// of calling it.
func RegisterOffline(r *metrics.Registry, why string) {
	for _, t := range Types {
		r.Register(t, func(metrics.Config) (metrics.Provider, error) {
			return nil, fmt.Errorf("%s", why)
		})
	}
}
