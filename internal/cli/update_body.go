package cli

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// prBodyLimit keeps a description under GitHub's 65,536 characters and
// GitLab's 1,048,576, with room for a truncation note.
const prBodyLimit = 60000

// writePRBody writes, for update and set's --pr-body, the description of a
// pull or merge request carrying the update: the changelog (security
// changes first), then what needs the reviewer (conflicts, kept files).
func writePRBody(path string, r updateReport) error {
	body := prBody(r)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		return runError{fmt.Errorf("writing --pr-body: %w", err)}
	}
	return nil
}

func prBody(r updateReport) string {
	var b strings.Builder
	if r.From == r.To {
		fmt.Fprintf(&b, "rampart changed the answers of this %s %s project:", r.Blueprint, r.To)
		for _, key := range slices.Sorted(maps.Keys(r.Answers)) {
			fmt.Fprintf(&b, " `%s` %s → %s;", key, orNone(r.Answers[key][0]), orNone(r.Answers[key][1]))
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(&b, "rampart brings this project from %s **%s** to **%s**, keeping every change you made "+
			"(a three-way merge: what %s generated, the project as it is, what %s generates).\n",
			r.Blueprint, r.From, r.To, r.From, r.To)
	}
	if len(r.Conflicts) > 0 {
		fmt.Fprintf(&b, "\n### ⚠ %d conflict(s): resolve before merging\n\n", len(r.Conflicts))
		b.WriteString("Each file below is committed as the merge left it: where both sides changed the same lines, with " +
			"`<<<<<<<`, `|||||||`, `=======`, `>>>>>>>` markers. A file marked **no markers** is committed as your copy: " +
			"do what its line says before merging, or the new version's changes to it are lost. " +
			"Check out this branch, resolve, run the tests, and push.\n\n")
		for _, n := range r.Conflicts {
			if n.Marked {
				fmt.Fprintf(&b, "- `%s`: %s\n", n.Path, n.Why)
			} else {
				fmt.Fprintf(&b, "- `%s` (**no markers**): %s\n", n.Path, n.Why)
			}
		}
	}
	for _, section := range []struct {
		title    string
		security bool
	}{{"Security changes", true}, {"Other changes", false}} {
		var lines []string
		for _, c := range r.Changes {
			if c.Security == section.security {
				lines = append(lines, fmt.Sprintf("- %s: %s\n", c.Version, c.Text))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\n### %s\n\n%s", section.title, strings.Join(lines, ""))
		}
	}
	if len(r.Kept) > 0 {
		b.WriteString("\n### Kept as you changed them\n\n")
		for _, n := range r.Kept {
			fmt.Fprintf(&b, "- `%s`: %s\n", n.Path, n.Why)
		}
	}
	if len(r.Local) > 0 {
		b.WriteString("\n### Local settings to add\n\nEach environment's own `.env` needs what the new version reads:\n\n")
		for _, n := range r.Local {
			fmt.Fprintf(&b, "- `%s`: %s\n", n.Path, n.Why)
		}
	}
	b.WriteString("\n### Files\n\n")
	for _, outcome := range reportedOutcomes {
		if paths := r.listed(outcome); len(paths) > 0 {
			fmt.Fprintf(&b, "- %s (%d): `%s`\n", outcome, len(paths), strings.Join(paths, "`, `"))
		}
	}
	body := b.String()
	if len(body) > prBodyLimit {
		cut := strings.LastIndex(body[:prBodyLimit], "\n") + 1
		body = body[:cut] + "\n… (cut short: `rampart update --dry-run` on the previous commit shows everything)\n"
	}
	return body
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return "`" + s + "`"
}
