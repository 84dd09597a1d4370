package generator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleFiles() []File {
	return []File{
		{Path: "README.md", Contents: []byte("# x\n"), Mode: 0o644},
		{Path: "bin/run", Contents: []byte("#!/bin/sh\n"), Mode: 0o755},
		{Path: "src/pkg/a.py", Contents: []byte("A = 1\n"), Mode: 0o644},
		{Path: ".env", Contents: []byte("SECRET_KEY=x\n"), Mode: 0o600, Local: true},
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteProjectCreatesFilesWithModes(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "proj")
	if err := WriteProject(context.Background(), target, sampleFiles(), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range sampleFiles() {
		info, err := os.Stat(filepath.Join(target, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != f.Mode {
			t.Errorf("%s mode %o, want %o", f.Path, info.Mode().Perm(), f.Mode)
		}
	}
	if got := entries(t, parent); len(got) != 1 || got[0] != "proj" {
		t.Fatalf("parent holds %v, want only proj (no staging left)", got)
	}
}

func TestWriteProjectIntoEmptyDirectory(t *testing.T) {
	target := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteProject(context.Background(), target, sampleFiles(), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "src/pkg/a.py")); err != nil {
		t.Fatal(err)
	}
}

func TestWriteProjectRefusesNonEmptyTargetAndLeavesItAlone(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "taken")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(target, "mine.txt")
	if err := os.WriteFile(mine, []byte("user data"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteProject(context.Background(), target, sampleFiles(), WriteOptions{})
	if !errors.As(err, new(*InputError)) || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("error = %v, want an InputError about a non-empty target", err)
	}
	if data, _ := os.ReadFile(mine); string(data) != "user data" {
		t.Fatal("the user's file changed")
	}
	if got := entries(t, target); len(got) != 1 {
		t.Fatalf("target holds %v", got)
	}
	if got := entries(t, parent); len(got) != 1 {
		t.Fatalf("parent holds %v, want nothing beside the target", got)
	}
}

func TestCheckTargetRefusesFilesOnTheWay(t *testing.T) {
	parent := t.TempDir()
	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]string{
		file:                               "already exists and is not a directory",
		filepath.Join(file, "x"):           file + " is a file, not a directory",
		filepath.Join(file, "deeper", "x"): file + " is a file, not a directory",
	} {
		err := CheckTarget(target)
		if !errors.As(err, new(*InputError)) || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckTarget(%s) = %v, want %q", target, err, want)
		}
	}
	if err := CheckTarget(filepath.Join(parent, "no", "such", "x")); err != nil {
		t.Errorf("missing parents are created when writing, but CheckTarget refused them: %v", err)
	}
}

func TestWriteProjectCreatesMissingParents(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "services", "billing", "api")
	if err := WriteProject(context.Background(), target, sampleFiles(), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "README.md")); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, filepath.Join(root, "services", "billing")); len(got) != 1 || got[0] != "api" {
		t.Fatalf("services/billing holds %v, want only api", got)
	}
}

// On failure and on interruption, the parents WriteProject made are gone
// again, and the ones that were there before are kept.
func TestWriteProjectRemovesOnlyTheParentsItCreated(t *testing.T) {
	cases := map[string]struct {
		opts func(cancel func()) WriteOptions
		want func(error) bool
	}{
		"failure": {
			opts: func(func()) WriteOptions {
				return WriteOptions{AfterWrite: func(context.Context, string) error { return errors.New("boom") }}
			},
			want: func(err error) bool { return err != nil && err.Error() == "boom" },
		},
		"interruption": {
			opts: func(cancel func()) WriteOptions { return WriteOptions{onFile: func(string) { cancel() }} },
			want: func(err error) bool { return errors.Is(err, ErrInterrupted) },
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			existing := filepath.Join(root, "existing")
			if err := os.Mkdir(existing, 0o755); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(existing, "made", "by", "rampart", "proj")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := WriteProject(ctx, target, sampleFiles(), c.opts(cancel))
			if !c.want(err) {
				t.Fatalf("error = %v", err)
			}
			if got := entries(t, root); len(got) != 1 || got[0] != "existing" {
				t.Fatalf("root holds %v, want only the directory that was there before", got)
			}
			if got := entries(t, existing); len(got) != 0 {
				t.Fatalf("existing holds %v, want the created parents removed", got)
			}
		})
	}
}

func TestCancellationMidWriteLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "proj")
	ctx, cancel := context.WithCancel(context.Background())
	written := 0
	err := WriteProject(ctx, target, sampleFiles(), WriteOptions{onFile: func(string) {
		written++
		if written == 2 {
			cancel() // Ctrl-C after two files are on disk
		}
	}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error = %v, want ErrInterrupted", err)
	}
	if written != 2 {
		t.Fatalf("wrote %d files before stopping, want 2", written)
	}
	if got := entries(t, parent); len(got) != 0 {
		t.Fatalf("parent holds %v after cancellation, want nothing", got)
	}
}

func TestFailureInAfterWriteLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "proj")
	boom := errors.New("boom")
	err := WriteProject(context.Background(), target, sampleFiles(), WriteOptions{
		AfterWrite: func(context.Context, string) error { return boom },
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v", err)
	}
	if got := entries(t, parent); len(got) != 0 {
		t.Fatalf("parent holds %v, want nothing", got)
	}
}

func TestWriteFailureLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "proj")
	files := append(sampleFiles(), File{Path: "README.md/child", Contents: []byte("x"), Mode: 0o644})
	if err := WriteProject(context.Background(), target, files, WriteOptions{}); err == nil {
		t.Fatal("want an error writing under a file")
	}
	if got := entries(t, parent); len(got) != 0 {
		t.Fatalf("parent holds %v, want nothing", got)
	}
}

func TestInitGitCommitsWhenPossible(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_AUTHOR_NAME", "T")
	t.Setenv("GIT_AUTHOR_EMAIL", "t@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "T")
	t.Setenv("GIT_COMMITTER_EMAIL", "t@example.com")
	status, err := InitGit(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if status == GitMissing {
		t.Skip("git is not installed")
	}
	if status != GitCommitted {
		t.Fatalf("status = %q, want %q", status, GitCommitted)
	}
}

func TestInitGitWithoutGitIsNotAnError(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	status, err := InitGit(context.Background(), t.TempDir())
	if err != nil || status != GitMissing {
		t.Fatalf("status %q, err %v; want %q and no error", status, err, GitMissing)
	}
}
