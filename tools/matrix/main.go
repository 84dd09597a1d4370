// Command matrix prints a blueprint's answer combinations, straight from its
// manifest, for scripts/matrix.sh:
//
//	go run ./tools/matrix all        every combination: NAME<TAB>FLAGS<TAB>FORBIDDEN-MESSAGE
//	go run ./tools/matrix pairwise   a pairwise-covering subset of the allowed ones: NAME<TAB>FLAGS
//
// The message column is empty for allowed combinations.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/internal/matrix"
	"github.com/rampart-dev/rampart/templates"
)

func main() {
	name := flag.String("blueprint", "flask", "the blueprint whose combinations to print")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: matrix [-blueprint NAME] all|pairwise")
	}
	flag.Parse()
	if err := run(*name, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "matrix:", err)
		os.Exit(2)
	}
}

func run(name string, args []string) error {
	if len(args) != 1 || (args[0] != "all" && args[0] != "pairwise") {
		return fmt.Errorf("want one argument, all or pairwise; got %q", args)
	}
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
	combos, err := matrix.All(b)
	if err != nil {
		return err
	}
	switch args[0] {
	case "all":
		for _, c := range combos {
			fmt.Printf("%s\t%s\t%s\n", c.Name(), strings.Join(c.Flags(), " "), c.Forbidden)
		}
	case "pairwise":
		for _, c := range matrix.Pairwise(matrix.Allowed(combos), matrix.Defaults(b)) {
			fmt.Printf("%s\t%s\n", c.Name(), strings.Join(c.Flags(), " "))
		}
	}
	return nil
}
