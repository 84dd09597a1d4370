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
		// Git tracks a symbolic link, never the files under it: a merge
		// there could not be undone with git, and could write outside the
		// project.
		parts := strings.Split(path, "/")
		for i := 1; i < len(parts); i++ {
			parent := strings.Join(parts[:i], "/")
			info, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(parent)))
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			if err != nil {
				return nil, err
			}
			if info.Mode()&fs.ModeSymlink != 0 {
				return nil, &LinkedParentError{Path: path, Link: parent}
			}
		}
		p := filepath.Join(dir, filepath.FromSlash(path))
		info, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return nil, &LinkedParentError{Path: path, Link: path}
		}
		if !info.Mode().IsRegular() {
			return nil, inputErrorf("%s is not a regular file (rampart generated one there); move it away first", path)
		}
		contents, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		return &Version{Contents: contents, Mode: gitMode(info.Mode().Perm()), perm: info.Mode().Perm()}, nil
	}
}

// LinkedParentError says that Path, or a directory above it (Link), is a
// symbolic link: the project's copy of Path is not the project's to merge.
type LinkedParentError struct{ Path, Link string }

func (e *LinkedParentError) Error() string {
	if e.Link == e.Path {
		return e.Path + " is a symbolic link"
	}
	return fmt.Sprintf("%s is under %s, a symbolic link", e.Path, e.Link)
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
	// The project itself must be tracked (not ignored by an enclosing repository).
	if _, err := git(ctx, dir, nil, "ls-files", "--error-unmatch", "--", AnswersFile); err != nil {
		if errors.Is(err, ErrInterrupted) {
			return err
		}
		return inputErrorf("%s is not committed to git (is the project ignored by the repository around it?); commit it first", filepath.Join(dir, AnswersFile))
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
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
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
	keepWork := false // when a file could not be put back, its copy stays here
	defer func() {
		if !keepWork {
			os.RemoveAll(work)
		}
	}()
	// Stage every new file's contents beside the project.
	for i, m := range changes {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		if m.Result != nil {
			if err := os.WriteFile(filepath.Join(work, fmt.Sprintf("new-%d", i)), m.Result.Contents, 0o600); err != nil {
				return fmt.Errorf("staging %s: %w", m.Path, err)
			}
		}
	}
	// Swap: each old file to the backup, each new one into place.
	var done []int
	madeDirs := []string{}
	rollback := func() (failed []string) {
		for j := len(done) - 1; j >= 0; j-- {
			i := done[j]
			target := filepath.Join(dir, filepath.FromSlash(changes[i].Path))
			if changes[i].Result != nil {
				_ = os.Remove(target)
			}
			if changes[i].Ours != nil {
				if err := os.Rename(filepath.Join(work, fmt.Sprintf("old-%d", i)), target); err != nil {
					failed = append(failed, fmt.Sprintf("%s (its copy: %s)", changes[i].Path, filepath.Join(work, fmt.Sprintf("old-%d", i))))
				}
			}
		}
		for j := len(madeDirs) - 1; j >= 0; j-- {
			_ = os.Remove(madeDirs[j])
		}
		return failed
	}
	defer func() {
		if err != nil {
			if failed := rollback(); len(failed) > 0 {
				keepWork = true
				err = fmt.Errorf("%w; putting the project back failed for %s", err, strings.Join(failed, ", "))
			}
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
			if err := os.Chmod(target, finalPerm(m)); err != nil {
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

// finalPerm is the merged file's permission bits: the executable bit from
// the merge, the rest as the work tree had them (a group-writable checkout
// stays group-writable), or 0644/0755 for a new file.
func finalPerm(m MergedPath) fs.FileMode {
	ours := m.usersCopy()
	if ours == nil || ours.perm == 0 {
		return m.Result.Mode
	}
	perm := ours.perm &^ 0o111
	if m.Result.Mode&0o111 != 0 {
		perm |= (perm & 0o444) >> 2 // executable wherever readable
	}
	return perm
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
	out, err := git(ctx, dir, nil, "rev-parse", "--show-prefix")
	if err != nil {
		return err
	}
	prefix := strings.TrimSuffix(string(out), "\n")
	var info strings.Builder
	for _, m := range merged {
		if m.Outcome != Conflicted {
			continue
		}
		path := prefix + m.Path
		var stages []string
		zero := ""
		for stage, v := range []*Version{m.Base, m.usersCopy(), m.Theirs} {
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
			stages = append(stages, fmt.Sprintf("%s %s %d\t%s\x00", mode, sha, stage+1, path))
		}
		// The merged entry (stage 0) goes; the three sides take its place.
		fmt.Fprintf(&info, "0 %s\t%s\x00", zero, path)
		info.WriteString(strings.Join(stages, ""))
	}
	// The commit point of the merge: once begun it finishes, so that a Ctrl-C
	// cannot leave index.lock behind (the files are already in place).
	_, err = git(context.WithoutCancel(ctx), dir, []byte(info.String()), "update-index", "-z", "--index-info")
	return err
}
