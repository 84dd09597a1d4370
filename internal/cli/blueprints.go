package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/generator"
)

func newCmdBlueprints(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "blueprints",
		Short: "List the built-in blueprints with their versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := f.Blueprints()
			if err != nil {
				return runError{fmt.Errorf("loading blueprints: %w", err)}
			}
			if asJSON {
				type entry struct {
					Name, Version, Summary string
				}
				var list []entry
				for _, name := range generator.SortedNames(all) {
					b := all[name]
					list = append(list, entry{b.Name, b.Version, b.Summary})
				}
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tSUMMARY")
			for _, name := range generator.SortedNames(all) {
				b := all[name]
				fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Name, b.Version, b.Summary)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
