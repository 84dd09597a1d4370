package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/internal/buildinfo"
	"github.com/rampart-dev/rampart/internal/iostreams"
)

// A tiny blueprint in two versions. v2.0.0 drops the mongo choice, asks a
// new question with a default, renames notes.txt to docs/notes.md, and
// changes an executable script, a binary file and a regenerated lock.
const tinyV1 = `
name: tiny
version: v1.0.0
summary: a tiny blueprint
min_rampart_version: v0.1.0
templates: tiny
changelog:
  - version: v1.0.0
    changes: ["first"]
questions:
  - name: name
    prompt: Name
    kind: text
    positional: true
    validate: [dns-label]
  - name: database
    prompt: Database
    kind: choice
    default: postgres
    choices: [{value: postgres}, {value: sqlite}, {value: mongo}]
files:
  - src: base
executable: ["bin/*"]
`

const tinyV2 = `
name: tiny
version: v2.0.0
summary: a tiny blueprint
min_rampart_version: v0.1.0
templates: tiny
changelog:
  - version: v2.0.0
    changes: ["security: the second", "a colour"]
  - version: v1.0.0
    changes: ["first"]
questions:
  - name: name
    prompt: Name
    kind: text
    positional: true
    validate: [dns-label]
  - name: database
    prompt: Database
    kind: choice
    default: postgres
    choices: [{value: postgres}, {value: sqlite}]
  - name: color
    prompt: Colour
    kind: choice
    default: blue
    choices: [{value: blue}, {value: red}]
files:
  - src: base
executable: ["bin/*"]
regenerated:
  - path: "*.lock"
    remake: run make lock
`

func tinyTemplates(version string) fstest.MapFS {
	files := fstest.MapFS{
		"tiny/base/README.md.tmpl": {Data: []byte("# <% .name %>\nDatabase: <% .database %>\n")},
		"tiny/base/bin/run":        {Data: []byte("#!/bin/sh\necho v1\n")},
		"tiny/base/logo.bin":       {Data: []byte("\x00v1")},
		"tiny/base/notes.txt":      {Data: []byte("notes\n")},
		"tiny/base/deps.lock":      {Data: []byte("a==1\nb==1\nc==1\nd==1\n")},
	}
	if version == "v2.0.0" {
		files["tiny/base/README.md.tmpl"] = &fstest.MapFile{Data: []byte("# <% .name %>\nDatabase: <% .database %>\nColour: <% .color %>\n")}
		files["tiny/base/bin/run"] = &fstest.MapFile{Data: []byte("#!/bin/sh\necho v2\n")}
		files["tiny/base/logo.bin"] = &fstest.MapFile{Data: []byte("\x00v2")}
		delete(files, "tiny/base/notes.txt")
		files["tiny/base/docs/notes.md"] = &fstest.MapFile{Data: []byte("notes\n")}
		files["tiny/base/deps.lock"] = &fstest.MapFile{Data: []byte("a==1\nb==1\nc==1\nd==2\n")}
	}
	return files
}

