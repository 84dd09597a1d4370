package matrix_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/internal/matrix"
	"github.com/rampart-dev/rampart/templates"
)

func flask(t *testing.T) *generator.Blueprint {
	t.Helper()
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "v1.0.0-test")
	if err != nil {
		t.Fatal(err)
	}
	return all["flask"]
}

func TestAllEnumeratesTheManifestAndMarksForbiddenCombinations(t *testing.T) {
	b := flask(t)
	all, err := matrix.All(b)
	if err != nil {
		t.Fatal(err)
	}
	want := 1
	for _, q := range b.Questions {
		if q.Kind == generator.KindChoice {
			want *= len(q.Choices)
		}
	}
	if len(all) != want {
		t.Fatalf("got %d combinations, want the full product %d", len(all), want)
	}
	seen := map[string]bool{}
	wantAllowed := 0
	for _, c := range all {
		if seen[c.Name()] {
			t.Errorf("%s listed twice", c.Name())
		}
		seen[c.Name()] = true
		values := map[string]string{}
		for _, ch := range c.Choices {
			values[ch.Question] = ch.Value
		}
		// Accounts need a database, and SQLite cannot live in Kubernetes
		// pods: exactly these are forbidden.
		accounts := values["database"] == "none" && values["auth"] != "none"
		sqliteInPods := values["database"] == "sqlite" && values["deploy"] == "kubernetes"
		if !accounts && !sqliteInPods {
			wantAllowed++
		}
		if (c.Forbidden != "") != (accounts || sqliteInPods) {
			t.Errorf("%s: forbidden = %q, want forbidden %v", c.Name(), c.Forbidden, accounts || sqliteInPods)
		}
		if accounts && !strings.Contains(c.Forbidden, "--auth "+values["auth"]) {
			t.Errorf("%s: message %q does not name the auth choice", c.Name(), c.Forbidden)
		}
		if sqliteInPods && !accounts && !strings.Contains(c.Forbidden, "--deploy compose or vm") {
			t.Errorf("%s: message %q does not say what to choose", c.Name(), c.Forbidden)
		}
	}
	if got := len(matrix.Allowed(all)); got != wantAllowed || got == 0 {
		t.Errorf("%d allowed combinations, want %d (every combination the rules above allow)", got, wantAllowed)
	}
}

func TestPairwiseCoversEveryAllowedPairStartingWithTheDefaults(t *testing.T) {
	b := flask(t)
	all, err := matrix.All(b)
	if err != nil {
		t.Fatal(err)
	}
	allowed := matrix.Allowed(all)
	picked := matrix.Pairwise(allowed, matrix.Defaults(b))
	if picked[0].Name() != "postgres-redis-session-kubernetes-github" {
		t.Errorf("first pick %s, want the defaults", picked[0].Name())
	}
	covered := map[string]bool{}
	for _, c := range picked {
		if c.Forbidden != "" {
			t.Errorf("picked forbidden %s", c.Name())
		}
		for _, p := range c.Pairs() {
			covered[pairKey(p.First(), p.Second())] = true
		}
	}
	for _, c := range allowed {
		for _, p := range c.Pairs() {
			if !covered[pairKey(p.First(), p.Second())] {
				t.Errorf("pair %v + %v (from %s) not covered", p.First(), p.Second(), c.Name())
			}
		}
	}
	if len(picked) >= len(allowed) {
		t.Errorf("pairwise picked %d of %d: no saving", len(picked), len(allowed))
	}
	// Deterministic: the same list every time.
	again := matrix.Pairwise(allowed, matrix.Defaults(b))
	for i := range picked {
		if picked[i].Name() != again[i].Name() {
			t.Fatalf("pick %d differs between runs: %s, %s", i, picked[i].Name(), again[i].Name())
		}
	}
}

func TestPairwiseOnAToyMatrix(t *testing.T) {
	// Two questions of two values: every combination is its own pair.
	c := func(a, b string) matrix.Combination {
		return matrix.Combination{Choices: []matrix.Choice{{"x", a}, {"y", b}}}
	}
	allowed := []matrix.Combination{c("1", "1"), c("1", "2"), c("2", "1"), c("2", "2")}
	if got := len(matrix.Pairwise(allowed, c("9", "9"))); got != 4 {
		t.Errorf("picked %d, want all 4", got)
	}
}

func TestFlagsAndName(t *testing.T) {
	c := matrix.Combination{Choices: []matrix.Choice{{"database", "mysql"}, {"auth", "oidc"}}}
	if got := strings.Join(c.Flags(), " "); got != "--database mysql --auth oidc" {
		t.Errorf("flags %q", got)
	}
	if c.Name() != "mysql-oidc" {
		t.Errorf("name %q", c.Name())
	}
}

func pairKey(a, b matrix.Choice) string {
	return a.Question + "=" + a.Value + "," + b.Question + "=" + b.Value
}

// Every server a choice names (its server attribute) is one the proof
// scripts can start: scripts/services.sh's server_url knows it.
func TestEveryServerAChoiceNamesCanBeStarted(t *testing.T) {
	raw, err := os.ReadFile("../../scripts/services.sh")
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(raw), "\nserver_url() {\n")
	body, _, closed := strings.Cut(body, "\n}\n")
	if !ok || !closed {
		t.Fatal("scripts/services.sh has no server_url function")
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+([a-z0-9_-]+)\)`).FindAllStringSubmatch(body, -1) {
		known[m[1]] = true
	}
	if len(known) < 2 {
		t.Fatalf("read only %v from server_url", known)
	}
	for _, q := range flask(t).Questions {
		for _, c := range q.Choices {
			server, _ := c.Attributes["server"].(string)
			if server != "" && !known[server] {
				t.Errorf("%s=%s names server %q, which scripts/services.sh cannot start (it knows %v)", q.Name, c.Value, server, known)
			}
		}
	}
}
