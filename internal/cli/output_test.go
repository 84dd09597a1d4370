package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestOutputCreatesMissingParents(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, false, nil, "new", "billing", "--output", "services/billing", "--yes", "--no-git")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "services", "billing", "src", "billing", "__init__.py")); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, filepath.Join(dir, "services")); len(got) != 1 {
		t.Fatalf("services holds %v, want only billing", got)
	}
}

// Ctrl-C while writing removes the parents --output made, and only those.
func TestOutputParentsAreRemovedWhenInterrupted(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := runContext(t, ctx, dir, false, nil, "new", "billing", "--output", "existing/services/eu/billing", "--yes", "--no-git")
	if r.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d: %s", r.code, ExitInterrupted, r.errOut)
	}
	expectNothingWritten(t, existing)
	if got := listDir(t, dir); len(got) != 1 {
		t.Fatalf("left %v", got)
	}
}

func TestOutputUnderAFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, dir, false, nil, "new", "demo", "--output", "notes.txt/demo", "--yes")
	want := "cannot create " + filepath.Join(dir, "notes.txt", "demo") + ": " + filepath.Join(dir, "notes.txt") + " is a file, not a directory"
	if r.code != ExitUsage || r.errOut != want {
		t.Fatalf("exit %d\n got: %s\nwant: %s", r.code, r.errOut, want)
	}
	if got := listDir(t, dir); len(got) != 1 {
		t.Fatalf("left %v", got)
	}
}

// A taken --output directory needs another --output, whatever the name.
func TestTakenOutputAsksForAnotherOutput(t *testing.T) {
	dir := t.TempDir()
	taken := filepath.Join(dir, "taken")
	if err := os.MkdirAll(filepath.Join(taken, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := taken + " already exists and is not empty (it holds src); rampart never writes into a directory with files in it: choose another --output directory"
	if r := run(t, dir, false, nil, "new", "demo", "--output", "taken", "--yes"); r.code != ExitUsage || r.errOut != want {
		t.Fatalf("script: exit %d\n got: %s\nwant: %s", r.code, r.errOut, want)
	}
	p := &fakePrompter{}
	if r := run(t, dir, true, p, "new", "--output", "taken"); r.code != ExitUsage || r.errOut != want || len(p.asked) != 0 {
		t.Fatalf("terminal: exit %d, asked %v\n got: %s\nwant: %s", r.code, p.asked, r.errOut, want)
	}
}
