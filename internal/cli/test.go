package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/internal/testfile"
)

// TestOptions are `augur test`'s inputs.
type TestOptions struct {
	// IO are the command's streams.
	IO *IOStreams
	// Files are the test files and directories given as arguments.
	Files []string
	// Run is --run: a regular expression selecting cases by name.
	Run string
	// JUnit is --junit: where to write a JUnit XML report ("" for none).
	JUnit string
	// Output is -o: text or json.
	Output string
	// Report is --report: where to write an HTML report ("" for none).
	Report string
}

// NewCmdTest builds `augur test`.
func NewCmdTest(ios *IOStreams, runF func(*cobra.Command, *TestOptions) error) *cobra.Command {
	opts := &TestOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "test FILE...",
		Short: "Run metric-template unit tests (test files in the spirit of promtool test rules)",
		Long: `Run test files: input series in promtool's notation (or recorded OpenMetrics data), the
Canary and MetricTemplates under test, and per-case assertions on rendered queries, metric
values, threshold checks and whole replays; or Argo AnalysisTemplates whose metrics use the
augur plugin, with per-case args and assertions on each measurement's phase and value
(analysis_templates, args, analysis_tests). A directory stands for every *.test.yaml and
*.test.yml file below it. The format is described in README.md ("Testing metric templates").

Prints one line per case, the expected and actual values of every failed assertion, a line
per file and a summary "N passed, N failed".

Exit codes: 0 every case passed, 1 a case failed, 2 bad input (a test file or a case that
cannot run as written, flags).`,
		Example: `  augur test examples/podinfo/podinfo.test.yaml
  augur test examples/ --run 'not-found' -o json
  augur test tests/ --junit report.xml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(cmd, opts)
			}
			return testRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Run, "run", "", "run only the cases whose name matches this regular expression")
	cmd.Flags().StringVar(&opts.JUnit, "junit", "", "also write a JUnit XML report to this file")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text, json or yaml")
	registerReport(cmd, &opts.Report)
	return cmd
}

func testRun(cmd *cobra.Command, opts *TestOptions) error {
	if err := checkOutput(opts.Output); err != nil {
		return badInput(err)
	}
	ropts := testfile.RunOptions{Logger: slog.New(slog.DiscardHandler), Argo: argoMeasurer{}}
	if opts.Run != "" {
		re, err := regexp.Compile(opts.Run)
		if err != nil {
			return badInput(fmt.Errorf("--run %q: %w", opts.Run, err))
		}
		ropts.Run = re
	}
	files, err := testFiles(opts.Files)
	if err != nil {
		return badInput(err)
	}
	rep := testfile.RunFiles(cmd.Context(), files, ropts)
	if opts.Output != "text" {
		var buf bytes.Buffer
		if err = testfile.WriteJSON(&buf, &rep); err == nil {
			err = writeJSONAs(opts.IO.Out, opts.Output, buf.Bytes())
		}
	} else {
		err = testfile.WriteText(opts.IO.Out, &rep)
	}
	if err != nil {
		return err
	}
	if opts.JUnit != "" {
		if err := writeJUnit(opts.JUnit, &rep); err != nil {
			return badInput(err)
		}
	}
	if opts.Report != "" {
		if err := writeTestReport(opts.Report, &rep); err != nil {
			return badInput(err)
		}
	}
	_, failed, errored := rep.Counts()
	switch {
	case errored > 0:
		return &ExitError{Code: ExitBadInput}
	case failed > 0:
		return &ExitError{Code: ExitCheckFail}
	}
	return nil
}

func writeJUnit(path string, rep *testfile.Report) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("--junit: %w", cerr)
		}
	}()
	if err := testfile.WriteJUnit(f, rep); err != nil {
		return fmt.Errorf("--junit %s: %w", path, err)
	}
	return nil
}

// testFileExts are the names a directory argument contributes.
var testFileExts = []string{".test.yaml", ".test.yml"}

// testFiles expands directories into the test files below them, in lexical
// order; files named explicitly are taken whatever their name.
func testFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			// A missing file is reported by the runner at the file's line.
			if errors.Is(err, fs.ErrNotExist) {
				out = append(out, a)
				continue
			}
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != a && strings.HasPrefix(de.Name(), ".") && de.IsDir() {
				return filepath.SkipDir
			}
			if !de.IsDir() && slices.ContainsFunc(testFileExts, func(ext string) bool { return strings.HasSuffix(de.Name(), ext) }) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading test directory %s: %w", a, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("test directory %s holds no *.test.yaml or *.test.yml files", a)
		}
		out = append(out, found...)
	}
	return out, nil
}
