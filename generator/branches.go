package generator

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"text/template/parse"
)

// A BranchProblem is a place in a template that must decide what a choice
// value gets: an {{else}} reached by more than one value of a choice
// question, which a value added to the manifest would silently fall into.
type BranchProblem struct {
	Where   string // template path:line:column
	Message string
}

func (p BranchProblem) String() string { return p.Where + ": " + p.Message }

// ElseMarker opens the comment that declares which values an else serves,
// the first thing inside the else:
//
//	<% else %><%/* else: cache=memcached,none */%>
//
// Several questions are separated by spaces; "*" stands for every value,
// present and future, and says the branch does not depend on that answer.
const ElseMarker = "else:"

// CheckBranches walks every template of the blueprint and reports each if
// chain whose final else is reached, in the combinations the rules allow
// and the enclosing conditions let through, by more than one value of a
// choice question the chain compares, unless a marker declares exactly those
// values. A marker that no longer matches is reported too. It is exhaustive
// over the combinations, so rampart's tests run it, not every load.
func (b *Blueprint) CheckBranches() ([]BranchProblem, error) {
	var allowed []Answers
	err := b.ForEachCombination(func(a Answers) error {
		rule, err := b.forbidden(a)
		if err == nil && rule == nil {
			allowed = append(allowed, a)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var problems []BranchProblem
	seen := map[string]bool{}
	for _, set := range b.Files {
		var reach []int
		for i, a := range allowed {
			ok, err := b.holds(set.When, a)
			if err != nil {
				return nil, err
			}
			if ok {
				reach = append(reach, i)
			}
		}
		err := fs.WalkDir(b.templates, set.Src, func(src string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(src, TemplateSuffix) || seen[src] {
				return err
			}
			seen[src] = true
			raw, err := fs.ReadFile(b.templates, src)
			if err != nil {
				return err
			}
			// Comments kept: the markers are comments.
			tree := parse.New(src)
			tree.Mode = parse.ParseComments | parse.SkipFuncCheck
			if _, err := tree.Parse(string(raw), LeftDelim, RightDelim, map[string]*parse.Tree{}); err != nil {
				return fmt.Errorf("parsing %s: %w", src, err)
			}
			c := branchChecker{b: b, combos: allowed, tree: tree, continued: map[*parse.IfNode]bool{}}
			c.walk(c.tree.Root, reach, false)
			problems = append(problems, c.problems...)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("file set %q: %w", set.Src, err)
		}
	}
	return problems, nil
}

type branchChecker struct {
	b         *Blueprint
	combos    []Answers
	tree      *parse.Tree
	continued map[*parse.IfNode]bool
	problems  []BranchProblem
}

// walk visits n with reach, the combinations that get there; rebound says
// the dot no longer holds the answers (inside range or with).
func (c *branchChecker) walk(n parse.Node, reach []int, rebound bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, child := range n.Nodes {
			c.walk(child, reach, rebound)
		}
	case *parse.IfNode:
		if !c.continued[n] {
			c.checkChain(n, reach, rebound)
		}
		if next, ok := elseIf(n.ElseList); ok {
			c.continued[next] = true // part of n's chain, checked with it
		}
		cond := c.compile(n.Pipe, rebound)
		thenReach, elseReach := reach, reach
		if cond != nil {
			thenReach, elseReach = c.split(reach, cond)
		}
		c.walk(n.List, thenReach, rebound)
		c.walk(n.ElseList, elseReach, rebound)
	case *parse.RangeNode:
		c.walk(n.List, reach, true)
		c.walk(n.ElseList, reach, rebound)
	case *parse.WithNode:
		c.walk(n.List, reach, true)
		c.walk(n.ElseList, reach, rebound)
	}
}

func (c *branchChecker) split(reach []int, cond func(Answers) bool) (yes, no []int) {
	for _, i := range reach {
		if cond(c.combos[i]) {
			yes = append(yes, i)
		} else {
			no = append(no, i)
		}
	}
	return yes, no
}

// checkChain checks the if / else if ... / else chain that starts at n; a
// chain is checked once, from its first if.
func (c *branchChecker) checkChain(n *parse.IfNode, reach []int, rebound bool) {
	if n.ElseList == nil {
		return
	}
	var reads []read
	remaining := reach
	node := n
	for {
		cond := c.compile(node.Pipe, rebound)
		if cond == nil {
			return // a condition over more than choice answers: not decidable here
		}
		reads = appendReads(reads, node.Pipe, c.b)
		_, remaining = c.split(remaining, cond)
		if node.ElseList == nil {
			return // the chain has no final else
		}
		next, ok := elseIf(node.ElseList)
		if !ok {
			break
		}
		node = next
	}
	served := map[string][]string{}
	for _, r := range reads {
		for _, v := range r.values {
			for _, i := range remaining {
				if r.get(c.combos[i]) == v {
					served[r.name] = append(served[r.name], v)
					break
				}
			}
		}
	}
	declared, markerErr := elseMarker(node.ElseList)
	where, _ := c.tree.ErrorContext(n)
	if markerErr != "" {
		c.problems = append(c.problems, BranchProblem{where, markerErr})
		return
	}
	for _, r := range reads {
		q := r.name
		values, isDeclared := declared[q]
		switch {
		case isDeclared && len(values) == 1 && values[0] == "*":
		case isDeclared && !slices.Equal(values, served[q]):
			c.problems = append(c.problems, BranchProblem{where, fmt.Sprintf(
				"the else of %q declares %s=%s but serves %s=%s; update the marker or give the new values their own branch",
				"if "+n.Pipe.String(), q, strings.Join(values, ","), q, strings.Join(served[q], ","))})
		case !isDeclared && len(served[q]) > 1:
			c.problems = append(c.problems, BranchProblem{where, fmt.Sprintf(
				"the else of %q serves %s=%s: give each value its own branch, read a choice attribute instead, or declare it with %s/* %s %s=%s */%s",
				"if "+n.Pipe.String(), q, strings.Join(served[q], ","), LeftDelim, ElseMarker, q, strings.Join(served[q], ","), RightDelim)})
		}
	}
	for _, q := range slices.Sorted(maps.Keys(declared)) {
		if !slices.ContainsFunc(reads, func(r read) bool { return r.name == q }) {
			c.problems = append(c.problems, BranchProblem{where, fmt.Sprintf("the else marker declares %s, which the chain does not compare", q)})
		}
	}
}

// elseIf reports whether an else list is an "else if": a list holding one if.
func elseIf(list *parse.ListNode) (*parse.IfNode, bool) {
	if list == nil || len(list.Nodes) != 1 {
		return nil, false
	}
	n, ok := list.Nodes[0].(*parse.IfNode)
	return n, ok
}

// elseMarker reads the marker comment at the start of an else list.
func elseMarker(list *parse.ListNode) (map[string][]string, string) {
	declared := map[string][]string{}
	for _, n := range list.Nodes {
		if t, ok := n.(*parse.TextNode); ok && strings.TrimSpace(string(t.Text)) == "" {
			continue
		}
		comment, ok := n.(*parse.CommentNode)
		if !ok {
			return declared, ""
		}
		text := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(comment.Text, "/*"), "*/"))
		rest, ok := strings.CutPrefix(text, ElseMarker)
		if !ok {
			return declared, ""
		}
		for _, field := range strings.Fields(rest) {
			q, values, ok := strings.Cut(field, "=")
			if !ok || q == "" || values == "" {
				return nil, fmt.Sprintf("else marker %q: want question=value,value ...", text)
			}
			declared[q] = strings.Split(values, ",")
		}
		return declared, ""
	}
	return declared, ""
}

// A read is what a condition compares: a choice answer, or an attribute of
// the chosen choice, with the values it can take in manifest order.
type read struct {
	name    string // cache, or cache.protocol
	values  []string
	get     func(Answers) string
	boolean bool // an attribute every choice gives as true or false
}

// branchRead resolves a field path (cache, or choice cache protocol).
func (b *Blueprint) branchRead(ident []string) (read, bool) {
	switch {
	case len(ident) == 1:
		q, ok := b.Question(ident[0])
		if !ok || q.Kind != KindChoice {
			return read{}, false
		}
		return read{name: q.Name, values: q.ChoiceValues(), get: func(a Answers) string { return a[q.Name] }}, true
	case len(ident) == 3 && ident[0] == "choice":
		q, ok := b.Question(ident[1])
		attr := ident[2]
		if !ok || q.Kind != KindChoice {
			return read{}, false
		}
		r := read{name: q.Name + "." + attr, boolean: true}
		for _, c := range q.Choices {
			v, ok := c.Attributes[attr]
			if !ok {
				return read{}, false
			}
			if _, isBool := v.(bool); !isBool {
				r.boolean = false
			}
			if s := fmt.Sprint(v); !slices.Contains(r.values, s) {
				r.values = append(r.values, s)
			}
		}
		r.get = func(a Answers) string {
			c, _ := q.Choice(a[q.Name])
			return fmt.Sprint(c.Attributes[attr])
		}
		return r, true
	}
	return read{}, false
}

// appendReads adds what pipe compares.
func appendReads(rs []read, pipe *parse.PipeNode, b *Blueprint) []read {
	add := func(ident []string) {
		r, ok := b.branchRead(ident)
		if ok && !slices.ContainsFunc(rs, func(x read) bool { return x.name == r.name }) {
			rs = append(rs, r)
		}
	}
	var visit func(parse.Node)
	visit = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.PipeNode:
			for _, cmd := range n.Cmds {
				visit(cmd)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				visit(a)
			}
		case *parse.FieldNode:
			add(n.Ident)
		case *parse.VariableNode:
			if n.Ident[0] == "$" {
				add(n.Ident[1:])
			}
		}
	}
	visit(pipe)
	return rs
}

