package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/internal/testfile"
	"github.com/augurproj/augur/report"
)

// registerReport adds --report FILE.html to a command.
func registerReport(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "report", "", "also write a self-contained HTML report to this file (charts, timeline, every check)")
}

// reportNow is the report's "written at" clock; tests set it to zero time.
var reportNow = func() time.Time { return time.Now().UTC() }

// writeReportFile writes a page next to its destination and renames it into
// place, so a reader never sees half a report.
func writeReportFile(path string, render func(*bytes.Buffer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".augur-report-*")
	if err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("--report %s: %w", path, werr)
	}
	return nil
}

func replayReport(c analysis.Canary, src *dataSource, before analysis.CanaryStatus, res engine.ReplayResult) *report.Replay {
	r := &report.Replay{
		Kind: report.KindReplay, Namespace: c.Metadata.Namespace, Name: c.Metadata.Name, Source: src.desc,
		DataStart: src.start, DataEnd: src.end, Before: before, Result: res.Result, Finished: res.Finished, Generated: reportNow(),
	}
	for _, t := range res.Ticks {
		r.Ticks = append(r.Ticks, report.FromDecision(t.Time, t.Decision))
	}
	return r
}

func decisionReport(c analysis.Canary, src *dataSource, before analysis.CanaryStatus, at time.Time, d analysis.Decision) *report.Replay {
	return &report.Replay{
		Kind: report.KindAnalyze, Namespace: c.Metadata.Namespace, Name: c.Metadata.Name, Source: src.desc,
		DataStart: src.start, DataEnd: src.end, Before: before, Result: d.Status.Phase,
		Finished: d.Status.Phase == analysis.PhaseSucceeded || d.Status.Phase == analysis.PhaseFailed,
		Ticks:    []report.Tick{report.FromDecision(at, d)}, Generated: reportNow(),
	}
}

// writeTestReport renders a test run from its JSON form (`augur test -o json`).
func writeTestReport(path string, rep *testfile.Report) error {
	return writeReportFile(path, func(buf *bytes.Buffer) error {
		var js bytes.Buffer
		if err := testfile.WriteJSON(&js, rep); err != nil {
			return err
		}
		var run report.TestRun
		if err := json.Unmarshal(js.Bytes(), &run); err != nil {
			return fmt.Errorf("reading the test run: %w", err)
		}
		run.Generated = reportNow()
		return report.WriteTest(buf, &run)
	})
}
