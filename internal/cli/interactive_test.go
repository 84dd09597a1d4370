package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const sqliteReason = "keeps every record in one file inside one pod"

// After sqlite, kubernetes (the default) is not offered: the first allowed
// target is preselected and the reason is given in terms of answers.
func TestInteractiveForbiddenChoiceIsNotOffered(t *testing.T) {
	dir := t.TempDir()
	p := &fakePrompter{answers: map[string]string{"database": "sqlite"}}
	r := run(t, dir, true, p, "new", "demo", "--no-git")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if got := p.offered["deploy"]; !slices.Equal(got, []string{"compose", "vm"}) {
		t.Errorf("deploy offered %v after sqlite, want compose, vm", got)
	}
	if got := p.preselected["deploy"]; got != "compose" {
		t.Errorf("deploy preselected %q, want compose", got)
	}
	refused := p.refused["deploy"]
	if len(refused) != 1 || refused[0].Value != "kubernetes" {
		t.Fatalf("deploy refused %+v, want kubernetes", refused)
	}
	reason := refused[0].Rule.Message
	if !strings.Contains(reason, "database sqlite "+sqliteReason) || strings.Contains(reason, "--") {
		t.Errorf("reason %q should speak of the database answer, not of flags", reason)
	}
	if got := p.offered["database"]; len(got) != 4 {
		t.Errorf("database offered %v; nothing forbids a database before auth and deploy are answered", got)
	}
}

// Someone who typed --database sqlite is told about --database sqlite.
func TestInteractiveReasonsNameTheFlagsThatWereTyped(t *testing.T) {
	p := &fakePrompter{}
	r := run(t, t.TempDir(), true, p, "new", "demo", "--database", "sqlite", "--dry-run")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if refused := p.refused["deploy"]; len(refused) != 1 || !strings.Contains(refused[0].Rule.Message, "--database sqlite "+sqliteReason) {
		t.Fatalf("deploy refused %+v", refused)
	}
}

func TestInteractiveTakenTargetIsReaskedRightAfterTheName(t *testing.T) {
	dir := t.TempDir()
	taken := filepath.Join(dir, "demo")
	if err := os.Mkdir(taken, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(taken, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &fakePrompter{answers: map[string]string{"name": "demo"}, retry: map[string]string{"name": "demo2"}}
	r := run(t, dir, true, p, "new", "--no-git")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if got := strings.Join(p.asked[:3], ","); got != "name,name,description" {
		t.Errorf("asked %v: the name must be asked again before anything else", p.asked)
	}
	want := taken + " already exists and is not empty (it holds notes.txt); rampart never writes into a directory with files in it: choose another name"
	if len(p.rejected) != 1 || p.rejected[0] != "name: "+want {
		t.Errorf("rejected %q, want %q", p.rejected, want)
	}
	if got := listDir(t, taken); len(got) != 1 {
		t.Errorf("the taken directory now holds %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo2", "pyproject.toml")); err != nil {
		t.Error(err)
	}

	// A name given on the command line is refused before any question.
	p = &fakePrompter{}
	r = run(t, dir, true, p, "new", "demo")
	if r.code != ExitUsage || r.errOut != want || len(p.asked) != 0 {
		t.Fatalf("exit %d, asked %v: %s", r.code, p.asked, r.errOut)
	}
}

func TestInteractiveSummaryComesBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	p := &fakePrompter{answers: map[string]string{"database": "mysql", "description": "two\nlines"}, decline: true}
	r := run(t, dir, true, p, "new", "demo", "--no-git")
	if r.code != ExitInterrupted || !strings.Contains(r.errOut, "cancelled at the summary; nothing was written") {
		t.Fatalf("exit %d, want %d: %s", r.code, ExitInterrupted, r.errOut)
	}
	expectNothingWritten(t, dir)
	if p.confirms != 1 {
		t.Fatalf("asked to confirm %d times", p.confirms)
	}
	for _, want := range []string{
		"rampart will create ./demo from blueprint flask " + flaskVersion(t) + " with:",
		"  name         demo\n",
		`  description  "two\nlines"` + "\n",
		"  package      demo\n",
		"  database     mysql\n",
		"  cache        redis\n",
		"  auth         session\n",
		"  deploy       kubernetes\n",
		"  ci           github\n",
	} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.errOut)
		}
	}

	p = &fakePrompter{}
	if r := run(t, dir, true, p, "new", "demo", "--no-git"); r.code != ExitOK || p.confirms != 1 {
		t.Fatalf("exit %d after %d confirmations: %s", r.code, p.confirms, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", "pyproject.toml")); err != nil {
		t.Fatal(err)
	}
}

// Someone who answered questions (here from an answers file) hears about
// answers; someone who typed flags hears about flags. Either way the
// forbidden pair is refused as soon as it is complete, before the
// questions after it.
func TestInteractiveForbiddenPairIsRefusedInTheUsersTerms(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(answers, []byte("answers:\n  database: none\n  auth: session\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		args []string
		want string
	}{
		"answers": {
			[]string{"new", "demo", "--answers", answers},
			"these answers cannot go together: auth session stores accounts (email and password hash) in a database, but database is none; choose database postgres, mysql or sqlite, or auth none",
		},
		"flags": {
			[]string{"new", "demo", "--database", "none", "--auth", "session"},
			"--auth session stores accounts (email and password hash) in a database, but --database is none; choose --database postgres, mysql or sqlite, or --auth none",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := &fakePrompter{}
			r := run(t, dir, true, p, c.args...)
			if r.code != ExitUsage || r.errOut != c.want {
				t.Fatalf("exit %d\n got: %s\nwant: %s", r.code, r.errOut, c.want)
			}
			if slices.Contains(p.asked, "deploy") || p.confirms != 0 {
				t.Errorf("asked %v and %d confirmations after the forbidden pair was complete", p.asked, p.confirms)
			}
			if got := listDir(t, dir); len(got) != 1 {
				t.Errorf("wrote %v", got)
			}
		})
	}
}

// With --database none only auth none is left: the question is still
// asked, with the reason for each choice that is not offered.
func TestInteractiveQuestionWithOneAllowedChoiceIsStillAsked(t *testing.T) {
	p := &fakePrompter{}
	r := run(t, t.TempDir(), true, p, "new", "demo", "--database", "none", "--dry-run")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if got := p.offered["auth"]; !slices.Equal(got, []string{"none"}) || p.preselected["auth"] != "none" {
		t.Fatalf("auth offered %v, preselected %q", got, p.preselected["auth"])
	}
	var refused []string
	for _, c := range p.refused["auth"] {
		refused = append(refused, c.Value)
		if !strings.Contains(c.Rule.Message, "but --database is none") {
			t.Errorf("%s refused with %q", c.Value, c.Rule.Message)
		}
	}
	if !slices.Equal(refused, []string{"session", "oidc", "jwt"}) {
		t.Fatalf("auth refused %v", refused)
	}
}
