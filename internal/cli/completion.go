package cli

import (
	"github.com/spf13/cobra"

	"github.com/augurproj/augur/manifest"
)

// registerCompletions adds value completion to the flags of every command:
// -o, --webhooks and --phase complete their fixed values, --canary the
// Canaries of the -f files given so far. Cobra's `augur completion SHELL`
// prints the script that uses them.
func registerCompletions(root *cobra.Command) {
	fixed := map[string][]string{
		"output":   {"text", "json", "yaml"},
		"webhooks": {"call", "pass", "fail"},
	}
	for _, p := range knownPhases {
		fixed["phase"] = append(fixed["phase"], string(p))
	}
	for _, cmd := range root.Commands() {
		for name, values := range fixed {
			if cmd.Flags().Lookup(name) == nil {
				continue
			}
			if name == "output" && cmd.Name() == "lint" {
				values = append(values[:len(values):len(values)], "sarif")
			}
			_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
		if cmd.Flags().Lookup("canary") != nil && cmd.Flags().Lookup("filename") != nil {
			_ = cmd.RegisterFlagCompletionFunc("canary", completeCanaries)
		}
	}
}

// completeCanaries lists namespace/name of every Canary in the -f files.
func completeCanaries(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	files, err := cmd.Flags().GetStringArray("filename")
	if err != nil || len(files) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	set, err := manifest.DecodePaths(files)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, c := range set.Canaries {
		out = append(out, c.Metadata.Namespace+"/"+c.Metadata.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
