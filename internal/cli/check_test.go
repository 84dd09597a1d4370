package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/generator"
)

// newProject generates the default project in a temporary directory and
// returns its path.
func newProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if r := run(t, dir, false, nil, "new", "shop", "--yes", "--no-git"); r.code != ExitOK {
		t.Fatalf("rampart new: %d %s", r.code, r.errOut)
	}
	return filepath.Join(dir, "shop")
}

// setRecordedVersion rewrites the blueprint version in the project's record.
func setRecordedVersion(t *testing.T, project, version string) {
	t.Helper()
	path := filepath.Join(project, generator.AnswersFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(raw), "blueprint_version: "+flaskVersion(t), "blueprint_version: "+version, 1)
	if text == string(raw) {
		t.Fatal("the record names no blueprint_version to replace")
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckSaysUpToDateWithExitZero(t *testing.T) {
	project := newProject(t)
	r := run(t, project, false, nil, "check")
	if r.code != ExitOK || !strings.Contains(r.out, "flask "+flaskVersion(t)+": up to date") {
		t.Fatalf("check: %d %q %q", r.code, r.out, r.errOut)
	}
}

func TestCheckListsNewerChangesSecurityFirstAndExitsFour(t *testing.T) {
	project := newProject(t)
	setRecordedVersion(t, project, "v0.2.0")
	r := run(t, t.TempDir(), false, nil, "check", "-C", project)
	if r.code != ExitBehind {
		t.Fatalf("check: exit %d, want %d; %s", r.code, ExitBehind, r.errOut)
	}
	if r.errOut != "" {
		t.Errorf("behind is not an error, but stderr says %q", r.errOut)
	}
	security, other := strings.Index(r.out, "Security:"), strings.Index(r.out, "Other changes:")
	if security < 0 || other < security || !strings.Contains(r.out, "flask v0.2.0: ") {
		t.Errorf("check output:\n%s", r.out)
	}
	if strings.Contains(r.out, "  v0.2.0 ") {
		t.Errorf("the project's own version's changes are listed:\n%s", r.out)
	}

	r = run(t, project, false, nil, "check", "--json")
	var status generator.Status
	if err := json.Unmarshal([]byte(r.out), &status); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.out)
	}
	if r.code != ExitBehind || !status.Behind || status.Version != "v0.2.0" || status.Latest != flaskVersion(t) || len(status.Changes) == 0 || !status.Changes[0].Security {
		t.Errorf("--json: exit %d, %+v", r.code, status)
	}
}

func TestCheckRefusesWhatItCannotJudge(t *testing.T) {
	project := newProject(t)
	cases := map[string]struct {
		dir, want string
	}{
		"not a project": {t.TempDir(), "is not a rampart project: it has no .rampart.yaml"},
		"newer version": {project, "newer than this rampart's"},
	}
	setRecordedVersion(t, project, "v9.0.0")
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := run(t, c.dir, false, nil, "check")
			if r.code != ExitUsage || !strings.Contains(r.errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.errOut, ExitUsage, c.want)
			}
		})
	}
}
