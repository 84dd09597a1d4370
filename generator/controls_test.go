package generator

import (
	"strings"
	"testing"
	"testing/fstest"
)

func fixtureFile(contents string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(contents)}
}

func TestControlsMustNameFilesTheProjectHas(t *testing.T) {
	for _, tc := range []struct{ name, controls, wantErr string }{
		{"a file only some combinations have", `
controls:
  - control: Only sqlite has the doc
    where: [docs/only.txt]
    tests: [tests/test_a.py::test_a]
`, "docs/only.txt, which this project does not have"},
		{"a test file that no file set writes", `
controls:
  - control: Missing proof
    where: [README.md]
    tests: [tests/test_missing.py::test_a]
`, "tests/test_missing.py::test_a, whose file this project does not have"},
		{"a test that is not a node id", `
controls:
  - control: Vague proof
    where: [README.md]
    tests: [tests/test_a.py]
`, `test "tests/test_a.py" is not FILE::NAME with FILE matching tests/[a-z0-9_/]+\.py and NAME matching test_[a-z0-9_]+ (test_ids)`},
		{"no tests", `
controls:
  - control: Unproved
    where: [README.md]
    tests: []
`, "at least one file in where and one test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			templates := fixtureTemplates()
			templates["tpl/base/tests/test_a.py"] = fixtureFile("def test_a():\n    pass\n")
			b, err := ParseBlueprint([]byte(fixtureManifest+tc.controls), templates)
			if err == nil {
				err = b.CheckEveryCombination()
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

// Rendering makes the same check for the one combination it renders, so a
// blueprint that skipped CheckEveryCombination still cannot claim a
// control the project does not have.
func TestRenderRefusesAControlNamingAFileTheProjectLacks(t *testing.T) {
	templates := fixtureTemplates()
	templates["tpl/base/tests/test_a.py"] = fixtureFile("def test_a():\n    pass\n")
	b, err := ParseBlueprint([]byte(fixtureManifest+`
controls:
  - control: Only sqlite has the doc
    where: [docs/only.txt]
    tests: [tests/test_a.py::test_a]
`), templates)
	if err != nil {
		t.Fatal(err)
	}
	answers := Answers{"name": "my-app", "package": "my_app", "notes": "n", "auth": "none"}
	answers["database"] = "sqlite"
	if _, err := b.Render(answers, "v1.0.0"); err != nil {
		t.Fatalf("sqlite has docs/only.txt: %v", err)
	}
	answers["database"] = "postgres"
	if _, err := b.Render(answers, "v1.0.0"); err == nil || !strings.Contains(err.Error(), "docs/only.txt, which this project does not have") {
		t.Fatalf("error = %v, want the missing file named", err)
	}
}

func TestControlsAreGivenToTemplatesWithPathsResolved(t *testing.T) {
	templates := fixtureTemplates()
	templates["tpl/base/tests/test_a.py"] = fixtureFile("def test_a():\n    pass\n")
	templates["tpl/base/CONTROLS.md.tmpl"] = fixtureFile(`<% range .controls %><% .control %>|<% index .where 0 %>|<% (index .tests 0).name %>
<% end %>`)
	manifest := fixtureManifest + `
controls:
  - control: Always
    where: [src/__package__/app.py]
    tests: [tests/test_a.py::test_a]
  - control: Only with sqlite
    when: eq .database "sqlite"
    where: [docs/only.txt]
    tests: [tests/test_a.py::test_a]
`
	b, err := ParseBlueprint([]byte(manifest), templates)
	if err != nil {
		t.Fatal(err)
	}
	for database, want := range map[string]string{
		"postgres": "Always|src/my_app/app.py|test_a\n",
		"sqlite":   "Always|src/my_app/app.py|test_a\nOnly with sqlite|docs/only.txt|test_a\n",
	} {
		plan, err := b.Render(Answers{"name": "my-app", "package": "my_app", "notes": "n", "database": database, "auth": "none"}, "v1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, f := range plan.Files {
			if f.Path == "CONTROLS.md" {
				got = string(f.Contents)
			}
		}
		if got != want {
			t.Errorf("database=%s: CONTROLS.md = %q, want %q", database, got, want)
		}
	}
}

// Controls name tests the way the blueprint's test_ids say, whatever the
// generated project's test runner: here Go's, FILE#TestName.
func TestControlsNameTestsTheWayTheManifestSays(t *testing.T) {
	manifest := strings.Replace(fixtureManifest,
		`test_ids: {separator: "::", file: 'tests/[a-z0-9_/]+\.py', name: 'test_[a-z0-9_]+'}`,
		`test_ids: {separator: "#", file: '[a-z0-9_/]+_test\.go', name: 'Test[A-Za-z0-9_]+'}`, 1)
	templates := fixtureTemplates()
	templates["tpl/base/app_test.go"] = fixtureFile("package app\n")
	b, err := ParseBlueprint([]byte(manifest+`
controls:
  - control: Proved in Go
    where: [README.md]
    tests: [app_test.go#TestProof]
`), templates)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CheckEveryCombination(); err != nil {
		t.Fatal(err)
	}
	if got := b.TestFile("app_test.go#TestProof") + " " + b.TestName("app_test.go#TestProof"); got != "app_test.go TestProof" {
		t.Errorf("split into %q", got)
	}
	// Without test_ids, a control that names tests is refused.
	noIDs := strings.Replace(fixtureManifest, `test_ids: {separator: "::", file: 'tests/[a-z0-9_/]+\.py', name: 'test_[a-z0-9_]+'}`, "", 1)
	_, err = ParseBlueprint([]byte(noIDs+`
controls:
  - control: Unnamed runner
    where: [README.md]
    tests: [tests/test_a.py::test_a]
`), templates)
	if err == nil || !strings.Contains(err.Error(), "no test_ids") {
		t.Errorf("error = %v, want the missing test_ids named", err)
	}
}
