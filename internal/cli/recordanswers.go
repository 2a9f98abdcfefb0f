package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/kube/clustermetrics"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/answers"
	"github.com/augurproj/augur/metrics/vendors"
)

// recordingRegistry is reg with every provider but prometheus recording its
// answers in rec; a query for "now" is recorded at now.
func recordingRegistry(reg *metrics.Registry, rec *answers.Recorder, now time.Time) *metrics.Registry {
	out := &metrics.Registry{}
	for _, typ := range reg.Types() {
		out.Register(typ, func(cfg metrics.Config) (metrics.Provider, error) {
			p, err := reg.New(cfg)
			if err != nil {
				// reg.New wrapped it as "<type> provider: …", as out.New will.
				if inner := errors.Unwrap(err); inner != nil {
					return nil, inner
				}
				return nil, err
			}
			if typ == engine.PrometheusType {
				return p, nil
			}
			return rec.WrapAt(cfg, p, now), nil
		})
	}
	return out
}

// writeAnswers writes the recording to path (replacing it: rec holds what
// the file held before).
func writeAnswers(path string, rec *answers.Recorder) error {
	var buf bytes.Buffer
	if err := rec.Write(&buf); err != nil {
		return err
	}
	if buf.Len() > answers.MaxFile {
		return fmt.Errorf("--answers-out %s: the recording would exceed %d bytes", path, answers.MaxFile)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--answers-out: %w", err)
	}
	return nil
}

// maxAnswers bounds the queries one `augur record --answers-out` sends.
const maxAnswers = 100000

// recordAnswers queries every plan's provider at each step from start to end
// and writes what it answered (values and errors alike) to --answers-out.
func (opts *RecordOptions) recordAnswers(ctx context.Context, c analysis.Canary, plans []engine.MetricPlan, start, end time.Time) error {
	step := opts.AnswersStep
	if step <= 0 {
		step = c.GetAnalysis().IntervalDuration()
	}
	if step <= 0 {
		return errors.New("--answers-step must be positive")
	}
	n := int64(end.Sub(start)/step) + 1
	if n*int64(len(plans)) > maxAnswers {
		return fmt.Errorf("--answers-out: %d metrics × %d times from %s to %s every %s is more than %d queries: shorten the window or raise --answers-step",
			len(plans), n, formatTime(start), formatTime(end), step, maxAnswers)
	}
	reg := &metrics.Registry{}
	vendors.Register(reg)
	clustermetrics.RegisterOffline(reg, "augur record asks for past times, and the cluster holds current values only")
	rec := answers.NewRecorder(step)
	for _, p := range plans {
		cfg := p.Provider
		if cfg.Timeout <= 0 {
			cfg.Timeout = opts.QueryTimeout
		}
		prov, err := reg.New(cfg)
		if err != nil {
			return fmt.Errorf("metric %s: %w", p.Name, err)
		}
		for at := start; !at.After(end); at = at.Add(step) {
			if err := ctx.Err(); err != nil {
				return err
			}
			qctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			v, qerr := prov.Query(qctx, p.Query, at)
			cancel()
			rec.Add(p.Provider, p.Query, at, v, qerr)
		}
	}
	var buf bytes.Buffer
	if err := rec.Write(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(opts.AnswersOut, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--answers-out: %w", err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "augur record: %d answers of %d metrics, %s to %s every %s, written to %s\n",
		rec.Len(), len(plans), formatTime(start), formatTime(end), step, opts.AnswersOut)
	return nil
}
