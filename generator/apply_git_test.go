package generator

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Conflicts land on the right index entries wherever the project lives in
// the repository, whatever its directory is called.
func TestConflictsAreUnmergedAtTheirOwnPath(t *testing.T) {
	for _, sub := range []string{"plain", " lead", `"q"`, "sp ace/ü"} {
		t.Run(sub, func(t *testing.T) {
			repo := t.TempDir()
			gitT(t, repo, "init", "-q")
			project := filepath.Join(repo, sub)
			if err := os.MkdirAll(project, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, text := range map[string]string{AnswersFile: "blueprint: x\n", "f.txt": "ours\n"} {
				if err := os.WriteFile(filepath.Join(project, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			gitT(t, repo, "add", "-A")
			gitT(t, repo, "commit", "-q", "-m", "x")
			if err := CheckCleanWorkTree(context.Background(), project); err != nil {
				t.Fatal(err)
			}
			merged := []MergedPath{{Path: "f.txt", Outcome: Conflicted, Base: v("base\n"), Ours: v("ours\n"), Theirs: v("theirs\n"), Result: v("<<<<<<< ours\n")}}
			if err := ApplyMerge(context.Background(), project, merged); err != nil {
				t.Fatal(err)
			}
			unmerged := gitT(t, repo, "ls-files", "-u", "-z")
			want := filepath.ToSlash(filepath.Join(sub, "f.txt"))
			entries := strings.Split(strings.TrimSuffix(unmerged, "\x00"), "\x00")
			if len(entries) != 3 {
				t.Fatalf("unmerged entries %q, want 3 stages of %s", entries, want)
			}
			for _, e := range entries {
				if _, path, _ := strings.Cut(e, "\t"); path != want {
					t.Errorf("unmerged entry %q, want path %q", e, want)
				}
			}
		})
	}
}

// A project its repository ignores cannot be merged: git could not undo it.
func TestAnIgnoredProjectIsRefused(t *testing.T) {
	repo := t.TempDir()
	gitT(t, repo, "init", "-q")
	if err := os.WriteFile(filepath.Join(repo, ".gitignore"), []byte("shop/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitT(t, repo, "add", "-A")
	gitT(t, repo, "commit", "-q", "-m", "x")
	project := filepath.Join(repo, "shop")
	if err := os.MkdirAll(project, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, AnswersFile), []byte("blueprint: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := CheckCleanWorkTree(context.Background(), project)
	if err == nil || !strings.Contains(err.Error(), "not committed to git") {
		t.Errorf("an ignored project: %v", err)
	}
}

// A conflicted move: the old path goes, the new one holds the markers and
// git's index has base, the user's copy (from the old path) and theirs.
func TestAConflictedMoveIsUnmergedAtTheNewPath(t *testing.T) {
	dir := t.TempDir()
	gitT(t, dir, "init", "-q")
	for name, text := range map[string]string{AnswersFile: "blueprint: x\n", "old.txt": "uno\ntwo\nthree\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitT(t, dir, "add", "-A")
	gitT(t, dir, "commit", "-q", "-m", "x")
	merged, err := ThreeWay(context.Background(),
		[]File{{Path: "old.txt", Contents: []byte("one\ntwo\nthree\n"), Mode: 0o644}},
		[]File{{Path: "new.txt", Contents: []byte("eins\ntwo\nthree\n"), Mode: 0o644}},
		ReadWorkTree(dir), GitMergeFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyMerge(context.Background(), dir, merged); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "old.txt")); !os.IsNotExist(err) {
		t.Errorf("old.txt is still there: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "new.txt"))
	if err != nil || !strings.Contains(string(data), "<<<<<<< ours") || !strings.Contains(string(data), "uno") {
		t.Fatalf("new.txt %q %v", data, err)
	}
	stages := gitT(t, dir, "ls-files", "-u", "--", "new.txt")
	if strings.Count(stages, "new.txt") != 3 {
		t.Fatalf("unmerged stages of new.txt:\n%s", stages)
	}
	ours := gitT(t, dir, "show", ":2:new.txt")
	if ours != "uno\ntwo\nthree\n" {
		t.Errorf("git's ours stage %q, want the user's copy of old.txt", ours)
	}
}

// A directory the user replaced with a symbolic link is theirs: nothing
// under it is changed, added or removed, wherever the link points.
func TestNothingIsWrittenUnderASymbolicLink(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	gitT(t, dir, "init", "-q")
	if err := os.WriteFile(filepath.Join(outside, "app.yaml"), []byte("replicas: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "old.yaml"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "same.yaml"), []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, AnswersFile), []byte("blueprint: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "deploy")); err != nil {
		t.Fatal(err)
	}
	gitT(t, dir, "add", "-A")
	gitT(t, dir, "commit", "-q", "-m", "x")
	merged, err := ThreeWay(context.Background(),
		[]File{{Path: "deploy/app.yaml", Contents: []byte("replicas: 1\n"), Mode: 0o644}, {Path: "deploy/old.yaml", Contents: []byte("old\n"), Mode: 0o644}, {Path: "deploy/same.yaml", Contents: []byte("same\n"), Mode: 0o644}},
		[]File{{Path: "deploy/app.yaml", Contents: []byte("replicas: 2\n"), Mode: 0o644}, {Path: "deploy/new.yaml", Contents: []byte("new\n"), Mode: 0o644}, {Path: "deploy/same.yaml", Contents: []byte("same\n"), Mode: 0o644}},
		ReadWorkTree(dir), GitMergeFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range merged {
		// What the new version does not change there is not news.
		if m.Path == "deploy/same.yaml" {
			if m.Outcome != Unchanged {
				t.Errorf("%s: %s, want unchanged", m.Path, m.Outcome)
			}
			continue
		}
		if m.Outcome != Kept || !strings.Contains(m.Why, "under deploy, a symbolic link") {
			t.Errorf("%s: %s (%s), want kept under the link", m.Path, m.Outcome, m.Why)
		}
	}
	if err := ApplyMerge(context.Background(), dir, merged); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(outside)
	data, _ := os.ReadFile(filepath.Join(outside, "app.yaml"))
	if len(entries) != 3 || string(data) != "replicas: 1\n" {
		t.Errorf("the linked directory changed: %d entries, app.yaml %q", len(entries), data)
	}
}

// A moved file keeps the permission bits the user's copy had.
func TestAMovedFileKeepsItsPermissions(t *testing.T) {
	dir := t.TempDir()
	gitT(t, dir, "init", "-q")
	if err := os.WriteFile(filepath.Join(dir, AnswersFile), []byte("blueprint: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "old.txt"), []byte("one\ntwo\nthree\nmine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gitT(t, dir, "add", "-A")
	gitT(t, dir, "commit", "-q", "-m", "x")
	merged, err := ThreeWay(context.Background(),
		[]File{{Path: "old.txt", Contents: []byte("one\ntwo\nthree\n"), Mode: 0o644}},
		[]File{{Path: "new.txt", Contents: []byte("one\ntwo\nthree\n"), Mode: 0o644}},
		ReadWorkTree(dir), GitMergeFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyMerge(context.Background(), dir, merged); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "new.txt"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("new.txt: %v %v, want 0600", info, err)
	}
}

// A generated file the user replaced with a symbolic link is theirs too:
// the update does not write through it, and says so.
func TestAFileReplacedByASymbolicLinkIsKept(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	gitT(t, dir, "init", "-q")
	target := filepath.Join(outside, "shared.mk")
	if err := os.WriteFile(target, []byte("shared\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, AnswersFile), []byte("blueprint: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "Makefile")); err != nil {
		t.Fatal(err)
	}
	gitT(t, dir, "add", "-A")
	gitT(t, dir, "commit", "-q", "-m", "x")
	merged, err := ThreeWay(context.Background(),
		[]File{{Path: "Makefile", Contents: []byte("v1\n"), Mode: 0o644}},
		[]File{{Path: "Makefile", Contents: []byte("v2\n"), Mode: 0o644}},
		ReadWorkTree(dir), GitMergeFile)
	if err != nil {
		t.Fatal(err)
	}
	if m := merged[0]; m.Outcome != Kept || !strings.Contains(m.Why, "a symbolic link you made") {
		t.Fatalf("Makefile: %s (%s), want kept", m.Outcome, m.Why)
	}
	if err := ApplyMerge(context.Background(), dir, merged); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(target); string(data) != "shared\n" {
		t.Errorf("written through the link: %q", data)
	}
	if info, err := os.Lstat(filepath.Join(dir, "Makefile")); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is gone: %v %v", info, err)
	}
}
