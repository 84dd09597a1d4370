package generator_test

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

// renderedPlan is one allowed combination, rendered.
type renderedPlan struct {
	answers generator.Answers
	files   map[string]string
}

// allowedPlans renders every allowed combination of the flask blueprint
// once per test process (about 3 s, 160 MB): each sweep below is a checker
// over the same renderings, not a rendering of its own.
var allowedPlans = sync.OnceValues(func() ([]renderedPlan, error) {
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, testVersion)
	if err != nil {
		return nil, err
	}
	b := all["flask"]
	var plans []renderedPlan
	forbidden := 0
	err = b.ForEachCombination(func(a generator.Answers) error {
		if b.CheckRules(a) != nil {
			forbidden++
			return nil
		}
		a["name"], a["package"], a["description"] = "combo", "combo", "d"
		plan, err := b.Render(a, testVersion)
		if err != nil {
			return fmt.Errorf("%v: %w", a, err)
		}
		files := make(map[string]string, len(plan.Files))
		for _, f := range plan.Files {
			files[f.Path] = string(f.Contents)
		}
		plans = append(plans, renderedPlan{a, files})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if total := combinationCount(b); len(plans) == 0 || len(plans)+forbidden != total {
		return nil, fmt.Errorf("rendered %d combinations and skipped %d forbidden ones, want every one of the %d", len(plans), forbidden, total)
	}
	return plans, nil
})

// forEachAllowedPlan calls check with every allowed combination of the
// flask blueprint, rendered (check must not modify files).
func forEachAllowedPlan(t *testing.T, check func(a generator.Answers, files map[string]string)) {
	t.Helper()
	plans, err := allowedPlans()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		check(maps.Clone(p.answers), p.files)
	}
}

var (
	controlTestID = regexp.MustCompile("`(tests/[a-z0-9_/]+\\.py)::(test_[a-z0-9_]+)`")
	markdownLink  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
)

// The README's "Security controls" table names tests; each must be defined
// in the file it names, for every combination, so a claim cannot outlive
// its proof. (scripts/e2e.sh then runs them.)
func TestEverySecurityControlNamesADefinedTest(t *testing.T) {
	forEachAllowedPlan(t, func(a generator.Answers, files map[string]string) {
		readme := files["README.md"]
		_, table, ok := strings.Cut(readme, "## Security controls")
		if !ok {
			t.Fatalf("%v: README has no Security controls section", a)
		}
		table, _, _ = strings.Cut(table, "\n## ")
		ids := controlTestID.FindAllStringSubmatch(table, -1)
		if len(ids) < 20 {
			t.Errorf("%v: the Security controls table names %d tests, want at least 20", a, len(ids))
		}
		for _, id := range ids {
			file, name := id[1], id[2]
			src, ok := files[file]
			if !ok {
				t.Errorf("%v: control test %s::%s: no file %s", a, file, name, file)
				continue
			}
			if !regexp.MustCompile(`(?m)^def ` + name + `\(`).MatchString(src) {
				t.Errorf("%v: control test %s::%s is not defined in %s", a, file, name, file)
			}
		}
	})
}

// A path in backticks: relative, with a directory or a file extension.
var backtickPath = regexp.MustCompile("`((?:\\.?[A-Za-z0-9_-]+/)+[A-Za-z0-9_.-]*|[A-Za-z0-9_-]+\\.(?:py|ya?ml|toml|md|lock|cfg|ini|conf|service|example))`")

// Relative links in the README, SECURITY.md and the threat model point at
// files the project has, and every path they name in backticks exists.
func TestDocumentLinksPointAtExistingFiles(t *testing.T) {
	forEachAllowedPlan(t, func(a generator.Answers, files map[string]string) {
		exists := func(p string) bool {
			p = strings.TrimSuffix(strings.TrimPrefix(p, "./"), "/")
			if _, ok := files[p]; ok {
				return true
			}
			for f := range files {
				if strings.HasPrefix(f, p+"/") || strings.HasSuffix(f, "/"+p) {
					return true
				}
			}
			return false
		}
		for _, doc := range []string{"README.md", "SECURITY.md", "docs/threat-model.md"} {
			text, ok := files[doc]
			if !ok {
				t.Fatalf("%v: no %s", a, doc)
			}
			for _, m := range backtickPath.FindAllStringSubmatch(text, -1) {
				if !exists(m[1]) {
					t.Errorf("%v: %s names %s, which the project does not have", a, doc, m[1])
				}
			}
			for _, m := range markdownLink.FindAllStringSubmatch(text, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				resolved := path.Join(path.Dir(doc), target)
				if _, ok := files[resolved]; !ok {
					t.Errorf("%v: %s links to %s (%s), which the project does not have", a, doc, target, resolved)
				}
			}
		}
	})
}

// componentNames are words that name one choice's component; a threat model
// must mention the chosen one and none of the others.
var componentNames = map[string]map[string][]string{
	"database": {
		"postgres": {"PostgreSQL"},
		"mysql":    {"MySQL", "MariaDB"},
		"sqlite":   {"SQLite"},
	},
	"cache": {
		"redis":     {"Redis"},
		"memcached": {"memcached"},
	},
	"auth": {
		"session": {"log-in sessions"},
		"oidc":    {"OpenID Connect", "identity provider"},
		"jwt":     {"JWT", "refresh token"},
	},
	"deploy": {
		"kubernetes": {"Kubernetes", "HTTPRoute"},
		"compose":    {"Docker Compose", "Caddy"},
		"vm":         {"systemd"},
	},
	"ci": {
		"github": {"GitHub"},
		"gitlab": {"GitLab"},
	},
}

func TestThreatModelNamesExactlyTheChosenComponents(t *testing.T) {
	forEachAllowedPlan(t, func(a generator.Answers, files map[string]string) {
		doc := files["docs/threat-model.md"]
		for question, choices := range componentNames {
			for choice, names := range choices {
				for _, name := range names {
					mentioned := strings.Contains(doc, name)
					if choice == a[question] && !mentioned {
						t.Errorf("%v: the threat model does not mention %q", a, name)
					}
					if choice != a[question] && mentioned {
						t.Errorf("%v: the threat model mentions %q, which was not chosen", a, name)
					}
				}
			}
		}
		// Every diagram the brief asks for is there.
		if got := strings.Count(doc, "```mermaid"); got != 4 {
			t.Errorf("%v: %d Mermaid diagrams, want 4 (context, containers, deployment, build)", a, got)
		}
	})
}
