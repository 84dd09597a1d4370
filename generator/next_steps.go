package generator

import "fmt"

// NextStep is one command rampart suggests after writing a project, run from
// inside it, under a condition over the answers (a project without a
// database has no `make migrate`).
type NextStep struct {
	Run  string `yaml:"run"`
	When string `yaml:"when"`
}

func (b *Blueprint) checkNextSteps() error {
	for i, step := range b.NextSteps {
		if step.Run == "" {
			return fmt.Errorf("next step %d has nothing to run", i+1)
		}
		if step.When == "" {
			continue
		}
		if _, err := b.checkCondition(step.When); err != nil {
			return fmt.Errorf("next step %q: %w", step.Run, err)
		}
	}
	return nil
}

// nextSteps returns the commands that apply to answers, in manifest order.
func (b *Blueprint) nextSteps(answers Answers) ([]string, error) {
	var out []string
	for _, step := range b.NextSteps {
		ok, err := b.holds(step.When, answers)
		if err != nil {
			return nil, fmt.Errorf("next step %q: %w", step.Run, err)
		}
		if ok {
			out = append(out, step.Run)
		}
	}
	return out, nil
}
