// Package matrix enumerates a blueprint's answer combinations from its
// manifest: every combination of its choice questions, which of them the
// manifest's rules forbid, and a small subset that still puts every
// allowed pair of choices together at least once (pairwise coverage).
package matrix

import (
	"fmt"
	"strings"

	"github.com/rampart-dev/rampart/generator"
)

// Choice is one question's answer.
type Choice struct {
	Question, Value string
}

// Combination is one answer for each choice question, in manifest order.
type Combination struct {
	Choices []Choice
	// Forbidden holds the message of the rule that refuses the
	// combination; empty when the combination is allowed.
	Forbidden string
}

// Name joins the values, for example "postgres-redis-session".
func (c Combination) Name() string {
	values := make([]string, len(c.Choices))
	for i, ch := range c.Choices {
		values[i] = ch.Value
	}
	return strings.Join(values, "-")
}

// Flags are the command-line flags that select the combination.
func (c Combination) Flags() []string {
	flags := make([]string, 0, 2*len(c.Choices))
	for _, ch := range c.Choices {
		flags = append(flags, "--"+ch.Question, ch.Value)
	}
	return flags
}

// All returns every combination of the blueprint's choice questions, in
// manifest order, each marked with the rule that forbids it, if any.
func All(b *generator.Blueprint) ([]Combination, error) {
	var questions []string
	for _, q := range b.Questions {
		if q.Kind == generator.KindChoice {
			questions = append(questions, q.Name)
		}
	}
	var all []Combination
	err := b.ForEachCombination(func(a generator.Answers) error {
		c := Combination{Choices: make([]Choice, len(questions))}
		for i, q := range questions {
			c.Choices[i] = Choice{q, a[q]}
		}
		if err := b.CheckRules(a); err != nil {
			c.Forbidden = err.Error()
		}
		all = append(all, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("enumerating the combinations of blueprint %s: %w", b.Name, err)
	}
	return all, nil
}

// Allowed returns the combinations no rule forbids.
func Allowed(all []Combination) []Combination {
	var allowed []Combination
	for _, c := range all {
		if c.Forbidden == "" {
			allowed = append(allowed, c)
		}
	}
	return allowed
}

// Pair is two choices of different questions.
type Pair struct{ first, second Choice }

// First and Second are the pair's choices, in question order.
func (p Pair) First() Choice  { return p.first }
func (p Pair) Second() Choice { return p.second }

// Pairs lists the pairs of choices (from two different questions) that c
// puts together.
func (c Combination) Pairs() []Pair {
	var pairs []Pair
	for i := range c.Choices {
		for j := i + 1; j < len(c.Choices); j++ {
			pairs = append(pairs, Pair{c.Choices[i], c.Choices[j]})
		}
	}
	return pairs
}

// Pairwise picks allowed combinations until every pair of choices that
// some allowed combination contains is covered. It starts with start when
// start is allowed (the defaults, so the most common project is always
// proved), then greedily takes the combination covering the most pairs
// not yet covered; ties go to the earlier one in manifest order, so the
// result is deterministic.
func Pairwise(allowed []Combination, start Combination) []Combination {
	uncovered := map[Pair]bool{}
	for _, c := range allowed {
		for _, p := range c.Pairs() {
			uncovered[p] = true
		}
	}
	var picked []Combination
	used := make([]bool, len(allowed))
	take := func(i int) {
		used[i] = true
		picked = append(picked, allowed[i])
		for _, p := range allowed[i].Pairs() {
			delete(uncovered, p)
		}
	}
	for i, c := range allowed {
		if c.Name() == start.Name() {
			take(i)
			break
		}
	}
	for len(uncovered) > 0 {
		best, bestGain := -1, 0
		for i, c := range allowed {
			if used[i] {
				continue
			}
			gain := 0
			for _, p := range c.Pairs() {
				if uncovered[p] {
					gain++
				}
			}
			if gain > bestGain {
				best, bestGain = i, gain
			}
		}
		take(best)
	}
	return picked
}

// Defaults is the combination of every choice question's default answer.
func Defaults(b *generator.Blueprint) Combination {
	var c Combination
	for _, q := range b.Questions {
		if q.Kind == generator.KindChoice {
			c.Choices = append(c.Choices, Choice{q.Name, q.Default})
		}
	}
	return c
}
