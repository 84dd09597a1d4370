package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
)

var defaultAnswers = generator.Answers{
	"name": "shop", "package": "shop", "description": "A secure-by-default Flask application",
	"database": "postgres", "cache": "redis", "auth": "session", "deploy": "kubernetes", "ci": "github",
}

// gitIn runs git in dir with a fixed identity and no user configuration.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// projectFrom writes what a released version generated for answers into a
// new git repository, committed, and returns its directory.
func projectFrom(t *testing.T, version string, answers generator.Answers) string {
	t.Helper()
	store, err := generator.OpenReleases(blueprints.Releases, "flask")
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.Load(version)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := b.Render(answers, "(devel)")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "shop")
	if err := generator.WriteProject(context.Background(), dir, plan.Files, generator.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "init", "-q")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "generated")
	return dir
}

func commitAll(t *testing.T, dir, message string) {
	t.Helper()
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", message)
}

// tree reads every file of dir but .git and .env.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() == ".env" {
			return nil
		}
		raw, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(raw)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	for p, w := range want {
		if g, ok := got[p]; !ok {
			t.Errorf("%s is missing", p)
		} else if g != w {
			t.Errorf("%s differs", p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s should not be there", p)
		}
	}
}

// An untouched project of every released version updates to exactly what
// rampart new generates today.
func TestUpdatingAnUntouchedProjectGivesWhatNewGives(t *testing.T) {
	fresh := t.TempDir()
	if r := run(t, fresh, false, nil, "new", "shop", "--yes", "--no-git"); r.code != ExitOK {
		t.Fatal(r.errOut)
	}
	want := tree(t, filepath.Join(fresh, "shop"))
	store, err := generator.OpenReleases(blueprints.Releases, "flask")
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range store.Versions() {
		if version == flaskVersion(t) {
			continue
		}
		t.Run(version, func(t *testing.T) {
			project := projectFrom(t, version, defaultAnswers)
			r := run(t, project, false, nil, "update")
			if r.code != ExitOK {
				t.Fatalf("update: exit %d\n%s", r.code, r.errOut)
			}
			sameTree(t, tree(t, project), want)
			if !strings.Contains(r.errOut, version+" -> "+flaskVersion(t)) {
				t.Errorf("the summary does not name the versions:\n%s", r.errOut)
			}
		})
	}
}

func TestUpdateKeepsYourChangesAndLeavesOverlapsToGit(t *testing.T) {
	project := projectFrom(t, "v0.1.0", defaultAnswers)
	edit := func(path, from, to string) {
		p := filepath.Join(project, path)
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), from) {
			t.Fatalf("%s has no %q", path, from)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(raw), from, to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	route := "\n\n@bp.get(\"/pricing\")\ndef pricing():\n    return \"Pricing\"\n"
	mainPy := filepath.Join(project, "src/shop/main.py")
	raw, _ := os.ReadFile(mainPy)
	if err := os.WriteFile(mainPy, append(raw, route...), 0o644); err != nil {
		t.Fatal(err)
	}
	// The line v0.3.2 changes, changed differently: an overlap.
	edit("Makefile", "pip install --quiet --require-hashes", "pip install --require-hashes")
	// Deleted, and changed by a later version: back, unmerged.
	if err := os.Remove(filepath.Join(project, "tests/test_https.py")); err != nil {
		t.Fatal(err)
	}
	commitAll(t, project, "my changes")

	// Uncommitted work is refused, and nothing is touched.
	scratch := filepath.Join(project, "notes.txt")
	if err := os.WriteFile(scratch, []byte("wip\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := tree(t, project)
	if r := run(t, project, false, nil, "update"); r.code != ExitUsage || !strings.Contains(r.errOut, "uncommitted changes") {
		t.Fatalf("a dirty tree: exit %d %s", r.code, r.errOut)
	}
	sameTree(t, tree(t, project), before)
	os.Remove(scratch)

	r := run(t, project, false, nil, "update")
	if r.code != ExitConflicts {
		t.Fatalf("update: exit %d, want %d\n%s", r.code, ExitConflicts, r.errOut)
	}
	if got, _ := os.ReadFile(mainPy); !strings.HasSuffix(string(got), route) {
		t.Error("the new route is gone")
	}
	makefile, _ := os.ReadFile(filepath.Join(project, "Makefile"))
	for _, marker := range []string{"<<<<<<< ours", "||||||| base", "=======", ">>>>>>> theirs", "--no-deps --require-hashes", "pip install --require-hashes"} {
		if !strings.Contains(string(makefile), marker) {
			t.Errorf("the Makefile has no %q:\n%s", marker, makefile)
		}
	}
	unmerged := gitIn(t, project, "status", "--porcelain")
	for _, want := range []string{"UU Makefile", "DU tests/test_https.py"} {
		if !strings.Contains(unmerged, want) {
			t.Errorf("git status does not say %q:\n%s", want, unmerged)
		}
	}
	for _, want := range []string{"CONFLICT   Makefile", "CONFLICT   tests/test_https.py", "kept       src/shop/main.py", "security: "} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("the summary does not say %q:\n%s", want, r.errOut)
		}
	}
	if record, err := generator.ReadRecord(project); err != nil || record.BlueprintVersion != flaskVersion(t) {
		t.Errorf("the record: %+v, %v", record, err)
	}
}

