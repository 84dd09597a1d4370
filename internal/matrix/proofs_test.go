package matrix_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/generator"
)

// The proof scripts read each project's facts from the manifest (tools/matrix
// facts) and act on a closed vocabulary of them. These tests keep that
// vocabulary and the manifest in step, so a new choice whose facts a script
// cannot act on fails here rather than being proved by nothing.

// scriptList reads the quoted words of the first match of pattern's first group.
func scriptList(t *testing.T, path, pattern string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(pattern).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatalf("%s: no match for %s", path, pattern)
	}
	var words []string
	for _, w := range regexp.MustCompile(`"([a-z_-]+)"|\b([a-z_-]+)\b`).FindAllStringSubmatch(m[1], -1) {
		words = append(words, w[1]+w[2])
	}
	if len(words) < 2 {
		t.Fatalf("%s: read only %q from %s", path, words, pattern)
	}
	return words
}

// attributeValues is every value a question's choices give an attribute.
func attributeValues(t *testing.T, b *generator.Blueprint, question, attribute string) map[string]string {
	t.Helper()
	q, ok := b.Question(question)
	if !ok {
		t.Fatalf("no question %s", question)
	}
	values := map[string]string{}
	for _, c := range q.Choices {
		v, ok := c.Attributes[attribute].(string)
		if !ok {
			t.Fatalf("%s=%s has no string attribute %s", question, c.Value, attribute)
		}
		values[c.Value] = v
	}
	return values
}

func TestEveryLogInKindIsOneTheProbesKnow(t *testing.T) {
	scripts := map[string][]string{
		"scripts/lib/live_probe.py": scriptList(t, "../../scripts/lib/live_probe.py", `(?m)^LOGINS = \(([^)]*)\)`),
		"scripts/lib/browser.mjs":   scriptList(t, "../../scripts/lib/browser.mjs", `(?m)^const LOGINS = \[([^\]]*)\]`),
	}
	// newcomer.sh's follow_readme: the pages each kind serves, one case arm each.
	var labels []string
	for _, m := range regexp.MustCompile(`(?m)^\s+([a-z_-]+)\) `).FindAllStringSubmatch(
		strings.Join(readBetween(t, "../../scripts/newcomer.sh", "case $login in\n", "\n    *)"), "\n"), -1) {
		labels = append(labels, m[1])
	}
	scripts["scripts/newcomer.sh"] = labels
	for value, login := range attributeValues(t, flask(t), "auth", "login") {
		for script, known := range scripts {
			if !slices.Contains(known, login) {
				t.Errorf("auth=%s logs in by %q, which %s does not know (it knows %q)", value, login, script, known)
			}
		}
	}
}

func TestEveryProxyADeployTargetNamesIsOneE2ERuns(t *testing.T) {
	known := scriptList(t, "../../scripts/e2e.sh", `(?m)^\s+case \$proxy in ([a-z |]+)\) ;;`)
	b := flask(t)
	proxies := attributeValues(t, b, "deploy", "proxy")
	configs := attributeValues(t, b, "deploy", "proxy_config")
	for value, proxy := range proxies {
		if (proxy == "") != (configs[value] == "") {
			t.Errorf("deploy=%s: proxy %q and proxy_config %q must be both set or both empty", value, proxy, configs[value])
		}
		if proxy != "" && !slices.Contains(known, proxy) {
			t.Errorf("deploy=%s names proxy %q, which scripts/e2e.sh's prove_proxy does not run (it runs %q)", value, proxy, known)
		}
	}
	// The configuration each names is a file of every project with that target.
	checked := map[string]bool{}
	err := b.ForEachCombination(func(answers generator.Answers) error {
		deploy := answers["deploy"]
		if configs[deploy] == "" || checked[deploy] || b.CheckRules(answers) != nil {
			return nil
		}
		checked[deploy] = true
		answers["name"], answers["package"] = "proxied", "proxied"
		plan, err := b.Render(answers, "v1.0.0-test")
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(plan.Files, func(f generator.File) bool { return f.Path == configs[deploy] }) {
			t.Errorf("deploy=%s names proxy_config %s, which its projects do not hold", deploy, configs[deploy])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readBetween is the text of path between start and end.
func readBetween(t *testing.T, path, start, end string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), start)
	body, _, closed := strings.Cut(rest, end)
	if !ok || !closed {
		t.Fatalf("%s: nothing between %q and %q", path, start, end)
	}
	return strings.Split(body, "\n")
}
