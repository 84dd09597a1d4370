package generator

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInterrupted reports that the user cancelled (Ctrl-C at a prompt or
// while writing). Nothing is left on disk when it is returned.
var ErrInterrupted = errors.New("interrupted")

// InputError is a problem with what the user asked for: a bad name, an
// unknown choice, a forbidden combination, an unusable target directory.
// The CLI exits 2 on it. Nothing has been written when it is returned.
type InputError struct {
	Err error
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}

// MissingAnswersError lists questions nobody answered when prompting was
// not possible and defaults were not requested.
type MissingAnswersError struct {
	Questions []Question
}

func (e *MissingAnswersError) Error() string {
	names := make([]string, len(e.Questions))
	for i, q := range e.Questions {
		names[i] = q.Name
	}
	return "no answer for: " + strings.Join(names, ", ")
}

// DefaultError reports a default that its question's validation refuses,
// such as a package name derived from a project name that would shadow a
// standard-library module.
type DefaultError struct {
	Question string
	Err      error
}

func (e *DefaultError) Error() string {
	return "the default " + e.Err.Error() + "; pass a value explicitly"
}
func (e *DefaultError) Unwrap() error { return e.Err }

// ForbiddenError reports a combination a blueprint rule forbids.
type ForbiddenError struct {
	Rule Rule
}

func (e *ForbiddenError) Error() string { return e.Rule.Message }

// TargetError reports a target directory that is taken: it exists and is
// not an empty directory.
type TargetError struct {
	Target  string
	Problem string
}

func (e *TargetError) Error() string {
	return e.Target + " " + e.Problem + ": choose another name or --output"
}

// DuplicatePathError reports two template files rendering to one output path.
type DuplicatePathError struct {
	Path         string
	First, Again string
}

func (e *DuplicatePathError) Error() string {
	return fmt.Sprintf("output path %q comes from both %q and %q", e.Path, e.First, e.Again)
}
