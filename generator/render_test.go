package generator

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rampart-dev/rampart/templates"
)

func renderFixture(t *testing.T, answers Answers) *Plan {
	t.Helper()
	b := fixtureBlueprint(t)
	full := Answers{"name": "demo-app", "package": "demo_app", "notes": "n", "database": "sqlite", "auth": "session"}
	for k, v := range answers {
		full[k] = v
	}
	plan, err := b.Render(full, "v0.0.0-test")
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func fileByPath(t *testing.T, plan *Plan, path string) File {
	t.Helper()
	for _, f := range plan.Files {
		if f.Path == path {
			return f
		}
	}
	t.Fatalf("no %s in plan", path)
	return File{}
}

func TestRenderPlansFilesByCondition(t *testing.T) {
	var paths []string
	for _, f := range renderFixture(t, nil).Files {
		paths = append(paths, f.Path)
	}
	want := ".env .rampart.yaml README.md bin/run docs/only.txt jinja.html src/demo_app/app.py"
	if got := strings.Join(paths, " "); got != want {
		t.Fatalf("paths = %s\nwant   %s", got, want)
	}
	plan := renderFixture(t, Answers{"database": "postgres", "auth": "none"})
	for _, f := range plan.Files {
		if f.Path == "docs/only.txt" || f.Path == ".env" {
			t.Errorf("%s rendered although its condition is false", f.Path)
		}
	}
}

func TestRenderCopiesNonTemplatesByteForByte(t *testing.T) {
	got := fileByPath(t, renderFixture(t, nil), "jinja.html").Contents
	want := fixtureTemplates()["tpl/base/jinja.html"].Data
	if !bytes.Equal(got, want) {
		t.Fatalf("jinja.html = %q, want it untouched: %q", got, want)
	}
}

func TestRenderModesAndLocalFiles(t *testing.T) {
	plan := renderFixture(t, nil)
	if m := fileByPath(t, plan, "bin/run").Mode; m != 0o755 {
		t.Errorf("bin/run mode %o, want 755", m)
	}
	env := fileByPath(t, plan, ".env")
	if !env.Local || env.Mode != 0o600 {
		t.Errorf(".env local=%v mode=%o, want local 600", env.Local, env.Mode)
	}
	if !regexpHex32.Match(bytes.TrimPrefix(bytes.TrimSpace(env.Contents), []byte("SECRET_KEY="))) {
		t.Errorf(".env = %q, want a 32-hex-digit secret", env.Contents)
	}
}

func TestRenderIsDeterministicExceptLocalSecrets(t *testing.T) {
	a, b := renderFixture(t, nil), renderFixture(t, nil)
	for i := range a.Files {
		same := bytes.Equal(a.Files[i].Contents, b.Files[i].Contents)
		if a.Files[i].Local && same {
			t.Errorf("%s: the generated secret repeated across runs", a.Files[i].Path)
		}
		if !a.Files[i].Local && !same {
			t.Errorf("%s differs between two renders of the same answers", a.Files[i].Path)
		}
	}
}

func TestRenderRecordsAnswers(t *testing.T) {
	got := string(fileByPath(t, renderFixture(t, nil), AnswersFile).Contents)
	for _, want := range []string{"blueprint: fixture\n", "blueprint_version: v1.2.3\n", "rampart_version: v0.0.0-test\n", "  database: sqlite\n", "  name: demo-app\n"} {
		if !strings.Contains(got, want) {
			t.Errorf(".rampart.yaml lacks %q:\n%s", want, got)
		}
	}
}

func TestRenderEscapesFreeText(t *testing.T) {
	notes := "a \"q\" \\ {{x}}\n# ${{ y }}"
	plan := renderFixture(t, Answers{"notes": notes})
	py := string(fileByPath(t, plan, "src/demo_app/app.py").Contents)
	if py != `NOTES = "a \"q\" \\ {{x}}\n# ${{ y }}"`+"\n" {
		t.Errorf("app.py = %q", py)
	}
	md := string(fileByPath(t, plan, "README.md").Contents)
	if !strings.Contains(md, `a "q" \\ \{\{x\}\}`+"\n"+`\# $\{\{ y \}\}`) {
		t.Errorf("README.md = %q", md)
	}
}

// renderWithTemplate renders the fixture with one more template file.
func renderWithTemplate(t *testing.T, path, contents string) error {
	t.Helper()
	templates := fixtureTemplates()
	templates[path] = &fstest.MapFile{Data: []byte(contents)}
	b, err := ParseBlueprint([]byte(fixtureManifest), templates)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Render(Answers{"name": "x", "package": "x", "notes": "", "database": "sqlite", "auth": "none"}, "v0.1.0")
	return err
}

func TestRenderRejectsDuplicatePaths(t *testing.T) {
	err := renderWithTemplate(t, "tpl/base/docs/only.txt", "clash\n")
	var dup *DuplicatePathError
	if !errors.As(err, &dup) || dup.Path != "docs/only.txt" {
		t.Fatalf("error = %v, want a duplicate docs/only.txt", err)
	}
}

func TestSecretIsRefusedInTrackedFiles(t *testing.T) {
	err := renderWithTemplate(t, "tpl/base/config.py.tmpl", "KEY = '<% secret 8 %>'\n")
	if err == nil || !strings.Contains(err.Error(), "only allowed in local") {
		t.Fatalf("error = %v, want secret refused in a tracked file", err)
	}
}

func TestMissingKeyIsAnError(t *testing.T) {
	err := renderWithTemplate(t, "tpl/base/typo.txt.tmpl", "<% .nmae %>\n")
	if err == nil || !strings.Contains(err.Error(), "nmae") {
		t.Fatalf("error = %v, want the missing key named", err)
	}
}

func TestTemplateTreesHoldNoDotFiles(t *testing.T) {
	// A dot-file such as .gitignore inside templates/ would apply to
	// rampart's own repository; trees use the dot- prefix instead.
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && p != "." {
			t.Errorf("%s: name it %s%s", p, DotPrefix, strings.TrimPrefix(d.Name(), "."))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
