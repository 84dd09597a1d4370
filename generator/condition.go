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

// evalCondition reports whether expr holds for answers. An empty
// condition always holds.
func evalCondition(expr string, answers Answers) (bool, error) {
	if expr == "" {
		return true, nil
	}
	t, err := parseCondition(expr)
	if err != nil {
		return false, err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, answers.templateData()); err != nil {
		return false, fmt.Errorf("condition %q: %w", expr, err)
	}
	return out.String() == "true", nil
}

// forbidden returns the first rule the answers break, or nil.
func (b *Blueprint) forbidden(answers Answers) (*Rule, error) {
	for i := range b.Rules {
		hit, err := evalCondition(b.Rules[i].When, answers)
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
		ok, err := evalCondition(f.When, answers)
		if err != nil {
			return nil, err
		}
		if ok {
			sets = append(sets, f)
		}
	}
	return sets, nil
}
