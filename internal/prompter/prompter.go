// Package prompter asks blueprint questions on a terminal with survey.
package prompter

import (
	"errors"
	"fmt"
	"io"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"

	"github.com/rampart-dev/rampart/generator"
)

// Survey asks on a terminal: the questions of a blueprint
// (generator.Prompter) and the confirmation before writing.
type Survey struct {
	stdio terminal.Stdio
	// err is why these streams cannot prompt (they are not a terminal's).
	err error
}

// New returns a prompter on the command's streams (iostreams), which must be
// a terminal's: survey reads keys from the input's file descriptor.
func New(in io.Reader, out, errOut io.Writer) *Survey {
	fileIn, okIn := in.(terminal.FileReader)
	fileOut, okOut := out.(terminal.FileWriter)
	s := &Survey{stdio: terminal.Stdio{In: fileIn, Out: fileOut, Err: errOut}}
	if !okIn || !okOut {
		s.err = errors.New("asking a question: standard input and output must be a terminal (pass every answer as a flag, or --yes)")
	}
	return s
}

// Select asks for one of a choice question's values. The choices a rule
// refuses are not offered; each is listed above the question with the
// rule's reason, so nothing disappears unexplained.
func (s *Survey) Select(q generator.Question, def string, refused []generator.RefusedChoice) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	for _, r := range refused {
		fmt.Fprintf(s.stdio.Err, "  (%s is not offered: %s)\n", r.Value, r.Rule.Message)
	}
	labels := make([]string, len(q.Choices))
	byLabel := map[string]string{}
	defLabel := ""
	for i, c := range q.Choices {
		labels[i] = c.Value
		if c.Help != "" {
			labels[i] = fmt.Sprintf("%s — %s", c.Value, c.Help)
		}
		byLabel[labels[i]] = c.Value
		if c.Value == def {
			defLabel = labels[i]
		}
	}
	var answer string
	prompt := &survey.Select{Message: q.Prompt + ":", Options: labels, Default: defLabel, Help: q.Help}
	if err := survey.AskOne(prompt, &answer, survey.WithStdio(s.stdio.In, s.stdio.Out, s.stdio.Err)); err != nil {
		return "", mapError(err)
	}
	return byLabel[answer], nil
}

// Input asks for free text, re-asking until validate accepts it.
func (s *Survey) Input(q generator.Question, def string, validate func(string) error) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	var answer string
	prompt := &survey.Input{Message: q.Prompt + ":", Default: def, Help: q.Help}
	check := func(v any) error { return validate(fmt.Sprint(v)) }
	if err := survey.AskOne(prompt, &answer, survey.WithValidator(check), survey.WithStdio(s.stdio.In, s.stdio.Out, s.stdio.Err)); err != nil {
		return "", mapError(err)
	}
	return answer, nil
}

// Confirm asks a yes/no question.
func (s *Survey) Confirm(message string, def bool) (bool, error) {
	if s.err != nil {
		return false, s.err
	}
	answer := def
	prompt := &survey.Confirm{Message: message, Default: def}
	if err := survey.AskOne(prompt, &answer, survey.WithStdio(s.stdio.In, s.stdio.Out, s.stdio.Err)); err != nil {
		return false, mapError(err)
	}
	return answer, nil
}

func mapError(err error) error {
	if errors.Is(err, terminal.InterruptErr) {
		return generator.ErrInterrupted
	}
	return fmt.Errorf("asking a question: %w", err)
}
