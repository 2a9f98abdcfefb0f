package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/kube/clustermetrics"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/vendors"
	"github.com/augurproj/augur/redact"
)

// RenderOptions are `augur render`'s inputs.
type RenderOptions struct {
	IO     *IOStreams
	Files  fileFlags
	Engine engineFlags
	Judge  judgeFlags
	Output string
}

// NewCmdRender builds `augur render`. runF replaces the run function in tests.
func NewCmdRender(ios *IOStreams, runF func(*cobra.Command, *RenderOptions) error) *cobra.Command {
	opts := &RenderOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "render -f FILE...",
		Short: "Print each metric's rendered query, provider and threshold range",
		Long: `Render every metric of every Canary in the files exactly as it would be sent: builtin
metrics with Flagger's query for the selected mesh, inline queries and MetricTemplates with
their variables. Queries are whitespace-collapsed as Flagger sends them.`,
		Example: `  augur render -f testdata/podinfo/
  augur render -f canary.yaml -f templates.yaml --mesh-provider linkerd -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return renderRun(cmd, opts)
		},
	}
	opts.Files.register(cmd)
	opts.Engine.registerMesh(cmd)
	opts.Judge.register(cmd)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text, json or yaml")
	return cmd
}

type renderedMetric struct {
	Name           string                  `json:"name"`
	Query          string                  `json:"query"`
	Provider       renderedProvider        `json:"provider"`
	ThresholdRange analysis.ThresholdRange `json:"thresholdRange"`
	Interval       string                  `json:"interval"`
	Kind           analysis.MetricKind     `json:"kind"`
	Observer       string                  `json:"observer,omitempty"`
	Template       string                  `json:"template,omitempty"`
	Error          string                  `json:"error,omitempty"`
	Judge          *engine.JudgePlan       `json:"judge,omitempty"`
	// Request is what a vendor provider sends (no credentials).
	Request *metrics.Request `json:"request,omitempty"`
}

type renderedProvider struct {
	Type    string `json:"type"`
	Address string `json:"address"`
	// Region is the template's provider.region (cloudwatch), if any.
	Region string `json:"region,omitempty"`
	// Endpoint is where the described request goes (scheme and host):
	// the address, or the provider's default when the template has none
	// (cloudwatch: the region's endpoint or AWS_ENDPOINT_URL_CLOUDWATCH).
	Endpoint string `json:"endpoint,omitempty"`
}

// endpointOf is the scheme and host of a described request's URL ("" for
// a path on the cluster's API server).
func endpointOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// line is the provider line of render's text output: the type, then the
// address, or the endpoint when the template has no address.
func (p renderedProvider) line() string {
	s := p.Type
	switch {
	case p.Address != "":
		s += " " + p.Address
	case p.Endpoint != "":
		s += " " + p.Endpoint + " (default endpoint)"
	}
	if p.Region != "" {
		s += ", region " + p.Region
	}
	return s
}

type renderedCanary struct {
	Name      string           `json:"name"`
	Namespace string           `json:"namespace"`
	Metrics   []renderedMetric `json:"metrics"`
}

// effectiveRange is the range a check compares against: thresholdRange, or
// the deprecated threshold turned into its per-kind bound.
func effectiveRange(kind analysis.MetricKind, m analysis.Metric) analysis.ThresholdRange {
	if m.ThresholdRange != nil {
		return *m.ThresholdRange
	}
	t := m.Threshold
	if kind == analysis.KindSuccessRate {
		return analysis.ThresholdRange{Min: &t}
	}
	return analysis.ThresholdRange{Max: &t}
}

func renderRun(cmd *cobra.Command, opts *RenderOptions) error {
	if err := checkOutput(opts.Output); err != nil {
		return badInput(err)
	}
	set, err := opts.Files.load(opts.IO)
	if err != nil {
		return badInput(err)
	}
	canaries, err := opts.Files.pick(set)
	if err != nil {
		return badInput(err)
	}
	eng, err := opts.Engine.newEngine(&metrics.Registry{}, set, nil, fileSecrets(set))
	if err != nil {
		return badInput(err)
	}
	supported := &metrics.Registry{}
	prometheus.Register(supported)
	vendors.Register(supported)
	clustermetrics.RegisterDescribers(supported)
	var out []renderedCanary
	failed := false
	for i := range canaries {
		c := &canaries[i]
		plans, err := opts.Judge.plan(cmd.Context(), eng, c)
		if err != nil {
			return err
		}
		rc := renderedCanary{Name: c.Metadata.Name, Namespace: c.Metadata.Namespace, Metrics: []renderedMetric{}}
		for _, p := range plans {
			rm := renderedMetric{
				Name: p.Name, Query: p.Query, Interval: p.Interval, Kind: p.Kind, Observer: p.Observer, Template: p.Template,
				Provider:       renderedProvider{Type: p.Provider.Type, Address: p.Provider.Address, Region: p.Provider.Region},
				ThresholdRange: effectiveRange(p.Kind, p.Metric),
				Judge:          p.Judge,
			}
			if p.Err != nil {
				rm.Error = p.Err.Message
				failed = true
			} else if err := checkPlans([]engine.MetricPlan{p}, supported.Types()); err != nil {
				rm.Error = fmt.Sprintf("provider type %q is not supported (augur queries: %s)", p.Provider.Type, strings.Join(supported.Types(), ", "))
				failed = true
			} else if p.Provider.Type != engine.PrometheusType {
				req, err := describeRequest(supported, p.Provider, p.Query)
				if err != nil {
					rm.Error = err.Error()
					failed = true
				}
				rm.Request = req
				if req != nil {
					rm.Provider.Endpoint = endpointOf(req.URL)
				}
			}
			rc.Metrics = append(rc.Metrics, rm)
		}
		out = append(out, rc)
	}
	if opts.Output != "text" {
		if err := writeStructured(opts.IO.Out, opts.Output, map[string]any{"canaries": out}); err != nil {
			return err
		}
	} else {
		writeRenderText(opts, out)
	}
	if failed {
		return &ExitError{Code: ExitBadInput, Err: fmt.Errorf("some metrics could not be rendered")}
	}
	return nil
}

func writeRenderText(opts *RenderOptions, out []renderedCanary) {
	w := opts.IO.Out
	for i, rc := range out {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Canary %s/%s\n", rc.Namespace, rc.Name)
		if len(rc.Metrics) == 0 {
			fmt.Fprintln(w, "  (no metrics)")
		}
		for _, m := range rc.Metrics {
			fmt.Fprintf(w, "\n  %s (%s)\n", m.Name, describeKind(m.Kind, m.Observer, m.Template))
			tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
			if m.Provider.Type != "" {
				fmt.Fprintf(tw, "    provider:\t%s\n", m.Provider.line())
			}
			fmt.Fprintf(tw, "    interval:\t%s\n", orDash(m.Interval))
			fmt.Fprintf(tw, "    range:\t%s\n", formatRange(m.ThresholdRange, m.Kind))
			if m.Error != "" {
				fmt.Fprintf(tw, "    error:\t%s\n", m.Error)
			} else {
				fmt.Fprintf(tw, "    query:\t%s\n", strings.TrimSpace(m.Query))
			}
			if r := m.Request; r != nil {
				fmt.Fprintf(tw, "    request:\t%s %s\n", r.Method, r.URL)
				if r.Body != "" {
					fmt.Fprintf(tw, "    body:\t%s\n", r.Body)
				}
				fmt.Fprintf(tw, "    window:\t%s\n", r.Window)
			}
			if j := m.Judge; j != nil {
				window := j.Window
				if j.Cumulative {
					window = "since the analysis start"
				}
				cfg := j.Config.WithDefaults()
				fmt.Fprintf(tw, "    judge:\t%s on %s, window %s, step %s, direction %s\n", cfg.Judge, j.Data, window, j.Step, cfg.Direction)
				if !j.Threshold {
					fmt.Fprintf(tw, "    threshold:\tnone: the judge alone decides, the query above does not run\n")
				}
				for _, q := range j.Queries {
					fmt.Fprintf(tw, "    %s %s:\t%s\n", q.Side, q.Role, q.Query)
				}
			}
			tw.Flush()
		}
	}
}

func describeKind(k analysis.MetricKind, observer, template string) string {
	switch k {
	case analysis.KindSuccessRate, analysis.KindDuration:
		return "builtin, " + observer + " queries"
	case analysis.KindQuery:
		return "inline query"
	default:
		if template == "" {
			return "template"
		}
		return "template " + template
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func checkOutput(o string) error {
	if o != "text" && o != "json" && o != "yaml" {
		return fmt.Errorf("--output %q: want text, json or yaml", o)
	}
	return nil
}

// engineFlags are the engine settings shared by the commands.
type engineFlags struct {
	MeshProvider  string
	MetricsServer string
}

func (e *engineFlags) registerMesh(cmd *cobra.Command) {
	cmd.Flags().StringVar(&e.MeshProvider, "mesh-provider", analysis.DefaultMeshProvider,
		"Flagger's global -mesh-provider (a Canary's spec.provider wins)")
	cmd.Flags().StringVar(&e.MetricsServer, "metrics-server", engine.DefaultMetricsServer,
		"Flagger's global -metrics-server for builtin and inline-query metrics (a Canary's spec.metricsServer wins)")
}

// describeRequest builds the vendor provider a plan names and describes its
// request, with every credential value of the Secret redacted (a New Relic
// account id is part of the URL, an InfluxDB org a parameter).
func describeRequest(reg *metrics.Registry, cfg metrics.Config, query string) (*metrics.Request, error) {
	prov, err := reg.New(cfg)
	if err != nil {
		return nil, errors.New(scrubCredentials(err.Error(), cfg.Credentials))
	}
	d, ok := prov.(metrics.Describer)
	if !ok {
		return nil, nil
	}
	r, err := d.Describe(query)
	if err != nil {
		return nil, errors.New(scrubCredentials(err.Error(), cfg.Credentials))
	}
	r.URL = scrubCredentials(r.URL, cfg.Credentials)
	r.Body = scrubCredentials(r.Body, cfg.Credentials)
	return &r, nil
}

// scrubCredentials replaces every credential value of creds, plain or
// URL-escaped, by the redaction mark (package redact's one mechanism).
func scrubCredentials(text string, creds map[string]string) string {
	s := redact.New(nil)
	for _, v := range creds {
		s.Add(v)
	}
	return s.String(text)
}
