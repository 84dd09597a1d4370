package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/rampart-dev/rampart/generator"
)

// Prompter is what an interactive `rampart new` asks through: the
// blueprint's questions, then the confirmation before anything is written.
type Prompter interface {
	generator.Prompter
	Confirm(message string, def bool) (bool, error)
}

// errDeclined is the user's "no" at the summary. It is a cancellation like
// Ctrl-C at a question, so it shares its exit code.
var errDeclined error = declinedError{}

type declinedError struct{}

func (declinedError) Error() string        { return "cancelled at the summary; nothing was written" }
func (declinedError) Is(target error) bool { return target == generator.ErrInterrupted }

// printSummary shows every answer before anything is written, so an
// interactive user sees the whole project they asked for in one place.
func printSummary(w io.Writer, bp *generator.Blueprint, answers generator.Answers, target string, dryRun bool) error {
	verb := "will create"
	if dryRun {
		verb = "would create (dry run)"
	}
	fmt.Fprintf(w, "\nrampart %s %s from blueprint %s %s with:\n", verb, displayPath(target), bp.Name, bp.Version)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, q := range bp.Questions {
		fmt.Fprintf(tw, "  %s\t%s\n", q.Name, summaryValue(answers[q.Name]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}

// summaryValue quotes a value whose spaces or line breaks would otherwise
// be invisible or break the table.
func summaryValue(v string) string {
	if v == "" || strings.TrimSpace(v) != v || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' }) {
		return strconv.Quote(v)
	}
	return v
}

// confirmWrite asks before writing; a "no" writes nothing.
func confirmWrite(p Prompter) error {
	ok, err := p.Confirm("Create the project?", true)
	if err != nil {
		return err
	}
	if !ok {
		return errDeclined
	}
	return nil
}
