package generator

import (
	"fmt"
	"io/fs"
)

// A dependencyLocks is one ecosystem's pinned dependencies and the lock
// files cut from them, such as the python: section (PythonSpec). The engine
// knows only this interface: a blueprint for another language adds a
// section and an implementation, not engine code.
type dependencyLocks interface {
	// key is the manifest section and the template data key (.python).
	key() string
	// load reads the lock catalog from the template root and keeps the
	// blueprint's view of the answers for conditions.
	load(templates fs.FS, conditionData func(Answers) map[string]any) error
	// conditions lists each requirement's condition, named for messages.
	conditions() map[string]string
	// data is what templates see under key for answers.
	data(answers Answers) (map[string]any, error)
	// check evaluates every condition for answers and, when the
	// combination is generated, that the catalog can cut its locks.
	check(answers Answers, generated bool) error
}

// locks lists the blueprint's dependency sections that are present.
func (b *Blueprint) locks() []dependencyLocks {
	var out []dependencyLocks
	if b.Python != nil {
		out = append(out, b.Python)
	}
	return out
}

// checkLockConditions checks every requirement condition statically.
func (b *Blueprint) checkLockConditions() error {
	for _, l := range b.locks() {
		for name, when := range l.conditions() {
			if _, err := b.checkCondition(when); err != nil {
				return fmt.Errorf("%s: %s: %w", l.key(), name, err)
			}
		}
	}
	return nil
}