func TestDryRunPrintsTheDiffAndWritesNothing(t *testing.T) {
	project := projectFrom(t, "v0.3.1", defaultAnswers)
	before := tree(t, project)
	r := run(t, project, false, nil, "update", "--dry-run")
	if r.code != ExitOK {
		t.Fatalf("exit %d %s", r.code, r.errOut)
	}
	if !strings.Contains(r.out, "diff --git a/Makefile b/Makefile") || !strings.Contains(r.out, "+\t$(BIN)/python -m pip check") {
		t.Errorf("no diff of the Makefile:\n%s", r.out)
	}
	sameTree(t, tree(t, project), before)

	r = run(t, project, false, nil, "update", "--dry-run", "--json")
	var report updateReport
	if err := json.Unmarshal([]byte(r.out), &report); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.out)
	}
	if r.code != ExitOK || !report.DryRun || report.From != "v0.3.1" || report.To != flaskVersion(t) ||
		!slices.Contains(report.Files["updated"], "Makefile") || len(report.Changes) == 0 ||
		!strings.Contains(report.Diff, "diff --git a/Makefile b/Makefile") {
		t.Errorf("--json: exit %d %+v", r.code, report)
	}
	sameTree(t, tree(t, project), before)
}

func TestSetThenSetBackGivesTheFilesBack(t *testing.T) {
	dir := t.TempDir()
	if r := run(t, dir, false, nil, "new", "shop", "--yes", "--no-git"); r.code != ExitOK {
		t.Fatal(r.errOut)
	}
	project := filepath.Join(dir, "shop")
	gitIn(t, project, "init", "-q")
	commitAll(t, project, "generated")
	original := tree(t, project)
	for _, step := range [][]string{{"cache=none"}, {"deploy=compose", "database=sqlite"}, {"auth=oidc"}, {"cache=redis", "auth=session", "deploy=kubernetes", "database=postgres"}} {
		r := run(t, project, false, nil, append([]string{"set"}, step...)...)
		if r.code != ExitOK {
			t.Fatalf("set %v: exit %d\n%s", step, r.code, r.errOut)
		}
		commitAll(t, project, "set "+strings.Join(step, " "))
		if step[0] == "auth=oidc" {
			// The development settings the new answer needs, appended to the local .env.
			env, err := os.ReadFile(filepath.Join(project, ".env"))
			if err != nil || !strings.Contains(string(env), "\nOIDC_ISSUER=") || !strings.Contains(r.errOut, "appended OIDC_ISSUER") {
				t.Errorf(".env after set auth=oidc (%v):\n%s\n%s", err, env, r.errOut)
			}
		}
	}
	sameTree(t, tree(t, project), original)

	// The rules and messages of rampart new.
	r := run(t, project, false, nil, "set", "database=sqlite")
	if r.code != ExitUsage || !strings.Contains(r.errOut, "choose --database postgres or mysql for --deploy kubernetes") {
		t.Errorf("a forbidden combination: exit %d %s", r.code, r.errOut)
	}
	for arg, want := range map[string]string{"name=other": "cannot change after generation", "colour=red": "not a question", "cache=valkey": `"valkey" is not a choice for cache`} {
		if r := run(t, project, false, nil, "set", arg); r.code != ExitUsage || !strings.Contains(r.errOut, want) {
			t.Errorf("set %s: exit %d %s", arg, r.code, r.errOut)
		}
	}
	sameTree(t, tree(t, project), original)
}
