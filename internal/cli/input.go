package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
)

// fileFlags are the -f/--filename inputs shared by the commands.
type fileFlags struct {
	Files  []string
	Canary string // ns/name or name, to pick one canary
}

func (f *fileFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&f.Files, "filename", "f", nil,
		"Canary / MetricTemplate file or directory (YAML or JSON, multi-document); - reads standard input")
	cmd.Flags().StringVar(&f.Canary, "canary", "", "pick one Canary by namespace/name (or name) when the files hold several; analyze without -f reads it from the cluster")
}

// load decodes, merges and validates the files.
func (f *fileFlags) load(ios *IOStreams) (*manifest.Set, error) {
	if len(f.Files) == 0 {
		return nil, errors.New("no input: give Canary and MetricTemplate files with -f")
	}
	set := &manifest.Set{}
	stdinUsed := false
	for _, p := range f.Files {
		var s *manifest.Set
		var err error
		if p == "-" {
			if stdinUsed {
				return nil, errors.New("standard input (-) given more than once")
			}
			stdinUsed = true
			s, err = manifest.Decode(ios.In, "<stdin>")
		} else {
			s, err = manifest.DecodePaths([]string{p})
		}
		if err != nil {
			return nil, err
		}
		if err := set.Merge(s); err != nil {
			return nil, err
		}
	}
	if err := manifest.Validate(set); err != nil {
		return nil, err
	}
	return set, nil
}

// pick returns the canaries selected by --canary (all when unset).
func (f *fileFlags) pick(set *manifest.Set) ([]analysis.Canary, error) {
	if f.Canary == "" {
		if len(set.Canaries) == 0 {
			return nil, errors.New("the files hold no Canary (apiVersion flagger.app/v1beta1, kind Canary)")
		}
		return set.Canaries, nil
	}
	ns, name, ok := strings.Cut(f.Canary, "/")
	if !ok {
		ns, name = "", f.Canary
	}
	for _, c := range set.Canaries {
		if c.Metadata.Name == name && (ns == "" || c.Metadata.Namespace == ns) {
			return []analysis.Canary{c}, nil
		}
	}
	return nil, fmt.Errorf("--canary %s: no such Canary in the files", f.Canary)
}

// one returns exactly one canary.
func (f *fileFlags) one(set *manifest.Set) (analysis.Canary, error) {
	cs, err := f.pick(set)
	if err != nil {
		return analysis.Canary{}, err
	}
	if len(cs) > 1 {
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = c.Metadata.Namespace + "/" + c.Metadata.Name
		}
		return analysis.Canary{}, fmt.Errorf("the files hold %d Canaries (%s): pick one with --canary", len(cs), strings.Join(names, ", "))
	}
	return cs[0], nil
}

// parseTime reads a time flag: RFC 3339, Unix seconds, or an offset from a
// base ("+10m" after the data's start, "-2m" before its end).
func parseTime(flag, s string, start, end time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("--%s %q: %w", flag, s, err)
		}
		if start.IsZero() {
			return time.Time{}, fmt.Errorf("--%s %q: a relative time needs recorded data (--data)", flag, s)
		}
		if s[0] == '+' {
			return start.Add(d), nil
		}
		return end.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want RFC 3339 (2026-11-01T10:05:00Z), Unix seconds, +DURATION from the data's start or -DURATION from its end", flag, s)
}

// statusFlags build the current status from --status FILE or flags.
type statusFlags struct {
	File         string
	Phase        string
	Weight       int
	FailedChecks int
	Iterations   int
	Mirrored     bool
}

func (s *statusFlags) register(cmd *cobra.Command, defaultPhase string) {
	cmd.Flags().StringVar(&s.File, "status", "", "current status as JSON or YAML ({phase, canaryWeight, failedChecks, iterations}); - reads standard input")
	cmd.Flags().StringVar(&s.Phase, "phase", defaultPhase, "current phase")
	cmd.Flags().IntVar(&s.Weight, "weight", 0, "current canary weight")
	cmd.Flags().IntVar(&s.FailedChecks, "failed-checks", 0, "current failed checks")
	cmd.Flags().IntVar(&s.Iterations, "iterations", 0, "current iterations")
	cmd.Flags().BoolVar(&s.Mirrored, "mirrored", false, "traffic is currently mirrored")
}

var knownPhases = []analysis.Phase{
	analysis.PhaseInitializing, analysis.PhaseInitialized, analysis.PhaseWaiting, analysis.PhaseProgressing,
	analysis.PhaseWaitingPromotion, analysis.PhasePromoting, analysis.PhaseFinalising, analysis.PhaseSucceeded,
	analysis.PhaseFailed, analysis.PhaseTerminating, analysis.PhaseTerminated,
}

func checkPhase(p analysis.Phase) error {
	if p == "" {
		return nil
	}
	for _, k := range knownPhases {
		if p == k {
			return nil
		}
	}
	return fmt.Errorf("unknown phase %q (one of %v)", p, knownPhases)
}

func (s *statusFlags) status(cmd *cobra.Command, ios *IOStreams) (analysis.CanaryStatus, error) {
	if s.File != "" {
		for _, f := range []string{"phase", "weight", "failed-checks", "iterations", "mirrored"} {
			if cmd.Flags().Changed(f) {
				return analysis.CanaryStatus{}, fmt.Errorf("--status and --%s are exclusive", f)
			}
		}
		st, err := readStatus(s.File, ios)
		if err != nil {
			return st, err
		}
		return st, checkPhase(st.Phase)
	}
	st := analysis.CanaryStatus{Phase: analysis.Phase(s.Phase), CanaryWeight: s.Weight,
		FailedChecks: s.FailedChecks, Iterations: s.Iterations, Mirrored: s.Mirrored}
	if s.Weight < 0 || s.Weight > 100 {
		return st, fmt.Errorf("--weight %d: must be within 0..100", s.Weight)
	}
	// WaitingPromotion stores iterations -1 (Flagger's SetStatusPhase keeps
	// iterations-1), so -1 is a value augur prints and must read back.
	if s.FailedChecks < 0 || s.Iterations < -1 {
		return st, errors.New("--failed-checks must not be negative and --iterations not below -1")
	}
	return st, checkPhase(st.Phase)
}
