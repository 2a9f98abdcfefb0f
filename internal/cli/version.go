package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/internal/version"
)

// VersionOptions are `augur version`'s inputs.
type VersionOptions struct {
	IO     *IOStreams
	Output string
}

// NewCmdVersion builds `augur version`.
func NewCmdVersion(ios *IOStreams, runF func(*cobra.Command, *VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "version [-o json]",
		Short: "Print augur's version, commit and Go version",
		Long: `Print the version of this binary: the module version (or the one the build set),
the commit it was built from and the Go toolchain, from the binary's build information.
augur --version prints the same line; augur serve answers it on GET /version and in the
augur_build_info metric.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return versionRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

func versionRun(opts *VersionOptions) error {
	in := version.Get()
	switch opts.Output {
	case "text":
		_, err := fmt.Fprintln(opts.IO.Out, in.String())
		return err
	case "json":
		b, err := json.MarshalIndent(in, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding the version: %w", err)
		}
		_, err = fmt.Fprintln(opts.IO.Out, string(b))
		return err
	}
	return badInput(fmt.Errorf("--output %q: want text or json", opts.Output))
}

// setVersion gives the root command its --version flag.
func setVersion(root *cobra.Command) {
	root.Version = version.Get().String()
	root.SetVersionTemplate("{{.Version}}\n")
}
