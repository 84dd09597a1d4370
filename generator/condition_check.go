package generator

import (
	"fmt"
	"slices"
	"strings"
	"text/template/parse"
)

// checkCondition parses expr and checks, without evaluating it, that every
// answer it reads is a question and every string it compares a choice
// answer with (eq .cache "redis") is one of that question's choices. This
// is the load-time guard against typos in a manifest; it costs one parse
// per condition, not one evaluation per combination of answers (the
// exhaustive sweep is CheckEveryCombination, which the test suite runs).
func (b *Blueprint) checkCondition(expr string) error {
	t, err := parseCondition(expr)
	if err != nil {
		return err
	}
	var problem error
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		if problem != nil || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			problem = b.checkComparison(expr, n)
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			if _, ok := b.Question(n.Ident[0]); !ok {
				problem = fmt.Errorf("condition %q reads .%s, which is not a question (questions: %s)", expr, n.Ident[0], strings.Join(b.questionNames(), ", "))
			}
		}
	}
	walk(t.Tree.Root)
	return problem
}

// checkComparison checks the literals of eq and ne against the choices of
// the one choice answer they compare.
func (b *Blueprint) checkComparison(expr string, cmd *parse.CommandNode) error {
	if len(cmd.Args) < 2 {
		return nil
	}
	fn, ok := cmd.Args[0].(*parse.IdentifierNode)
	if !ok || (fn.Ident != "eq" && fn.Ident != "ne") {
		return nil
	}
	var q Question
	var literals []string
	for _, a := range cmd.Args[1:] {
		switch a := a.(type) {
		case *parse.FieldNode:
			q, _ = b.Question(a.Ident[0])
		case *parse.StringNode:
			literals = append(literals, a.Text)
		}
	}
	if q.Kind != KindChoice {
		return nil
	}
	for _, lit := range literals {
		if !slices.Contains(q.ChoiceValues(), lit) {
			return fmt.Errorf("condition %q compares .%s with %q, which is not one of its choices (%s)", expr, q.Name, lit, strings.Join(q.ChoiceValues(), ", "))
		}
	}
	return nil
}

func (b *Blueprint) questionNames() []string {
	names := make([]string, len(b.Questions))
	for i, q := range b.Questions {
		names[i] = q.Name
	}
	return names
}
