package generator_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

func TestEveryElseServesOneValueOrSaysWhich(t *testing.T) {
	problems, err := flaskBlueprint(t).CheckBranches()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// withChoice returns the flask manifest with one more choice for question,
// inserted after the choice after.
func withChoice(t *testing.T, question, after, value, attributes string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../blueprints/flask.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	q := strings.Index(text, "\n  - name: "+question+"\n")
	anchor := "\n      - value: " + after + "\n"
	i := strings.Index(text[q:], anchor)
	if q < 0 || i < 0 {
		t.Fatalf("no choice %s of %s in the manifest", after, question)
	}
	at := q + i + 1
	entry := "      - value: " + value + "\n        help: a choice added by a test\n"
	if attributes != "" {
		entry += "        attributes: " + attributes + "\n"
	}
	return []byte(text[:at] + entry + text[at:])
}

// documentedPlaces reads a list of template paths from docs/adding-a-choice.md,
// between "<!-- places: TITLE -->" and "<!-- end -->".
func documentedPlaces(t *testing.T, title string) []string {
	t.Helper()
	raw, err := os.ReadFile("../docs/adding-a-choice.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "<!-- places: "+title+" -->\n")
	block, _, closed := strings.Cut(rest, "<!-- end -->")
	if !ok || !closed {
		t.Fatalf("docs/adding-a-choice.md has no list %q", title)
	}
	var places []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		if p := strings.Trim(strings.TrimPrefix(line, "- "), "`"); p != "" {
			places = append(places, p)
		}
	}
	return places
}

// filesNamed is the sorted, distinct template paths of problems.
func filesNamed(problems []generator.BranchProblem) []string {
	var files []string
	for _, p := range problems {
		file, _, _ := strings.Cut(p.Where, ":")
		if !slices.Contains(files, file) {
			files = append(files, file)
		}
	}
	slices.Sort(files)
	return files
}

func TestANewChoiceIsNamedWhereverATemplateMustDecide(t *testing.T) {
	for _, c := range []struct {
		question, after, value, attributes string
		documented                         string // the list in docs/adding-a-choice.md, if any
	}{
		{"cache", "memcached", "valkey", "{label: Valkey, protocol: redis, setting: REDIS_URL, server: valkey}", "cache with an existing protocol"},
		{"cache", "memcached", "hazelcast", "{label: Hazelcast, protocol: hazelcast, setting: HAZELCAST_URL, server: hazelcast}", "cache with a new protocol"},
		{"ci", "gitlab", "woodpecker", "{label: Woodpecker CI, host: Codeberg, registry: Codeberg Container Registry, pipeline: .woodpecker.yml, push_report: \"The push step's log\"}", ""},
		{"auth", "jwt", "saml", "{client: browser, login: provider, mail: false, two_factor: false}", ""},
		{"database", "sqlite", "cockroach", "{label: CockroachDB, setting: DATABASE_URL, server: cockroach, scheme: cockroachdb}", ""},
		{"deploy", "vm", "nomad", "{label: Nomad, proxy: \"\", proxy_config: \"\"}", ""},
	} {
		b, err := generator.ParseBlueprint(withChoice(t, c.question, c.after, c.value, c.attributes), templates.FS)
		if err != nil {
			t.Fatal(err)
		}
		problems, err := b.CheckBranches()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Logf("  %s", p)
			// Every place names the new value, so the contributor knows why.
			if !strings.Contains(p.Message, c.value) {
				t.Errorf("%s=%s: %s does not name the new value", c.question, c.value, p)
			}
		}
		named := filesNamed(problems)
		if c.documented != "" {
			if want := documentedPlaces(t, c.documented); !slices.Equal(named, want) {
				t.Errorf("%s=%s: go test names %q, docs/adding-a-choice.md (%s) lists %q; update the doc",
					c.question, c.value, named, c.documented, want)
			}
		} else if len(problems) == 0 {
			t.Errorf("%s=%s: no template was named, but every %s else serves a fixed set of values", c.question, c.value, c.question)
		}
		t.Logf("%s=%s: %d places in %d files", c.question, c.value, len(problems), len(named))
	}
}
