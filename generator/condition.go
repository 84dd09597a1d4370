package generator

import (
	"bytes"
	"fmt"
	"text/template"
)

// A condition is a text/template pipeline over the answers, for example
//
//	eq .cache "redis"
//	and (eq .auth "session") (ne .database "none")
//
// It is wrapped in an if-action and must produce true or false; referring
// to an unknown answer is an error (missingkey=error).
func parseCondition(expr string) (*template.Template, error) {
	if expr == "" {
		return nil, fmt.Errorf("condition is empty")
	}
	src := LeftDelim + " if " + expr + " " + RightDelim + "true" + LeftDelim + " else " + RightDelim + "false" + LeftDelim + " end " + RightDelim
	t, err := expressions().parse(src, src)
	if err != nil {
		return nil, fmt.Errorf("condition %q: %w", expr, err)
	}
	return t, nil
}

// evalCondition reports whether expr holds for data (conditionData). An
// empty condition always holds.
func evalCondition(expr string, data map[string]any) (bool, error) {
	if expr == "" {
		return true, nil
	}
	t, err := parseCondition(expr)
	if err != nil {
		return false, err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return false, fmt.Errorf("condition %q: %w", expr, err)
	}
	return out.String() == "true", nil
}

// conditionData is what a condition sees: the answers, and the attributes
// of the chosen choices as .choice.QUESTION.ATTRIBUTE.
func (b *Blueprint) conditionData(answers Answers) map[string]any {
	data := answers.templateData()
	data["choice"] = b.choiceAttributes(answers)
	return data
}

// holds reports whether expr holds for answers.
func (b *Blueprint) holds(expr string, answers Answers) (bool, error) {
	if expr == "" {
		return true, nil
	}
	return evalCondition(expr, b.conditionData(answers))
}

// forbidden returns the first rule the answers break, or nil.
func (b *Blueprint) forbidden(answers Answers) (*Rule, error) {
	for i := range b.Rules {
		hit, err := b.holds(b.Rules[i].When, answers)
		if err != nil {
			return nil, err
		}
		if hit {
			return &b.Rules[i], nil
		}
	}
	return nil, nil
}

func (b *Blueprint) selectedFileSets(answers Answers) ([]FileSet, error) {
	var sets []FileSet
	for _, f := range b.Files {
		ok, err := b.holds(f.When, answers)
		if err != nil {
			return nil, err
		}
		if ok {
			sets = append(sets, f)
		}
	}
	return sets, nil
}
