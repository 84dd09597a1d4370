package generator_test

import (
	"os"
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

func TestANewChoiceIsNamedWhereverATemplateMustDecide(t *testing.T) {
	for _, c := range []struct{ question, after, value, attributes string }{
		{"cache", "memcached", "valkey", "{label: Valkey, protocol: redis, setting: REDIS_URL, server: valkey}"},
		{"cache", "memcached", "hazelcast", "{label: Hazelcast, protocol: hazelcast, setting: HAZELCAST_URL, server: hazelcast}"},
		{"ci", "gitlab", "woodpecker", ""},
		{"auth", "jwt", "saml", ""},
		{"database", "sqlite", "cockroach", "{label: CockroachDB, server: cockroach}"},
		{"deploy", "vm", "nomad", ""},
	} {
		b, err := generator.ParseBlueprint(withChoice(t, c.question, c.after, c.value, c.attributes), templates.FS)
		if err != nil {
			t.Fatal(err)
		}
		problems, err := b.CheckBranches()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s=%s: %d places", c.question, c.value, len(problems))
		for _, p := range problems {
			t.Log("  ", p.Where)
		}
	}
}
