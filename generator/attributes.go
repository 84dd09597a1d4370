package generator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// checkAttributes requires every choice of q to declare the same attribute
// names as the first one, so a choice added later cannot leave a template
// without a fact it reads; values must be strings, numbers or booleans.
func (q Question) checkAttributes() error {
	want := slices.Sorted(maps.Keys(q.Choices[0].Attributes))
	for _, c := range q.Choices {
		for name, v := range c.Attributes {
			if !identPattern.MatchString(name) {
				return fmt.Errorf("choice %q: attribute name %q must match %s", c.Value, name, identPattern)
			}
			switch v.(type) {
			case string, int, bool, float64:
			default:
				return fmt.Errorf("choice %q: attribute %s must be a string, number or boolean", c.Value, name)
			}
		}
		for _, name := range want {
			if _, ok := c.Attributes[name]; !ok {
				return fmt.Errorf("choice %q lacks attribute %s, which choice %q declares (every choice of a question declares: %s)",
					c.Value, name, q.Choices[0].Value, strings.Join(want, ", "))
			}
		}
		if len(c.Attributes) != len(want) {
			for name := range c.Attributes {
				if !slices.Contains(want, name) {
					return fmt.Errorf("choice %q declares attribute %s, which choice %q lacks (every choice of a question declares the same attributes)",
						c.Value, name, q.Choices[0].Value)
				}
			}
		}
	}
	return nil
}

// Choice returns the choice of q with the given value.
func (q Question) Choice(value string) (Choice, bool) {
	for _, c := range q.Choices {
		if c.Value == value {
			return c, true
		}
	}
	return Choice{}, false
}

// choiceAttributes is what templates see as .choice: for each choice
// question, the attributes of the chosen value.
func (b *Blueprint) choiceAttributes(answers Answers) map[string]any {
	out := map[string]any{}
	for _, q := range b.Questions {
		if q.Kind != KindChoice {
			continue
		}
		c, _ := q.Choice(answers[q.Name])
		attrs := map[string]any{}
		maps.Copy(attrs, c.Attributes)
		out[q.Name] = attrs
	}
	return out
}
