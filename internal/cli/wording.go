package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/rampart-dev/rampart/generator"
)

// wording says things in the terms the user gave answers in. A manifest's
// rule messages name flags (--database sqlite ...), which is right for
// someone who typed flags or runs a script; someone who only answered
// questions is told about their answers instead.
type wording struct {
	bp *generator.Blueprint
	// answers is set when the user typed no answer flags and is answering
	// questions on a terminal.
	answers bool
	// output is set when --output, not the name, chose the directory.
	output bool
}

func newWording(bp *generator.Blueprint, opts *NewOptions, interactive bool) wording {
	return wording{bp: bp, answers: interactive && len(opts.Flags) == 0, output: opts.Output != ""}
}

var flagToken = regexp.MustCompile(`--[a-z][a-z0-9-]*`)

// rule rewords a rule's message: "--database sqlite" becomes "database
// sqlite" for someone who typed no flags. Flags that answer no question
// (--output) are kept: they are advice, not a reference to an answer.
func (w wording) rule(message string) string {
	if !w.answers {
		return message
	}
	return flagToken.ReplaceAllStringFunc(message, func(flag string) string {
		for _, q := range w.bp.Questions {
			if !q.Positional && "--"+flagName(q.Name) == flag {
				return q.Name
			}
		}
		return flag
	})
}

// target words a taken target directory with the remedy that applies: a
// directory given by --output needs another --output; one named after the
// project needs another name (or --output, for someone typing flags).
func (w wording) target(err error) error {
	var taken *generator.TargetError
	switch {
	case !errors.As(err, &taken):
		return err
	case w.output:
		return &generator.InputError{Err: fmt.Errorf("%s %s: choose another --output directory", taken.Target, taken.Problem)}
	case w.answers:
		return &generator.InputError{Err: fmt.Errorf("%s %s: choose another name", taken.Target, taken.Problem)}
	}
	return err
}

// explain turns an error from resolving answers into a message that says
// what was wrong and what to do, in the user's terms.
func (w wording) explain(err error, yes bool) error {
	var (
		missing   *generator.MissingAnswersError
		forbidden *generator.ForbiddenError
		badDef    *generator.DefaultError
	)
	switch {
	case errors.As(err, &missing):
		return &generator.InputError{Err: explainMissing(missing, yes)}
	case errors.As(err, &forbidden) && w.answers:
		return &generator.InputError{Err: fmt.Errorf("these answers cannot go together: %s", w.rule(forbidden.Rule.Message))}
	case errors.As(err, &badDef):
		return &generator.InputError{Err: fmt.Errorf("%w (it is the default); pass --%s with another value", badDef.Err, flagName(badDef.Question))}
	}
	return w.target(err)
}

// explainMissing names what to pass when an answer is missing and cannot
// be asked for. Only a script gets here, so it speaks of flags.
func explainMissing(missing *generator.MissingAnswersError, yes bool) error {
	nameMissing := false
	var flags []string
	for _, q := range missing.Questions {
		if q.Positional {
			nameMissing = true
		} else {
			flags = append(flags, "--"+flagName(q.Name))
		}
	}
	if yes {
		if nameMissing {
			// Anything else missing has a default derived from the name.
			return errors.New("a project NAME is required: rampart new NAME --yes")
		}
		return fmt.Errorf("--yes takes the defaults, but %s has none: pass it", strings.Join(flags, ", "))
	}
	var give []string
	if nameMissing {
		give = append(give, "a project NAME (rampart new NAME)")
	}
	give = append(give, flags...)
	return fmt.Errorf("no terminal to ask questions on (standard input and output must both be terminals), and no answer for %s; pass them as flags or in --answers FILE, or add --yes to take the defaults",
		strings.Join(give, ", "))
}

// reasonsInTerms passes refused choices on to the prompter with their
// rules' messages in the user's terms.
type reasonsInTerms struct {
	generator.Prompter
	words wording
}

func (p reasonsInTerms) Select(q generator.Question, def string, refused []generator.RefusedChoice) (string, error) {
	reworded := make([]generator.RefusedChoice, len(refused))
	for i, r := range refused {
		r.Rule.Message = p.words.rule(r.Rule.Message)
		reworded[i] = r
	}
	return p.Prompter.Select(q, def, reworded)
}
