package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ReadWorkTree returns a readOurs for ThreeWay over the project in dir.
func ReadWorkTree(dir string) func(string) (*Version, error) {
	return func(path string) (*Version, error) {
		p := filepath.Join(dir, filepath.FromSlash(path))
		info, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !info.Mode().IsRegular() {
			return nil, inputErrorf("%s is not a regular file (rampart generated one there); move it away first", path)
		}
		contents, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		return &Version{Contents: contents, Mode: info.Mode().Perm()}, nil
	}
}

// git runs git in dir and returns its standard output.
func git(ctx context.Context, dir string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ErrInterrupted
		}
		return nil, fmt.Errorf("git %s: %v: %s", args[0], err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// CheckCleanWorkTree refuses a project that is not in git or whose work tree
// has changes git would show (untracked files included): a merge must be
// undoable with git, and must not mix with work in progress.
func CheckCleanWorkTree(ctx context.Context, dir string) error {
	if _, err := exec.LookPath("git"); err != nil {
		return inputErrorf("git is not installed: rampart merges into a project's committed work, and leaves conflicts in git's index")
	}
	if _, err := git(ctx, dir, nil, "rev-parse", "--verify", "-q", "HEAD"); err != nil {
		if errors.Is(err, ErrInterrupted) {
			return err
		}
		return inputErrorf("%s is not a git work tree with a commit; commit the project first (git init && git add -A && git commit)", dir)
	}
	out, err := git(ctx, dir, nil, "status", "--porcelain", "--untracked-files=all", "--", ".")
	if err != nil {
		return err
	}
	if len(out) > 0 {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		more := ""
		if len(lines) > 5 {
			lines, more = lines[:5], fmt.Sprintf("\n  ... and %d more", len(lines)-5)
		}
		return inputErrorf("the project has uncommitted changes; commit or stash them first, so that the merge can be undone:\n  %s%s", strings.Join(lines, "\n  "), more)
	}
	return nil
}

// ApplyMerge writes the merge into the project in dir, all or nothing: new
// contents are staged first, then swapped in; any error or cancellation
// puts every file back as it was. Conflicted paths are then recorded in
// git's index as unmerged (stages 1, 2, 3), as git merge does.
func ApplyMerge(ctx context.Context, dir string, merged []MergedPath) (err error) {
	var changes []MergedPath
	for _, m := range merged {
		if !same(m.Result, m.Ours) {
			changes = append(changes, m)
		}
	}
	conflicted := 0
	for _, m := range merged {
		if m.Outcome == Conflicted {
			conflicted++
		}
	}
	if len(changes) == 0 && conflicted == 0 {
		return nil
	}
	work, err := os.MkdirTemp(dir, ".rampart-merge-*")
	if err != nil {
		return fmt.Errorf("staging the merge: %w", err)
	}
	defer os.RemoveAll(work)
	// Stage every new file's contents beside the project.
	for i, m := range changes {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		if m.Result != nil {
			if err := os.WriteFile(filepath.Join(work, fmt.Sprintf("new-%d", i)), m.Result.Contents, m.Result.Mode); err != nil {
				return fmt.Errorf("staging %s: %w", m.Path, err)
			}
		}
	}
	// Swap: each old file to the backup, each new one into place.
	var done []int
	madeDirs := []string{}
	rollback := func() {
		for j := len(done) - 1; j >= 0; j-- {
			i := done[j]
			target := filepath.Join(dir, filepath.FromSlash(changes[i].Path))
			if changes[i].Result != nil {
				_ = os.Remove(target)
			}
			if changes[i].Ours != nil {
				_ = os.Rename(filepath.Join(work, fmt.Sprintf("old-%d", i)), target)
			}
		}
		for j := len(madeDirs) - 1; j >= 0; j-- {
			_ = os.Remove(madeDirs[j])
		}
	}
	defer func() {
		if err != nil {
			rollback()
		}
	}()
	for i, m := range changes {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		target := filepath.Join(dir, filepath.FromSlash(m.Path))
		if m.Result != nil {
			made, err := makeParents(filepath.Dir(target))
			madeDirs = append(madeDirs, made...)
			if err != nil {
				return fmt.Errorf("creating the directory of %s: %w", m.Path, err)
			}
		}
		if m.Ours != nil {
			if err := os.Rename(target, filepath.Join(work, fmt.Sprintf("old-%d", i))); err != nil {
				return fmt.Errorf("replacing %s: %w", m.Path, err)
			}
		}
		done = append(done, i)
		if m.Result != nil {
			if err := os.Rename(filepath.Join(work, fmt.Sprintf("new-%d", i)), target); err != nil {
				return fmt.Errorf("writing %s: %w", m.Path, err)
			}
			// The umask may have narrowed the staged file's mode.
			if err := os.Chmod(target, m.Result.Mode); err != nil {
				return fmt.Errorf("setting the mode of %s: %w", m.Path, err)
			}
		}
	}
	if conflicted > 0 {
		if err := recordConflicts(ctx, dir, merged); err != nil {
			return fmt.Errorf("recording the conflicts in git's index: %w", err)
		}
	}
	// Directories a removal emptied go too (never the project's own).
	for _, i := range done {
		if changes[i].Result == nil {
			removeEmptyParents(dir, filepath.Dir(filepath.Join(dir, filepath.FromSlash(changes[i].Path))))
		}
	}
	return nil
}

func removeEmptyParents(root, dir string) {
	for dir != root && strings.HasPrefix(dir, root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// recordConflicts marks each conflicted path unmerged in git's index, with
// the base, ours and theirs blobs as stages 1, 2 and 3, so that git status,
// git mergetool and editors see the conflicts. Nothing is recorded if any
// step fails.
func recordConflicts(ctx context.Context, dir string, merged []MergedPath) error {
	prefix, err := git(ctx, dir, nil, "rev-parse", "--show-prefix")
	if err != nil {
		return err
	}
	var info strings.Builder
	for _, m := range merged {
		if m.Outcome != Conflicted {
			continue
		}
		path := strings.TrimSpace(string(prefix)) + m.Path
		var stages []string
		zero := ""
		for stage, v := range []*Version{m.Base, m.Ours, m.Theirs} {
			if v == nil {
				continue
			}
			out, err := git(ctx, dir, v.Contents, "hash-object", "-w", "--stdin")
			if err != nil {
				return err
			}
			sha := strings.TrimSpace(string(out))
			zero = strings.Repeat("0", len(sha)) // SHA-1 or SHA-256 repositories
			mode := "100644"
			if v.Mode&0o111 != 0 {
				mode = "100755"
			}
			stages = append(stages, fmt.Sprintf("%s %s %d\t%s\n", mode, sha, stage+1, path))
		}
		// The merged entry (stage 0) goes; the three sides take its place.
		fmt.Fprintf(&info, "0 %s\t%s\n", zero, path)
		info.WriteString(strings.Join(stages, ""))
	}
	_, err = git(ctx, dir, []byte(info.String()), "update-index", "--index-info")
	return err
}
