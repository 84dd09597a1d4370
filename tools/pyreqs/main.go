// Command pyreqs prints every distinct Python requirement set a blueprint's
// allowed combinations resolve into locks (the runtime set, and the runtime plus
// development set), one per line, requirements separated by spaces, for
// scripts/lock-python.sh to resolve each exactly as `make lock` would.
//
//	go run ./tools/pyreqs [-blueprint NAME]
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

func main() {
	name := flag.String("blueprint", "flask", "the blueprint whose requirement sets to print")
	flag.Parse()
	if err := run(*name); err != nil {
		fmt.Fprintln(os.Stderr, "pyreqs:", err)
		os.Exit(2)
	}
}

func run(name string) error {
	// "(devel)" skips the minimum-version check: this tool is built from the
	// same tree as the manifests.
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	if err != nil {
		return err
	}
	b := all[name]
	if b == nil {
		return fmt.Errorf("no blueprint %q (have %s)", name, strings.Join(generator.SortedNames(all), ", "))
	}
	if b.Python == nil {
		return fmt.Errorf("blueprint %q has no python section", name)
	}
	seen := map[string]bool{}
	err = b.ForEachCombination(func(answers generator.Answers) error {
		if b.CheckRules(answers) != nil {
			return nil // a forbidden combination is never generated
		}
		runtime, development, err := b.Python.LockInputs(answers)
		if err != nil {
			return err
		}
		for _, set := range [][]string{runtime, development} {
			seen[strings.Join(slices.Sorted(slices.Values(set)), " ")] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, line := range slices.Sorted(maps.Keys(seen)) {
		fmt.Println(line)
	}
	return nil
}
