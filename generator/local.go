package generator

import (
	"context"
	"regexp"
	"strings"
)

// Local files (.env) hold the user's own settings and secrets: an update
// never replaces or merges them. It only appends the settings the new
// version or answers need and the file does not mention yet (say the
// OIDC_* lines after rampart set auth=oidc), each with its comment and a
// freshly generated value, as rampart new would have written them.

var settingLine = regexp.MustCompile(`^\s*#?\s*([A-Za-z_][A-Za-z0-9_]*)=`)

// mentioned lists the settings a KEY=VALUE file sets or shows commented out.
func mentioned(text string) map[string]bool {
	keys := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if m := settingLine.FindStringSubmatch(line); m != nil {
			keys[m[1]] = true
		}
	}
	return keys
}

// appendMissingSettings returns ours with theirs' active settings that ours
// does not mention appended (each with the comment lines above it in
// theirs), and the names appended; ours unchanged when nothing is missing.
func appendMissingSettings(ours, theirs, why string) (string, []string) {
	have := mentioned(ours)
	var added []string
	var block []string
	var comments []string
	for _, line := range strings.Split(theirs, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			comments = nil
		case strings.HasPrefix(trimmed, "#"):
			comments = append(comments, line)
		default:
			m := settingLine.FindStringSubmatch(line)
			if m != nil && !have[m[1]] {
				block = append(block, comments...)
				block = append(block, line)
				added = append(added, m[1])
				have[m[1]] = true
			}
			comments = nil
		}
	}
	if len(added) == 0 {
		return ours, nil
	}
	if ours != "" && !strings.HasSuffix(ours, "\n") {
		ours += "\n"
	}
	return ours + "\n# Added by rampart " + why + ": settings it needs that this file did not have.\n" +
		strings.Join(block, "\n") + "\n", added
}

// MergeLocal adds to merged, for each local file of theirs that the project
// has, the settings it lacks (a Merged path); a local file the project does
// not have is left absent, as the user chose.
func MergeLocal(ctx context.Context, theirs []File, readOurs func(string) (*Version, error), why string, merged []MergedPath) ([]MergedPath, error) {
	for _, f := range theirs {
		if !f.Local {
			continue
		}
		if ctx.Err() != nil {
			return nil, ErrInterrupted
		}
		ours, err := readOurs(f.Path)
		if err != nil {
			return nil, err
		}
		if ours == nil {
			continue
		}
		text, added := appendMissingSettings(string(ours.Contents), string(f.Contents), why)
		if len(added) == 0 {
			continue
		}
		merged = append(merged, MergedPath{
			Path: f.Path, Outcome: Merged, Ours: ours,
			Result: &Version{Contents: []byte(text), Mode: ours.Mode},
			Why:    "appended " + strings.Join(added, ", "),
		})
	}
	return merged, nil
}
