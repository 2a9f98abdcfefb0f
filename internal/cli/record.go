package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/internal/testfile"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
)

// DefaultRecordTimeout bounds one request of `augur record` (raw-sample
// requests cover up to an hour of every series a selector matches).
const DefaultRecordTimeout = 30 * time.Second

// RecordOptions are `augur record`'s inputs.
type RecordOptions struct {
	// IO are the command's streams.
	IO *IOStreams
	// Files are -f and --canary: the Canary and its MetricTemplates.
	Files fileFlags
	// Engine are --mesh-provider and --metrics-server.
	Engine engineFlags
	// Prometheus is the live server to record from.
	Prometheus string
	// Data is recorded data to cut the window out of instead.
	Data string
	// Start and End bound the evaluation times to serve (--start, --end).
	Start, End string
	// Step, when positive, resamples with range queries (--step).
	Step time.Duration
	// LookbackDelta is the server's lookback delta (--lookback-delta).
	LookbackDelta time.Duration
	// QueryTimeout bounds each request (--query-timeout).
	QueryTimeout time.Duration
	// Out is the file to write, "-" for standard output (--out).
	Out string
	// Now is the clock (the default --end); tests replace it.
	Now func() time.Time
	// AnswersOut is the file for the answers of the other providers (--answers-out).
	AnswersOut string
	// AnswersStep is the time between two recorded answers (--answers-step).
	AnswersStep time.Duration
}

