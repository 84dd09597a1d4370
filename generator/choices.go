package generator

import "slices"

// RefusedChoice is a choice that a rule forbids given the answers so far.
type RefusedChoice struct {
	Value string
	Rule  Rule
}

// RefusedChoices returns the choices of q that a rule forbids given the
// answers so far, in the question's order, each with the first rule that
// forbids it. A rule is evaluated only when every other question it reads
// is answered: one that depends on an unanswered question cannot forbid
// anything yet (and evaluating it would fail, as conditions refuse missing
// keys).
func (b *Blueprint) RefusedChoices(q Question, sofar Answers) ([]RefusedChoice, error) {
	var refused []RefusedChoice
	candidate := sofar.clone()
	for _, c := range q.Choices {
		candidate[q.Name] = c.Value
		rule, err := b.brokenRule(q.Name, candidate)
		if err != nil {
			return nil, err
		}
		if rule != nil {
			refused = append(refused, RefusedChoice{Value: c.Value, Rule: *rule})
		}
	}
	return refused, nil
}

// brokenRule returns the first rule that reads question, reads only
// answered questions, and holds for answers; nil when there is none.
func (b *Blueprint) brokenRule(question string, answers Answers) (*Rule, error) {
	for i := range b.Rules {
		rule := &b.Rules[i]
		if !slices.Contains(rule.reads, question) || !answers.hasAll(rule.reads) {
			continue
		}
		hit, err := b.holds(rule.When, answers)
		if err != nil {
			return nil, err
		}
		if hit {
			return rule, nil
		}
	}
	return nil, nil
}

func (a Answers) hasAll(names []string) bool {
	for _, n := range names {
		if _, ok := a[n]; !ok {
			return false
		}
	}
	return true
}

// withoutRefused returns q offering only the choices no rule refuses, and
// the value to preselect: def when it is still offered, else the first
// choice that is.
func withoutRefused(q Question, def string, refused []RefusedChoice) (Question, string) {
	if len(refused) == 0 {
		return q, def
	}
	isRefused := func(c Choice) bool {
		return slices.ContainsFunc(refused, func(r RefusedChoice) bool { return r.Value == c.Value })
	}
	q.Choices = slices.DeleteFunc(slices.Clone(q.Choices), isRefused)
	if len(q.Choices) > 0 && !slices.ContainsFunc(q.Choices, func(c Choice) bool { return c.Value == def }) {
		def = q.Choices[0].Value
	}
	return q, def
}
