package cli

import (
	"regexp"
	"strings"

	"github.com/rampart-dev/rampart/generator"
)

// equivalentCommand spells out the non-interactive command that gives the
// same project, for scripts.
func equivalentCommand(bp *generator.Blueprint, answers generator.Answers, opts *NewOptions) string {
	args := []string{"rampart", "new"}
	if bp.Name != DefaultBlueprint {
		args = append(args, "--blueprint", shellQuote(bp.Name))
	}
	for _, q := range bp.Questions {
		if q.Positional {
			args = append(args, shellQuote(answers[q.Name]))
			continue
		}
		args = append(args, "--"+flagName(q.Name), shellQuote(answers[q.Name]))
	}
	if opts.Output != "" {
		args = append(args, "--output", shellQuote(opts.Output))
	}
	if opts.NoGit {
		args = append(args, "--no-git")
	}
	return strings.Join(append(args, "--yes"), " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}
