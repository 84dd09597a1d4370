package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/internal/iostreams"
)

// report is what `rampart new` tells the user, as text or JSON.
type report struct {
	Name             string            `json:"name"`
	Blueprint        string            `json:"blueprint"`
	BlueprintVersion string            `json:"blueprint_version"`
	Output           string            `json:"output"`
	DryRun           bool              `json:"dry_run"`
	Answers          map[string]string `json:"answers"`
	Files            []reportFile      `json:"files"`
	TotalBytes       int               `json:"total_bytes"`
	Git              string            `json:"git,omitempty"`
	NextSteps        []string          `json:"next_steps"`
}

type reportFile struct {
	Path  string `json:"path"`
	Size  int    `json:"size"`
	Mode  string `json:"mode"`
	Local bool   `json:"local,omitempty"`
}

func newReport(bp *generator.Blueprint, plan *generator.Plan, name, target string, dryRun bool) *report {
	r := &report{
		Name: name, Blueprint: bp.Name, BlueprintVersion: bp.Version,
		Output: target, DryRun: dryRun, Answers: plan.Answers, NextSteps: plan.NextSteps,
	}
	for _, f := range plan.Files {
		r.Files = append(r.Files, reportFile{Path: f.Path, Size: len(f.Contents), Mode: fmt.Sprintf("%04o", f.Mode), Local: f.Local})
		r.TotalBytes += len(f.Contents)
	}
	return r
}

func (r *report) print(io *iostreams.IOStreams, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if r.DryRun {
		fmt.Fprintf(io.Out, "Dry run: would create %s from blueprint %s %s (nothing written)\n\n", r.Output, r.Blueprint, r.BlueprintVersion)
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
		for _, f := range r.Files {
			note := ""
			if f.Local {
				note = "  (local, git-ignored)"
			}
			fmt.Fprintf(tw, "%d\t %s  %s%s\n", f.Size, f.Mode, f.Path, note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(io.Out, "\n%d files, %d bytes\n", len(r.Files), r.TotalBytes)
		return nil
	}
	shown := displayPath(r.Output)
	fmt.Fprintf(io.Out, "Created %s (%d files) from blueprint %s %s.\n", shown, len(r.Files), r.Blueprint, r.BlueprintVersion)
	fmt.Fprintf(io.Out, "git: %s\n", r.Git)
	if len(r.NextSteps) > 0 {
		fmt.Fprintf(io.Out, "\nNext (the project's README says more):\n  cd %s\n", shown)
		for _, step := range r.NextSteps {
			fmt.Fprintf(io.Out, "  %s\n", step)
		}
	}
	return nil
}

// displayPath shows a path under the working directory as ./rel, and any
// other path as it is.
func displayPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !filepath.IsAbs(rel) && rel != "" && rel[0] != '.' {
		return "./" + rel
	}
	return path
}
