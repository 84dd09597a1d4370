package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/internal/matrix"
)

// printCombinations prints every combination, or a pairwise-covering subset
// of the allowed ones.
func printCombinations(w io.Writer, b *generator.Blueprint, pairwise bool) error {
	combos, err := matrix.All(b)
	if err != nil {
		return err
	}
	if pairwise {
		for _, c := range matrix.Pairwise(matrix.Allowed(combos), matrix.Defaults(b)) {
			fmt.Fprintf(w, "%s\t%s\n", c.Name(), strings.Join(c.Flags(), " "))
		}
		return nil
	}
	for _, c := range combos {
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.Name(), strings.Join(c.Flags(), " "), c.Forbidden)
	}
	return nil
}

// printValues prints the values of the choice question named q.
func printValues(w io.Writer, b *generator.Blueprint, q string) error {
	for _, question := range b.Questions {
		if question.Name != q {
			continue
		}
		if question.Kind != generator.KindChoice {
			return fmt.Errorf("question %q is not a choice", q)
		}
		for _, c := range question.Choices {
			fmt.Fprintln(w, c.Value)
		}
		return nil
	}
	return fmt.Errorf("no question %q in blueprint %s", q, b.Name)
}

// printPin prints the manifest's pinned requirement for a package, such as
// "ruff==0.15.2": the scripts' tools match the versions the projects pin.
func printPin(w io.Writer, b *generator.Blueprint, name string) error {
	if b.Python == nil {
		return fmt.Errorf("blueprint %s pins no Python requirements", b.Name)
	}
	for _, r := range append(append([]generator.Requirement{}, b.Python.Dependencies...), b.Python.DevDependencies...) {
		if pinned, _, ok := strings.Cut(r.Requirement, "=="); ok && strings.EqualFold(pinned, name) {
			fmt.Fprintln(w, r.Requirement)
			return nil
		}
	}
	return fmt.Errorf("blueprint %s pins no %q", b.Name, name)
}

// readRecord reads a generated project's answers record and the blueprint it names.
func readRecord(all map[string]*generator.Blueprint, path string) (*generator.Blueprint, generator.Record, error) {
	var record generator.Record
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, record, err
	}
	if err := yaml.Unmarshal(raw, &record); err != nil {
		return nil, record, fmt.Errorf("%s: %w", path, err)
	}
	b := all[record.Blueprint]
	if b == nil {
		return nil, record, fmt.Errorf("%s: no blueprint %q (have %s)", path, record.Blueprint, strings.Join(generator.SortedNames(all), ", "))
	}
	return b, record, nil
}

// printServices prints each server a project's proofs need and the setting
// that points the app at it.
func printServices(w io.Writer, b *generator.Blueprint, answers generator.Answers) error {
	for _, q := range b.Questions {
		c, ok := q.Choice(answers[q.Name])
		if q.Kind != generator.KindChoice || !ok {
			continue
		}
		server, _ := c.Attributes["server"].(string)
		setting, _ := c.Attributes["setting"].(string)
		if server == "" {
			continue
		}
		if setting == "" {
			return fmt.Errorf("%s=%s has server %s but no setting to point the app at it", q.Name, c.Value, server)
		}
		fmt.Fprintf(w, "%s\t%s\n", setting, server)
	}
	return nil
}

var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// printFacts prints a project's answers and its chosen choices' attributes
// as shell assignments, for the scripts to eval: answer_QUESTION='value' and
// choice_QUESTION_ATTRIBUTE='value', sorted. Values are single-quoted.
func printFacts(w io.Writer, b *generator.Blueprint, answers generator.Answers) error {
	facts := map[string]string{}
	for _, q := range b.Questions {
		if !shellName.MatchString(q.Name) {
			return fmt.Errorf("question %q is not a shell name", q.Name)
		}
		value, ok := answers[q.Name]
		if !ok {
			return fmt.Errorf("the record has no answer to %q", q.Name)
		}
		facts["answer_"+q.Name] = fmt.Sprint(value)
		c, ok := q.Choice(value)
		if q.Kind != generator.KindChoice {
			continue
		}
		if !ok {
			return fmt.Errorf("%s=%v is not a choice of blueprint %s", q.Name, value, b.Name)
		}
		for attribute, v := range c.Attributes {
			if !shellName.MatchString(attribute) {
				return fmt.Errorf("%s attribute %q is not a shell name", q.Name, attribute)
			}
			facts["choice_"+q.Name+"_"+attribute] = fmt.Sprint(v)
		}
	}
	names := make([]string, 0, len(facts))
	for name := range facts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "%s=%s\n", name, shellQuote(facts[name]))
	}
	return nil
}

// shellQuote single-quotes s for sh, closing and reopening around each quote.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
