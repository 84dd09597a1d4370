package generator_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

var update = flag.Bool("update", false, "rewrite the golden projects under testdata/golden")

const testVersion = "v1.0.0-test"

func flaskBlueprint(t testing.TB) *generator.Blueprint {
	t.Helper()
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	b := all["flask"]
	if b == nil {
		t.Fatal("no flask blueprint")
	}
	return b
}

func resolve(t testing.TB, b *generator.Blueprint, flags map[string]string) generator.Answers {
	t.Helper()
	res, err := b.Resolve(generator.Sources{Flags: flags, UseDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	return res.Answers
}

// checkParses fails the test for leftover template delimiters in any file,
// and for any YAML, TOML or JSON file that does not parse.
func checkParses(t testing.TB, plan *generator.Plan) {
	t.Helper()
	files := make(map[string]string, len(plan.Files))
	for _, f := range plan.Files {
		files[f.Path] = string(f.Contents)
	}
	checkFilesParse(t, "", files)
}

// checkFilesParse is checkParses over rendered files; what names the
// combination in messages.
func checkFilesParse(t testing.TB, what string, files map[string]string) {
	t.Helper()
	for p, contents := range files {
		if binaryText(contents) {
			continue // a data file copied byte for byte: any "<%" in it is data
		}
		if strings.Contains(contents, generator.LeftDelim) || strings.Contains(contents, generator.RightDelim) {
			t.Errorf("%s%s: leftover template delimiter", what, p)
		}
	}
	checkFileFormats(t, what, files)
}

// binaryText reports contents that are not text (NUL bytes or invalid UTF-8),
// such as the compressed common-password list.
func binaryText(contents string) bool {
	return strings.IndexByte(contents, 0) >= 0 || !utf8.ValidString(contents)
}

// checkFormats fails the test for any YAML, TOML or JSON file that does not parse.
func checkFormats(t testing.TB, plan *generator.Plan) {
	t.Helper()
	files := make(map[string]string, len(plan.Files))
	for _, f := range plan.Files {
		files[f.Path] = string(f.Contents)
	}
	checkFileFormats(t, "", files)
}

func checkFileFormats(t testing.TB, what string, files map[string]string) {
	t.Helper()
	for p, contents := range files {
		var v any
		var err error
		switch path.Ext(p) {
		case ".yaml", ".yml":
			err = yaml.Unmarshal([]byte(contents), &v)
		case ".toml":
			_, err = toml.Decode(contents, &v)
		case ".json":
			err = json.Unmarshal([]byte(contents), &v)
		}
		if err != nil {
			t.Errorf("%s%s does not parse: %v", what, p, err)
		}
	}
}

// Every allowed combination renders (allowedPlans checks that all of them
// did), with no leftover delimiter and every YAML, TOML and JSON file parsing.
func TestEveryCombinationRendersValidFiles(t *testing.T) {
	forEachAllowedPlan(t, func(a generator.Answers, files map[string]string) {
		checkFilesParse(t, fmt.Sprintf("%v: ", a), files)
	})
}

func TestPyprojectCarriesTheDescriptionExactly(t *testing.T) {
	b := flaskBlueprint(t)
	desc := `He said "hi" \ {{ x }} ${{ y }} # not: a comment — ünïcode`
	plan, err := b.Render(resolve(t, b, map[string]string{"name": "q", "description": desc}), testVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range plan.Files {
		switch f.Path {
		case "pyproject.toml":
			var doc struct{ Project struct{ Description string } }
			if _, err := toml.Decode(string(f.Contents), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Project.Description != desc {
				t.Errorf("pyproject description = %q, want %q", doc.Project.Description, desc)
			}
		case ".rampart.yaml":
			var rec generator.Record
			if err := yaml.Unmarshal(f.Contents, &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Answers["description"] != desc {
				t.Errorf(".rampart.yaml description = %q", rec.Answers["description"])
			}
		}
	}
}

func TestTrackedFilesHoldNoSecret(t *testing.T) {
	b := flaskBlueprint(t)
	plan, err := b.Render(resolve(t, b, map[string]string{"name": "s"}), testVersion)
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	for _, f := range plan.Files {
		if f.Path == ".env" {
			for _, line := range strings.Split(string(f.Contents), "\n") {
				if v, ok := strings.CutPrefix(line, "SECRET_KEY="); ok {
					secret = v
				}
			}
			if !f.Local || f.Mode != 0o600 {
				t.Errorf(".env must be local with mode 600, got local=%v mode=%o", f.Local, f.Mode)
			}
		}
	}
	if len(secret) != 64 {
		t.Fatalf(".env SECRET_KEY = %q, want 64 hex digits", secret)
	}
	for _, f := range plan.Files {
		if !f.Local && bytes.Contains(f.Contents, []byte(secret)) {
			t.Errorf("tracked file %s contains the generated secret", f.Path)
		}
		if f.Path == ".gitignore" && !bytes.Contains(f.Contents, []byte("\n.env\n")) {
			t.Errorf(".gitignore does not ignore .env")
		}
	}
}

// goldenSets are the answer sets kept as golden projects under testdata/golden.
var goldenSets = map[string]map[string]string{
	"defaults": {"name": "demo"},
	"sqlite-nocache": {
		"name": "ledger-api", "database": "sqlite", "cache": "none", "deploy": "compose",
		"description": "Tracks \"ledgers\" \\ {{ totals }} & ${{ secrets }}\n# not a heading: <b>ok</b>",
	},
	"noauth": {"name": "status-page", "auth": "none", "package": "statuspage"},
	// One answer set per choice added after the first three.
	"mysql-memcached-oidc": {"name": "staff-portal", "database": "mysql", "cache": "memcached", "auth": "oidc", "ci": "gitlab"},
	"jwt-api":              {"name": "orders-api", "auth": "jwt"},
	"stateless":            {"name": "edge-proxy", "database": "none", "cache": "none", "auth": "none", "deploy": "vm", "ci": "none"},
}

func TestGoldenProjects(t *testing.T) {
	b := flaskBlueprint(t)
	for name, flags := range goldenSets {
		t.Run(name, func(t *testing.T) {
			plan, err := b.Render(resolve(t, b, flags), testVersion)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("..", "testdata", "golden", name)
			if *update {
				writeGolden(t, dir, plan)
			}
			compareGolden(t, dir, plan)
		})
	}
}

func writeGolden(t *testing.T, dir string, plan *generator.Plan) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range plan.Files {
		if f.Local {
			continue // holds a fresh secret on every run
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Contents, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func compareGolden(t *testing.T, dir string, plan *generator.Plan) {
	t.Helper()
	want := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		want[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatalf("reading golden project (run go test ./generator -update to create it): %v", err)
	}
	for _, f := range plan.Files {
		if f.Local {
			continue
		}
		golden, ok := want[f.Path]
		if !ok {
			t.Errorf("%s: new file, not in the golden project (go test ./generator -update)", f.Path)
			continue
		}
		delete(want, f.Path)
		if !bytes.Equal(golden, f.Contents) {
			t.Errorf("%s differs from the golden project:\n%s", f.Path, firstDifference(golden, f.Contents))
		}
	}
	for p := range want {
		t.Errorf("%s: in the golden project but no longer generated", p)
	}
}

func firstDifference(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return "(line endings)"
}

// Every direct requirement of every combination is pinned in its locks, and
// nothing the combination does not use leaks in (database none has no
// SQLAlchemy; only postgres has psycopg).
func TestEveryCombinationLocksItsRequirements(t *testing.T) {
	forEachAllowedPlan(t, func(a generator.Answers, files map[string]string) {
		var doc struct {
			Project struct {
				Dependencies []string
				Optional     map[string][]string `toml:"optional-dependencies"`
			}
		}
		if _, err := toml.Decode(files["pyproject.toml"], &doc); err != nil {
			t.Fatalf("%v: pyproject.toml: %v", a, err)
		}
		check := func(lock string, reqs []string) {
			for _, req := range reqs {
				name := strings.ToLower(strings.SplitN(strings.SplitN(req, "==", 2)[0], "[", 2)[0])
				if !strings.Contains(files[lock], "\n"+name+"==") {
					t.Errorf("%v: %s does not pin %s", a, lock, name)
				}
			}
		}
		check("requirements.lock", doc.Project.Dependencies)
		check("requirements-dev.lock", append(doc.Project.Dependencies, doc.Project.Optional["dev"]...))
		if a["database"] == "none" && strings.Contains(files["requirements.lock"], "\nsqlalchemy==") {
			t.Errorf("%v: SQLAlchemy locked without a database", a)
		}
		if (a["database"] == "postgres") != strings.Contains(files["requirements.lock"], "\npsycopg-binary==") {
			t.Errorf("%v: psycopg-binary locked = %v", a, !(a["database"] == "postgres"))
		}
	})
}

// combinationCount is the product of the choice questions' choice counts:
// every combination ForEachCombination must visit.
func combinationCount(b *generator.Blueprint) int {
	total := 1
	for _, q := range b.Questions {
		if q.Kind == generator.KindChoice {
			total *= len(q.Choices)
		}
	}
	return total
}