// compile turns a condition made of eq, ne, and, or, not, choice answers and
// string literals into a function; anything else gives nil (undecidable).
func (c *branchChecker) compile(n parse.Node, rebound bool) func(Answers) bool {
	v := c.value(n, rebound)
	if v == nil {
		return nil
	}
	return func(a Answers) bool {
		out, _ := v(a).(bool)
		return out
	}
}

func (c *branchChecker) value(n parse.Node, rebound bool) func(Answers) any {
	switch n := n.(type) {
	case *parse.PipeNode:
		if len(n.Decl) > 0 || len(n.Cmds) != 1 {
			return nil
		}
		return c.value(n.Cmds[0], rebound)
	case *parse.StringNode:
		return func(Answers) any { return n.Text }
	case *parse.BoolNode:
		return func(Answers) any { return n.True }
	case *parse.FieldNode:
		if rebound {
			return nil
		}
		return c.answer(n.Ident)
	case *parse.VariableNode:
		if n.Ident[0] != "$" {
			return nil
		}
		return c.answer(n.Ident[1:])
	case *parse.CommandNode:
		if len(n.Args) == 1 {
			return c.value(n.Args[0], rebound)
		}
		fn, ok := n.Args[0].(*parse.IdentifierNode)
		if !ok {
			return nil
		}
		var args []func(Answers) any
		for _, a := range n.Args[1:] {
			v := c.value(a, rebound)
			if v == nil {
				return nil
			}
			args = append(args, v)
		}
		return logic(fn.Ident, args)
	}
	return nil
}

