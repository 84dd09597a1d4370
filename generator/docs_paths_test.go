package generator_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/generator"
)

// A relative link target in Markdown.
var docLink = regexp.MustCompile(`\]\(([A-Za-z0-9_.][^):#\s]*)\)`)

// A path in backticks: relative, with a directory or a file extension.
var docPath = regexp.MustCompile("`((?:\\.?[A-Za-z0-9_-]+/)+[A-Za-z0-9_.-]*|[A-Za-z0-9_-]+\\.(?:py|ya?ml|toml|md|lock|cfg|ini|conf|service|example))`")

// Every file or directory the README and the threat model name in backticks
// exists in the project they describe.
func TestEveryPathTheDocsNameExists(t *testing.T) {
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
		for _, doc := range []string{"README.md", "docs/threat-model.md"} {
			named := append(docPath.FindAllStringSubmatch(files[doc], -1), docLink.FindAllStringSubmatch(files[doc], -1)...)
			if len(named) < 3 {
				t.Fatalf("%s names only %d paths: is the pattern still right?", doc, len(named))
			}
			for _, m := range named {
				target := m[1]
				if doc == "docs/threat-model.md" && strings.HasPrefix(target, "../") {
					target = strings.TrimPrefix(target, "../")
				}
				if !exists(target) {
					t.Errorf("%s-%s-%s-%s-%s: %s names %s, which the project does not have", a["database"], a["cache"], a["auth"], a["deploy"], a["ci"], doc, target)
				}
			}
		}
	})
}
