// Command matrix answers the proof scripts' questions about a blueprint
// straight from its manifest, so that scripts/matrix.sh, e2e.sh, newcomer.sh
// and bench-app.sh never re-encode a choice:
//
//	matrix all                every combination: NAME<TAB>FLAGS<TAB>FORBIDDEN-MESSAGE
//	                          (the message column is empty for allowed ones)
//	matrix pairwise           a pairwise-covering subset of the allowed ones: NAME<TAB>FLAGS
//	matrix values QUESTION    the values of a choice question, one per line
//	matrix pin NAME           the manifest's pinned requirement NAME==VERSION
//	matrix services RECORD    the servers a generated project's proofs start:
//	                          SETTING<TAB>SERVER per line, from the chosen
//	                          choices' setting and server attributes
//	matrix facts RECORD       the project's answers and its choices' attributes
//	                          as shell assignments (answer_Q=..., choice_Q_ATTR=...)
//	matrix generate VERSION DIR [--QUESTION VALUE]...
//	                          the project a released version generates (from its
//	                          frozen archive; defaults for what is not given), in
//	                          DIR, committed with git: what that release's rampart
//	                          new --yes wrote
//
// RECORD is a generated project's .rampart.yaml; its blueprint is the one
// the record names. The others read -blueprint (default flask).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

const usage = "usage: matrix [-blueprint NAME] all | pairwise | values QUESTION | pin NAME | services RECORD | facts RECORD | generate VERSION DIR [--QUESTION VALUE]..."

func main() {
	name := flag.String("blueprint", "flask", "the blueprint to read (commands taking RECORD read the record's)")
	flag.Usage = func() { fmt.Fprintln(os.Stderr, usage) }
	flag.Parse()
	if err := run(*name, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "matrix:", err)
		// generate exits 2, as rampart new does, only for answers the
		// release refuses; any other failure is 1.
		if flag.Arg(0) == "generate" && !errors.As(err, new(*generator.InputError)) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

func run(name string, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no command; %s", usage)
	}
	want := map[string]int{"all": 1, "pairwise": 1, "values": 2, "pin": 2, "services": 2, "facts": 2}
	if args[0] == "generate" && len(args) >= 3 && len(args)%2 == 1 {
		return generateRelease(name, args[1], args[2], args[3:])
	}
	if n, ok := want[args[0]]; !ok || len(args) != n {
		return fmt.Errorf("got %q; %s", args, usage)
	}
	// "(devel)" skips the minimum-version check: this tool is built from the
	// same tree as the manifests.
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	if err != nil {
		return err
	}
	out := os.Stdout
	switch args[0] {
	case "services", "facts":
		b, record, err := readRecord(all, args[1])
		if err != nil {
			return err
		}
		if args[0] == "services" {
			return printServices(out, b, record.Answers)
		}
		return printFacts(out, b, record.Answers)
	}
	b := all[name]
	if b == nil {
		return fmt.Errorf("no blueprint %q (have %s)", name, strings.Join(generator.SortedNames(all), ", "))
	}
	switch args[0] {
	case "values":
		return printValues(out, b, args[1])
	case "pin":
		return printPin(out, b, args[1])
	}
	return printCombinations(out, b, args[0] == "pairwise")
}
