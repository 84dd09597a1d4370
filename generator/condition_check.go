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
// It returns the questions the condition reads, in order of appearance.
func (b *Blueprint) checkCondition(expr string) (reads []string, err error) {
	t, err := parseCondition(expr)
	if err != nil {
		return nil, err
	}
	err = walkCondition(t.Tree.Root, func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.CommandNode:
			return b.checkComparison(expr, n)
		case *parse.FieldNode:
			name := n.Ident[0]
			if name == "choice" {
				r, ok := b.branchRead(n.Ident)
				if !ok {
					return fmt.Errorf("condition %q reads %s, which is not .choice.QUESTION.ATTRIBUTE of a choice question and an attribute its choices declare", expr, n)
				}
				name, _, _ = strings.Cut(r.name, ".")
			} else if _, ok := b.Question(name); !ok {
				return fmt.Errorf("condition %q reads .%s, which is not a question (questions: %s)", expr, name, strings.Join(b.questionNames(), ", "))
			}
			if !slices.Contains(reads, name) {
				reads = append(reads, name)
			}
		}
		return nil
	})
	return reads, err
}

// walkCondition calls visit on n and every node under it that a condition
// can hold, stopping at the first error.
func walkCondition(n parse.Node, visit func(parse.Node) error) error {
	if n == nil {
		return nil
	}
	if err := visit(n); err != nil {
		return err
	}
	var children []parse.Node
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			children = n.Nodes
		}
	case *parse.IfNode:
		children = []parse.Node{n.Pipe, n.List}
		if n.ElseList != nil {
			children = append(children, n.ElseList)
		}
	case *parse.ActionNode:
		children = []parse.Node{n.Pipe}
	case *parse.PipeNode:
		for _, c := range n.Cmds {
			children = append(children, c)
		}
	case *parse.CommandNode:
		children = n.Args
	}
	for _, c := range children {
		if err := walkCondition(c, visit); err != nil {
			return err
		}
	}
	return nil
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
	var r read
	var literals []string
	for _, a := range cmd.Args[1:] {
		switch a := a.(type) {
		case *parse.FieldNode:
			r, _ = b.branchRead(a.Ident)
		case *parse.StringNode:
			literals = append(literals, a.Text)
		}
	}
	if r.name == "" {
		return nil
	}
	for _, lit := range literals {
		if !slices.Contains(r.values, lit) {
			what := "choices" // of a question; an attribute has values
			if strings.Contains(r.name, ".") {
				what = "values"
			}
			field := r.name
			if what == "values" {
				field = "choice." + r.name
			}
			return fmt.Errorf("condition %q compares .%s with %q, which is not one of its %s (%s)", expr, field, lit, what, strings.Join(r.values, ", "))
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
