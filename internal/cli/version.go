package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func newCmdVersion(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print rampart's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(f.Build)
			}
			commit := f.Build.Commit
			if f.Build.Modified {
				commit += " (modified)"
			}
			fmt.Fprintf(f.IO.Out, "rampart %s\ncommit  %s\ngo      %s\n", f.Build.Version, commit, f.Build.GoVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
