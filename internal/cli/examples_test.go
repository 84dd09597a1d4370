package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/internal/iostreams"
	"github.com/rampart-dev/rampart/templates"
)

// example is one documented `rampart new` command line.
type example struct {
	source string   // where it is documented
	line   string   // as written
	args   []string // its arguments, starting with "new"
}

// Every `rampart new` example in the command's help and in README.md runs
// through the real command with --dry-run, in a fresh directory holding
// whatever files it reads, and exits 0. An example without --yes or
// --answers is the interactive one: it runs on a fake terminal.
func TestEveryDocumentedExampleRuns(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	help := helpExamples(t)
	fromReadme := readmeExamples(t, string(readme))
	if len(help) < 4 || len(fromReadme) < 4 {
		t.Fatalf("found %d help and %d README examples; has the format changed?", len(help), len(fromReadme))
	}
	for _, group := range [][]example{help, fromReadme} {
		for i, ex := range group {
			t.Run(ex.source+": "+strings.Join(ex.args, " "), func(t *testing.T) {
				dir := t.TempDir()
				provideAnswersFile(t, dir, ex.args, group[:i])
				interactive := !slices.Contains(ex.args, "--yes") && !slices.Contains(ex.args, "--answers")
				var p *fakePrompter
				if interactive {
					p = &fakePrompter{}
				}
				r := run(t, dir, interactive, p, append(slices.Clone(ex.args), "--dry-run")...)
				if r.code != ExitOK {
					t.Fatalf("exit %d: %s", r.code, r.errOut)
				}
				if interactive && len(p.asked) == 0 {
					t.Fatal("documented as asking questions, but asked none")
				}
			})
		}
	}
}

func helpExamples(t *testing.T) []example {
	t.Helper()
	io, _, _, _ := iostreams.Test()
	f := &Factory{IO: io, Blueprints: func() (map[string]*generator.Blueprint, error) {
		return generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	}}
	var examples []example
	for _, line := range strings.Split(NewCmdNew(f, nil).Example, "\n") {
		if args := newArgs(t, line); args != nil {
			examples = append(examples, example{source: "help", line: strings.TrimSpace(line), args: args})
		}
	}
	return examples
}

// readmeExamples takes the `rampart new` and `go run . new` commands of
// the README's sh blocks, with continued lines joined.
func readmeExamples(t *testing.T, readme string) []example {
	t.Helper()
	var examples []example
	inShell := false
	pending := ""
	for _, line := range strings.Split(readme, "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			inShell = true
			continue
		case strings.HasPrefix(line, "```"):
			inShell = false
			continue
		case !inShell:
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending += cont
			continue
		}
		line, pending = pending+line, ""
		if args := newArgs(t, line); args != nil {
			examples = append(examples, example{source: "README", line: strings.TrimSpace(line), args: args})
		}
	}
	return examples
}

// newArgs returns the arguments of a `rampart new` command line from
// "new" on, or nil for any other line.
func newArgs(t *testing.T, line string) []string {
	t.Helper()
	words, err := shellWords(line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	for _, prefix := range [][]string{{"rampart", "new"}, {"./rampart", "new"}, {"go", "run", ".", "new"}} {
		if len(words) >= len(prefix) && slices.Equal(words[:len(prefix)], prefix) {
			return words[len(prefix)-1:]
		}
	}
	return nil
}

// shellWords splits a line as a POSIX shell would for the quoting the
// documentation uses: single and double quotes, backslashes, # comments.
func shellWords(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, word.String()), false
				word.Reset()
			}
		case c == '#' && !inWord:
			return words, nil
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			word.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`+"`", line[i+1]) >= 0 {
					i++
				}
				word.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, fmt.Errorf("unterminated double quote")
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			word.WriteByte(line[i])
			inWord = true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`  rampart new x --description 'It'"'"'s "q"' a\ b "d\"e" # comment`)
	want := []string{"rampart", "new", "x", "--description", `It's "q"`, "a b", `d"e`}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}

// provideAnswersFile makes the --answers file an example reads: by running
// for real the earlier example that writes the project holding it, else by
// generating a default project there.
func provideAnswersFile(t *testing.T, dir string, args []string, earlier []example) {
	t.Helper()
	i := slices.Index(args, "--answers")
	if i < 0 || i+1 == len(args) {
		return
	}
	project := filepath.Clean(filepath.Dir(args[i+1]))
	maker := []string{"new", "previous", "--output", project, "--yes"}
	for _, ex := range earlier {
		if filepath.Clean(projectDir(ex.args)) == project {
			maker = slices.Clone(ex.args)
		}
	}
	if r := run(t, dir, false, nil, append(maker, "--no-git")...); r.code != ExitOK {
		t.Fatalf("making %s with %q: exit %d: %s", args[i+1], maker, r.code, r.errOut)
	}
}

// projectDir is where an example's project goes: --output, else NAME.
func projectDir(args []string) string {
	for i, a := range args {
		if (a == "--output" || a == "-o") && i+1 < len(args) {
			return args[i+1]
		}
	}
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		return args[1]
	}
	return ""
}