// answer reads a choice answer (.cache) or an attribute of the chosen
// choice (.choice.cache.protocol); anything else is undecidable (nil).
func (c *branchChecker) answer(ident []string) func(Answers) any {
	r, ok := c.b.branchRead(ident)
	if !ok {
		return nil
	}
	if r.boolean {
		// A bare boolean attribute is a condition in itself (if .choice.auth.mail).
		return func(a Answers) any { return r.get(a) == "true" }
	}
	return func(a Answers) any { return r.get(a) }
}

// logic is text/template's eq, ne, and, or and not over decided values.
func logic(name string, args []func(Answers) any) func(Answers) any {
	truth := func(v any) bool { b, _ := v.(bool); s, _ := v.(string); return b || s != "" }
	switch name {
	case "eq":
		if len(args) < 2 {
			return nil
		}
		return func(a Answers) any {
			first := args[0](a)
			for _, other := range args[1:] {
				if other(a) == first {
					return true
				}
			}
			return false
		}
	case "ne":
		if len(args) != 2 {
			return nil
		}
		return func(a Answers) any { return args[0](a) != args[1](a) }
	case "not":
		if len(args) != 1 {
			return nil
		}
		return func(a Answers) any { return !truth(args[0](a)) }
	case "and", "or":
		return func(a Answers) any {
			for _, arg := range args {
				if truth(arg(a)) != (name == "and") {
					return name == "or"
				}
			}
			return name == "and"
		}
	}
	return nil
}