// tinyFactory has tiny v2.0.0 built in and both versions released.
func tinyFactory(t *testing.T) (*Factory, *generator.Blueprint) {
	t.Helper()
	store, err := generator.OpenReleases(fstest.MapFS{}, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	var latest, first *generator.Blueprint
	for _, c := range []struct{ manifest, version string }{{tinyV1, "v1.0.0"}, {tinyV2, "v2.0.0"}} {
		tree := tinyTemplates(c.version)
		var files []generator.ReleaseFile
		for p, f := range tree {
			files = append(files, generator.ReleaseFile{Path: strings.TrimPrefix(p, "tiny/"), Contents: f.Data})
		}
		var archive bytes.Buffer
		if err := store.WriteRelease(&archive, c.version, "tiny", []byte(c.manifest), files); err != nil {
			t.Fatal(err)
		}
		if err := store.Add("tiny-"+c.version+".tar.gz", archive.Bytes()); err != nil {
			t.Fatal(err)
		}
		b, err := generator.ParseBlueprint([]byte(c.manifest), tree)
		if err != nil {
			t.Fatal(err)
		}
		latest = b
		if first == nil {
			first = b
		}
	}
	io, _, _, _ := iostreams.Test()
	f := &Factory{
		IO:    io,
		Build: buildinfo.Info{Version: "v1.0.0-test"},
		Blueprints: func() (map[string]*generator.Blueprint, error) {
			return map[string]*generator.Blueprint{"tiny": latest}, nil
		},
		Prompter: func() Prompter { t.Fatal("prompted"); return nil },
		Releases: func(string) (*generator.ReleaseStore, error) { return store, nil },
	}
	return f, first
}

// tinyProject is what tiny v1.0.0 generated for database, committed.
func tinyProject(t *testing.T, first *generator.Blueprint, database string) string {
	t.Helper()
	plan, err := first.Render(generator.Answers{"name": "demo", "database": database}, "v1.0.0-test")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	if err := generator.WriteProject(context.Background(), dir, plan.Files, generator.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "init", "-q")
	commitAll(t, dir, "generated")
	return dir
}

func runTiny(t *testing.T, f *Factory, dir string, args ...string) result {
	t.Helper()
	t.Chdir(dir)
	io, _, out, errOut := iostreams.Test()
	f.IO = io
	cmd := NewRootCmd(f)
	cmd.SetArgs(args)
	_, err := Execute(context.Background(), cmd)
	if err != nil && ExitCode(err) != ExitConflicts {
		errOut.WriteString(err.Error())
	}
	return result{code: ExitCode(err), out: out.String(), errOut: errOut.String()}
}

func TestUpdateAcrossARenameANewQuestionAnExecutableAndABinary(t *testing.T) {
	f, first := tinyFactory(t)
	project := tinyProject(t, first, "postgres")
	r := runTiny(t, f, project, "update")
	if r.code != ExitOK {
		t.Fatalf("update: %d %s", r.code, r.errOut)
	}
	files := tree(t, project)
	if _, ok := files["notes.txt"]; ok || files["docs/notes.md"] != "notes\n" {
		t.Errorf("the renamed file: %v", files)
	}
	if files["deps.lock"] != "a==1\nb==1\nc==1\nd==2\n" {
		t.Errorf("the unedited lock is not the new version's: %q", files["deps.lock"])
	}
	if files["README.md"] != "# demo\nDatabase: postgres\nColour: blue\n" || files["logo.bin"] != "\x00v2" {
		t.Errorf("README.md %q, logo.bin %q", files["README.md"], files["logo.bin"])
	}
	if info, err := os.Stat(filepath.Join(project, "bin/run")); err != nil || info.Mode().Perm()&0o111 == 0 || files["bin/run"] != "#!/bin/sh\necho v2\n" {
		t.Errorf("bin/run: %q %v %v", files["bin/run"], info.Mode(), err)
	}
	record, err := generator.ReadRecord(project)
	if err != nil || record.BlueprintVersion != "v2.0.0" || record.Answers["color"] != "blue" {
		t.Errorf("record %+v %v", record, err)
	}
	if !strings.Contains(r.errOut, "security: the second") {
		t.Errorf("the summary lacks the changelog:\n%s", r.errOut)
	}
}

func TestUpdateCarriesAnEditedMovedFileAndConflictsOnAnEditedBinary(t *testing.T) {
	f, first := tinyFactory(t)
	project := tinyProject(t, first, "sqlite")
	for name, text := range map[string]string{"notes.txt": "my notes\n", "logo.bin": "\x00mine"} {
		if err := os.WriteFile(filepath.Join(project, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	commitAll(t, project, "mine")
	r := runTiny(t, f, project, "update")
	if r.code != ExitConflicts {
		t.Fatalf("update: exit %d, want %d\n%s", r.code, ExitConflicts, r.errOut)
	}
	files := tree(t, project)
	if _, ok := files["notes.txt"]; ok || files["docs/notes.md"] != "my notes\n" || files["logo.bin"] != "\x00mine" {
		t.Errorf("files: notes.txt %q, docs/notes.md %q, logo.bin %q", files["notes.txt"], files["docs/notes.md"], files["logo.bin"])
	}
	if !strings.Contains(r.errOut, "moved      1: notes.txt -> docs/notes.md") ||
		!strings.Contains(r.errOut, "CONFLICT   logo.bin (changed by you and by the new version, and not text") {
		t.Errorf("summary:\n%s", r.errOut)
	}
	if status := gitIn(t, project, "status", "--porcelain"); !strings.Contains(status, "UU logo.bin") {
		t.Errorf("git status:\n%s", status)
	}
}

// A lock both sides changed, even on lines far apart, is never merged line
// by line (the result would be neither side's resolution): a conflict with
// the user's in place, the new version's a git checkout --theirs away.
func TestUpdateConflictsOnARegeneratedFileBothChanged(t *testing.T) {
	f, first := tinyFactory(t)
	project := tinyProject(t, first, "postgres")
	mine := "a==2\nb==1\nc==1\nd==1\n"
	if err := os.WriteFile(filepath.Join(project, "deps.lock"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	commitAll(t, project, "mine")
	r := runTiny(t, f, project, "update")
	if r.code != ExitConflicts {
		t.Fatalf("update: exit %d, want %d\n%s", r.code, ExitConflicts, r.errOut)
	}
	if got := tree(t, project)["deps.lock"]; got != mine {
		t.Errorf("deps.lock %q, want the user's %q", got, mine)
	}
	if !strings.Contains(r.errOut, "CONFLICT   deps.lock (made from other files") || !strings.Contains(r.errOut, "run make lock") {
		t.Errorf("summary:\n%s", r.errOut)
	}
	if status := gitIn(t, project, "status", "--porcelain"); !strings.Contains(status, "UU deps.lock") {
		t.Errorf("git status:\n%s", status)
	}
	gitIn(t, project, "checkout", "--theirs", "deps.lock")
	if got := tree(t, project)["deps.lock"]; got != "a==1\nb==1\nc==1\nd==2\n" {
		t.Errorf("git checkout --theirs gave %q", got)
	}
}

func TestUpdateNamesAChoiceTheNewVersionDropped(t *testing.T) {
	f, first := tinyFactory(t)
	project := tinyProject(t, first, "mongo")
	before := tree(t, project)
	r := runTiny(t, f, project, "update")
	want := "the project answers database=mongo, which tiny v2.0.0 no longer offers (it offers postgres, sqlite); choose one with rampart set database=VALUE first, then update"
	if r.code != ExitUsage || !strings.Contains(r.errOut, want) {
		t.Fatalf("exit %d, %q", r.code, r.errOut)
	}
	sameTree(t, tree(t, project), before)
	// As it says: set on the project's own version, then update.
	if r := runTiny(t, f, project, "set", "database=postgres"); r.code != ExitOK {
		t.Fatalf("set: %d %s", r.code, r.errOut)
	}
	commitAll(t, project, "postgres")
	if r := runTiny(t, f, project, "update"); r.code != ExitOK {
		t.Fatalf("update after set: %d %s", r.code, r.errOut)
	}
}

// The scheduled job's pull request says what changed, security first, and
// what the reviewer must resolve.
func TestUpdateWritesAPullRequestBody(t *testing.T) {
	f, first := tinyFactory(t)
	project := tinyProject(t, first, "sqlite")
	if err := os.WriteFile(filepath.Join(project, "logo.bin"), []byte("\x00mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	commitAll(t, project, "mine")
	body := filepath.Join(t.TempDir(), "body.md")
	if r := runTiny(t, f, project, "update", "--pr-body", body); r.code != ExitConflicts {
		t.Fatalf("update: exit %d\n%s", r.code, r.errOut)
	}
	data, err := os.ReadFile(body)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{
		"from tiny **v1.0.0** to **v2.0.0**",
		"### ⚠ 1 conflict(s): resolve before merging",
		"- `logo.bin` (**no markers**): changed by you and by the new version, and not text",
		"### Security changes\n\n- v2.0.0: the second\n",
		"### Other changes\n\n- v2.0.0: a colour\n",
		"- added (1): `docs/notes.md`\n- removed (1): `notes.txt`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the body lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "conflict(s)") > strings.Index(text, "Security changes") || strings.Index(text, "Security changes") > strings.Index(text, "Other changes") {
		t.Errorf("conflicts, then security, then other changes:\n%s", text)
	}
}
