package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/augurproj/augur/redact"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, documented in README.md.
const (
	ExitOK         = 0 // success; for replay: the canary was promoted
	ExitCheckFail  = 1 // a check failed, or a replay ended neither promoted nor rolled back
	ExitBadInput   = 2 // bad input: files, flags, data
	ExitRolledBack = 3 // replay: the canary was rolled back
)

// IOStreams are a command's standard streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTerminal reports whether ErrOut is a terminal (progress lines).
	IsTerminal bool
}

// ExitError carries an exit code through cobra.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

func badInput(err error) error { return &ExitError{Code: ExitBadInput, Err: err} }

// Main runs augur with the process's arguments and streams and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fi, _ := os.Stderr.Stat()
	ios := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		IsTerminal: fi != nil && fi.Mode()&os.ModeCharDevice != 0}
	return Run(ctx, ios, pluginArgs(os.Args[1:], os.Getenv))
}

// Run executes augur with args and returns the exit code.
//
// Every credential the command comes to hold (provider secrets and
// headers, URL passwords, the serve token, the kube token) is recorded in
// a redact.Set carried by ctx and scrubbed from both output streams.
func Run(ctx context.Context, ios *IOStreams, args []string) int {
	secrets := redact.FromContext(ctx)
	if secrets == nil {
		secrets = redact.New(nil)
		ctx = redact.NewContext(ctx, secrets)
	}
	clean := *ios
	clean.Out, clean.ErrOut = redact.Writer(ios.Out, secrets), redact.Writer(ios.ErrOut, secrets)
	ios = &clean
	cmd := NewRootCmd(ios)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(ios.ErrOut, "augur:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(ios.ErrOut, "augur:", err)
	return ExitBadInput
}

// NewRootCmd builds the augur command tree.
func NewRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "augur",
		Short: "Stateless canary analysis: promote, advance, hold or roll back",
		Long: `augur answers a rollout driver's question at every analysis step — advance, hold,
promote or roll back — from Flagger Canary and MetricTemplate objects, Prometheus metrics
(live or recorded) and webhooks, exactly as Flagger's scheduler would, with the numbers
behind the answer.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetIn(ios.In)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(
		NewCmdRender(ios, nil),
		NewCmdQuery(ios, nil),
		NewCmdAnalyze(ios, nil),
		NewCmdReplay(ios, nil),
		NewCmdPlugin(ios, nil), NewCmdArgoPlugin(ios, nil),
		NewCmdServe(ios, nil),
		NewCmdTest(ios, nil), NewCmdRecord(ios, nil),
		NewCmdLint(ios, nil),
		NewCmdVersion(ios, nil), NewCmdInstallBinary(ios),
	)
	setVersion(root)
	registerCompletions(root)
	return root
}
