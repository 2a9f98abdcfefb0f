package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
		Use:   "version [-o json|yaml]",
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
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text, json or yaml")
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
	case "yaml":
		return writeStructured(opts.IO.Out, "yaml", in)
	}
	return badInput(fmt.Errorf("--output %q: want text, json or yaml", opts.Output))
}

// setVersion gives the root command its --version flag.
func setVersion(root *cobra.Command) {
	root.Version = version.Get().String()
	root.SetVersionTemplate("{{.Version}}\n")
}

// NewCmdInstallBinary builds `augur install-binary DEST`: copies this binary
// to DEST. The image has no shell or cp, so an init container runs this to
// hand augur to another container (Argo Rollouts' controller loads its
// metric plugin from a file:// location on a shared volume).
func NewCmdInstallBinary(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "install-binary DEST",
		Short: "Copy this augur binary to DEST (for an init container feeding Argo Rollouts' plugin volume)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding this binary: %w", err)
			}
			n, err := copyExecutable(src, args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(ios.Out, "installed %s (%d bytes, %s)\n", args[0], n, version.Get())
			return err
		},
	}
}

// copyExecutable copies src to dest (mode 0755) through a temporary file in
// dest's directory, renamed into place, so a reader never sees half a file.
func copyExecutable(src, dest string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("install-binary: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".augur-*")
	if err != nil {
		return 0, fmt.Errorf("install-binary: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, in)
	if err == nil {
		err = tmp.Chmod(0o755)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dest)
	}
	if err != nil {
		return 0, fmt.Errorf("install-binary %s: %w", dest, err)
	}
	return n, nil
}