// NewCmdRecord builds `augur record`.
func NewCmdRecord(ios *IOStreams, runF func(*cobra.Command, *RecordOptions) error) *cobra.Command {
	opts := &RecordOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "record -f FILE... (--prometheus URL | --data FILE) --start TIME [--end TIME] [--out FILE]",
		Short: "Capture the data a Canary's metrics read from a live Prometheus into an OpenMetrics file",
		Long: `Render every metric of the Canary, find the series selectors each query reads, and fetch
their raw samples from a live Prometheus: everything an evaluation at any time from --start
to --end can touch (each selector's range, offset and the 5m lookback included), and each
series' next scrape after --end (recorded data covers evaluations up to its last sample, so
the recording covers one at --end). The result
is OpenMetrics text with timestamps that augur replay --data, augur query --data and
augur test (input_file) read back: a replay of the window from the file decides as a replay
against the live server does.

--data records from recorded data instead: it cuts the window a Canary needs out of a larger
recording. --step resamples each selector with a range query at that resolution instead of
exporting raw samples (for servers that refuse long range selectors); rate() over resampled
data only approximates the original.

Exit codes: 0 recorded, 2 bad input (files, flags) or a failed request.`,
		Example: `  augur record -f testdata/podinfo/ --prometheus http://127.0.0.1:9090 \
      --start 2026-11-01T10:00:00Z --end 2026-11-01T10:30:00Z --out window.om
  augur replay -f testdata/podinfo/ --data window.om --start 2026-11-01T10:01:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return recordRun(cmd, opts)
		},
	}
	opts.Files.register(cmd)
	opts.Engine.registerMesh(cmd)
	cmd.Flags().StringVar(&opts.Prometheus, "prometheus", "", "live Prometheus URL to record from")
	cmd.Flags().StringVar(&opts.Data, "data", "", "recorded data (OpenMetrics) to cut the window out of, instead of a live Prometheus")
	cmd.Flags().StringVar(&opts.Start, "start", "", "first evaluation time the recording must serve: RFC 3339, Unix seconds or -DUR before --end (required)")
	cmd.Flags().StringVar(&opts.End, "end", "", "last evaluation time: RFC 3339 or Unix seconds (default: now)")
	cmd.Flags().DurationVar(&opts.Step, "step", 0, "resample each selector with a range query at this step instead of exporting raw samples")
	cmd.Flags().DurationVar(&opts.LookbackDelta, "lookback-delta", testfile.DefaultLookbackDelta, "the server's --query.lookback-delta (how far back instant selectors look)")
	cmd.Flags().DurationVar(&opts.QueryTimeout, "query-timeout", DefaultRecordTimeout, "timeout of each request")
	cmd.Flags().StringVar(&opts.Out, "out", "-", "file to write the OpenMetrics text to; - is standard output")
	cmd.Flags().StringVar(&opts.AnswersOut, "answers-out", "",
		"also record the answers of the metrics whose provider is not prometheus (datadog, newrelic, …): each query at every --answers-step from --start to --end, as JSON that --answers replays")
	cmd.Flags().DurationVar(&opts.AnswersStep, "answers-step", 0, "time between two recorded answers (default: the Canary's analysis interval)")
	return cmd
}

func recordRun(cmd *cobra.Command, opts *RecordOptions) error {
	if opts.Prometheus != "" && opts.Data != "" {
		return badInput(errors.New("give exactly one source: --prometheus URL (a live server) or --data FILE (recorded data)"))
	}
	if opts.Start == "" {
		return badInput(errors.New("--start is required"))
	}
	end, err := parseTime("end", opts.End, time.Time{}, time.Time{})
	if err != nil {
		return badInput(err)
	}
	if end.IsZero() {
		end = opts.Now().UTC().Truncate(time.Millisecond)
	}
	start, err := parseTime("start", opts.Start, end, end)
	if err != nil {
		return badInput(err)
	}
	if !start.Before(end) {
		return badInput(fmt.Errorf("--start %s is not before --end %s", formatTime(start), formatTime(end)))
	}
	if opts.Step < 0 {
		return badInput(fmt.Errorf("--step %s must not be negative", opts.Step))
	}
	set, err := opts.Files.load(opts.IO)
	if err != nil {
		return badInput(err)
	}
	c, err := opts.Files.one(set)
	if err != nil {
		return badInput(err)
	}
	eng, err := opts.Engine.newEngine(&metrics.Registry{}, set, nil, fileSecrets(set))
	if err != nil {
		return badInput(err)
	}
	plans, err := eng.Plan(cmd.Context(), &c)
	if err != nil {
		return err
	}
	if err := missingTemplates(&c, plans); err != nil {
		return badInput(err)
	}
	var queries, broken []string
	var others []engine.MetricPlan
	var judgeWindow time.Duration
	for _, p := range plans {
		switch {
		case p.Err != nil:
			broken = append(broken, fmt.Sprintf("%s: %s", p.Name, p.Err.Message))
		case p.Provider.Type != engine.PrometheusType && opts.AnswersOut != "":
			others = append(others, p)
		case p.Provider.Type != engine.PrometheusType:
			fmt.Fprintf(opts.IO.ErrOut, "augur record: skipping metric %s: provider type %q is not prometheus (record its answers with --answers-out FILE)\n", p.Name, p.Provider.Type)
		default:
			named, err := metricQueries(p, opts.Step)
			if err != nil {
				return badInput(err)
			}
			queries = append(queries, named...)
			if p.Judge != nil && p.Judge.Window != "" {
				if d, err := time.ParseDuration(p.Judge.Window); err == nil && d > judgeWindow {
					judgeWindow = d
				}
			}
		}
	}
	if len(broken) > 0 {
		return badInput(fmt.Errorf("these metrics cannot be rendered, so their series are unknown:\n  %s", strings.Join(broken, "\n  ")))
	}
	if len(others) > 0 {
		if err := opts.recordAnswers(cmd.Context(), c, others, start, end); err != nil {
			return badInput(err)
		}
		if len(queries) == 0 {
			return nil
		}
	}
	// A judged metric reads its window back from each tick: the recording
	// starts that much earlier.
	start = start.Add(-judgeWindow)
	if opts.Prometheus == "" && opts.Data == "" {
		return badInput(errors.New("give exactly one source for the prometheus metrics: --prometheus URL (a live server) or --data FILE (recorded data)"))
	}
	if len(queries) == 0 {
		return badInput(fmt.Errorf("the Canary %s/%s has no prometheus metric to record", c.Metadata.Namespace, c.Metadata.Name))
	}
	src, err := opts.connect()
	if err != nil {
		return badInput(err)
	}
	rec, err := testfile.Record(cmd.Context(), src, queries, testfile.RecordOptions{
		Start: start, End: end, Step: opts.Step, LookbackDelta: opts.LookbackDelta,
		// Each series' next scrape after --end, so the recording covers
		// an evaluation at --end (recorded data covers up to its last
		// sample); 5m bounds the extra fetch.
		Beyond: recordBeyond,
	})
	if err != nil {
		return badInput(err)
	}
	if len(rec.Series) == 0 {
		return badInput(fmt.Errorf("no samples between %s and %s for the %d queries of Canary %s/%s: check --start, --end and the source (nothing written)",
			formatTime(start), formatTime(end), len(queries), c.Metadata.Namespace, c.Metadata.Name))
	}
	var buf bytes.Buffer
	if err := recorded.WriteOpenMetrics(&buf, rec.Series); err != nil {
		return badInput(err)
	}
	if err := writeOutput(opts.IO.Out, opts.Out, buf.Bytes()); err != nil {
		return badInput(err)
	}
	from, through := start, end
	for _, s := range rec.Selectors {
		if s.From.Before(from) {
			from = s.From
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "augur record: %d series, %d samples from %d queries (%d selectors), %s to %s, written to %s\n",
		len(rec.Series), rec.Samples(), len(queries), len(rec.Selectors),
		from.UTC().Format(time.RFC3339Nano), through.UTC().Format(time.RFC3339Nano), describeOut(opts.Out))
	return nil
}

// recordBeyond is how far past --end record looks for each series' next
// scrape (testfile.RecordOptions.Beyond).
const recordBeyond = 5 * time.Minute

// metricQueries are the queries whose series a metric's evaluation reads:
// its own query and, for a judged metric, every data query of both sides
// (the primary's included). With a resampling step, a query whose range
// window would hold fewer than two samples is refused, naming the metric.
func metricQueries(p engine.MetricPlan, step time.Duration) ([]string, error) {
	qs := []string{p.Query}
	if p.Judge != nil {
		if !p.Judge.Threshold {
			qs = nil // the threshold query does not run
		}
		for _, q := range p.Judge.Queries {
			qs = append(qs, q.Query)
		}
	}
	if step > 0 {
		for _, q := range qs {
			r, err := testfile.ShortestRange(q)
			if err != nil {
				return nil, fmt.Errorf("metric %s: %w", p.Name, err)
			}
			if r > 0 && 2*step > r {
				return nil, fmt.Errorf("--step %s would empty metric %s: its query reads a %s window, which needs two samples (use --step %s or less, or record raw samples without --step)",
					step, p.Name, r, r/2)
			}
		}
	}
	return qs, nil
}

// connect opens the source to record from.
func (opts *RecordOptions) connect() (testfile.Source, error) {
	if opts.Data != "" {
		store, err := recorded.LoadFile(opts.Data)
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		return testfile.NewStoreSource(store), nil
	}
	p, err := prometheus.New(metrics.Config{Type: prometheus.Type, Address: opts.Prometheus, Timeout: opts.QueryTimeout})
	if err != nil {
		return nil, fmt.Errorf("--prometheus: %w", err)
	}
	return p, nil
}

// writeOutput writes b to path, or to w for "-"; a file is replaced only
// once everything was fetched.
func writeOutput(w io.Writer, path string, b []byte) error {
	if path == "-" || path == "" {
		_, err := w.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

func describeOut(path string) string {
	if path == "-" || path == "" {
		return "standard output"
	}
	return path
}
