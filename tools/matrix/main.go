// Command matrix prints a blueprint's answer combinations, straight from its
// manifest, for scripts/matrix.sh:
//
//	go run ./tools/matrix all        every combination: NAME<TAB>FLAGS<TAB>FORBIDDEN-MESSAGE
//	go run ./tools/matrix pairwise   a pairwise-covering subset of the allowed ones: NAME<TAB>FLAGS
//	go run ./tools/matrix services PROJECT/.rampart.yaml
//	                                 the servers the project's proofs start: SETTING<TAB>SERVER
//	                                 per line, from the chosen choices' setting and server attributes
//
// The message column is empty for allowed combinations.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/internal/matrix"
	"github.com/rampart-dev/rampart/templates"
)

func main() {
	name := flag.String("blueprint", "flask", "the blueprint whose combinations to print")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: matrix [-blueprint NAME] all|pairwise|services RECORD")
	}
	flag.Parse()
	if err := run(*name, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "matrix:", err)
		os.Exit(2)
	}
}

func run(name string, args []string) error {
	if len(args) == 2 && args[0] == "services" {
		return services(args[1])
	}
	if len(args) != 1 || (args[0] != "all" && args[0] != "pairwise") {
		return fmt.Errorf("want all, pairwise or services RECORD; got %q", args)
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

// services prints, for the project whose answers record is at path, each
// server its proofs need and the setting that points the app at it.
func services(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var record generator.Record
	if err := yaml.Unmarshal(raw, &record); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	if err != nil {
		return err
	}
	b := all[record.Blueprint]
	if b == nil {
		return fmt.Errorf("%s: no blueprint %q (have %s)", path, record.Blueprint, strings.Join(generator.SortedNames(all), ", "))
	}
	for _, q := range b.Questions {
		c, ok := q.Choice(record.Answers[q.Name])
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
		fmt.Printf("%s\t%s\n", setting, server)
	}
	return nil
}
