package cli

import (
	"fmt"
	"path/filepath"

	"github.com/rampart-dev/rampart/generator"
)

// checkTarget validates the project name and refuses a target directory
// that is taken, before any question is asked.
func checkTarget(bp *generator.Blueprint, opts *NewOptions, name string) error {
	if name != "" {
		if err := bp.CheckAnswer(positionalName(bp), name); err != nil {
			return err
		}
	}
	if opts.Output == "" && name == "" {
		return nil
	}
	target, err := targetDir(opts, name)
	if err != nil {
		return err
	}
	return generator.CheckTarget(target)
}

// targetDir is where the project goes: --output, else ./NAME.
func targetDir(opts *NewOptions, name string) (string, error) {
	dir := opts.Output
	if dir == "" {
		dir = name
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", runError{fmt.Errorf("resolving %s: %w", dir, err)}
	}
	return abs, nil
}

// checkNameTarget returns the check that refuses a project name whose
// directory is taken, as soon as the name is answered: a prompt asks again
// with the reason, a name from elsewhere is an error. With --output the
// directory does not depend on the name, and was checked before asking.
func checkNameTarget(opts *NewOptions, words wording) func(generator.Question, string) error {
	if opts.Output != "" {
		return nil
	}
	return func(q generator.Question, name string) error {
		if !q.Positional {
			return nil
		}
		target, err := targetDir(opts, name)
		if err != nil {
			return err
		}
		return words.target(generator.CheckTarget(target))
	}
}
