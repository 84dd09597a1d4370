package generator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CheckTarget refuses a target that exists and is not an empty directory,
// and a target whose nearest existing ancestor is not a directory. Missing
// parent directories are fine: WriteProject creates them.
func CheckTarget(target string) error {
	info, err := os.Lstat(target)
	switch {
	case err != nil:
		if aerr := checkNearestAncestor(target); aerr != nil {
			return aerr
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return inputErrorf("cannot use %s: %w", target, err)
		}
		return nil
	case !info.IsDir():
		return &InputError{Err: &TargetError{Target: target, Problem: "already exists and is not a directory"}}
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return inputErrorf("cannot read %s: %w", target, err)
	}
	if len(entries) > 0 {
		return &InputError{Err: &TargetError{Target: target, Problem: fmt.Sprintf(
			"already exists and is not empty (it holds %s%s); rampart never writes into a directory with files in it",
			entries[0].Name(), moreSuffix(len(entries)-1))}}
	}
	return nil
}

// checkNearestAncestor refuses a path whose nearest existing ancestor is
// not a directory: nothing can be created under a file.
func checkNearestAncestor(target string) error {
	for p := filepath.Dir(target); ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err == nil {
			if !info.IsDir() {
				return inputErrorf("cannot create %s: %s is a file, not a directory", target, p)
			}
			return nil
		}
		if filepath.Dir(p) == p {
			return inputErrorf("cannot create %s: %w", target, err)
		}
	}
}

func moreSuffix(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n)
}

// WriteOptions tunes WriteProject.
type WriteOptions struct {
	// AfterWrite, when set, runs in the staging directory after every file
	// is written and before it is moved into place (for example git init).
	AfterWrite func(ctx context.Context, staging string) error
	// onFile is a test seam called after each file is written.
	onFile func(path string)
}

// WriteProject writes files into a temporary sibling of target and renames
// it into place, creating target's missing parent directories first. On
// any error or cancellation of ctx the temporary directory and the parents
// it created are removed, and target is left as it was.
func WriteProject(ctx context.Context, target string, files []File, opts WriteOptions) (err error) {
	if err := CheckTarget(target); err != nil {
		return err
	}
	parent, base := filepath.Dir(target), filepath.Base(target)
	created, err := makeParents(parent)
	// Registered before the staging clean-up, so it runs after it: the
	// parents are empty again by then.
	defer func() {
		if err != nil {
			removeCreated(created)
		}
	}()
	if err != nil {
		return err
	}
	staging, err := os.MkdirTemp(parent, "."+base+".rampart-*")
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return inputErrorf("cannot create the project in %s: the directory is not writable", parent)
		}
		return fmt.Errorf("creating a staging directory in %s: %w", parent, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(staging)
		}
	}()
	made := map[string]bool{} // directories already created: one MkdirAll each
	for _, f := range files {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		if err := writeFile(staging, f, made); err != nil {
			return err
		}
		if opts.onFile != nil {
			opts.onFile(f.Path)
		}
	}
	if opts.AfterWrite != nil {
		if err := opts.AfterWrite(ctx, staging); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	// MkdirTemp made the staging directory 0700; a project is 0755 like
	// any directory the user makes.
	if err := os.Chmod(staging, 0o755); err != nil {
		return fmt.Errorf("setting permissions on %s: %w", staging, err)
	}
	return moveIntoPlace(staging, target)
}

// makeParents creates dir and its missing ancestors, and returns the
// directories it created, outermost first.
func makeParents(dir string) ([]string, error) {
	var missing []string
	for p := dir; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) || filepath.Dir(p) == p {
			break
		}
		missing = append(missing, p)
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], 0o755)
		switch {
		case errors.Is(err, fs.ErrExist):
			// Made by someone else meanwhile: not ours to remove.
		case errors.Is(err, fs.ErrPermission):
			return created, inputErrorf("cannot create the directory %s: %s is not writable", missing[i], filepath.Dir(missing[i]))
		case err != nil:
			return created, fmt.Errorf("creating the directory %s: %w", missing[i], err)
		default:
			created = append(created, missing[i])
		}
	}
	return created, nil
}

// removeCreated removes the directories makeParents created, innermost
// first. os.Remove leaves any that something else has put a file in.
func removeCreated(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		_ = os.Remove(created[i])
	}
}

func writeFile(root string, f File, made map[string]bool) error {
	dest := filepath.Join(root, filepath.FromSlash(f.Path))
	if dir := filepath.Dir(dest); !made[dir] {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating directory for %s: %w", f.Path, err)
		}
		made[dir] = true
	}
	if err := os.WriteFile(dest, f.Contents, f.Mode); err != nil {
		return fmt.Errorf("writing %s: %w", f.Path, err)
	}
	// WriteFile's mode is filtered by the umask; make it exact.
	if err := os.Chmod(dest, f.Mode); err != nil {
		return fmt.Errorf("setting mode of %s: %w", f.Path, err)
	}
	return nil
}

// moveIntoPlace renames staging to target. os.Rename refuses to replace a
// directory, so an empty target directory is removed first (os.Remove
// fails if anything appeared in it meanwhile) and restored if the rename
// fails.
func moveIntoPlace(staging, target string) error {
	info, err := os.Lstat(target)
	if err == nil && info.IsDir() {
		if err := os.Remove(target); err != nil {
			return inputErrorf("%s is no longer empty: %w", target, err)
		}
		if err := os.Rename(staging, target); err != nil {
			_ = os.Mkdir(target, info.Mode().Perm())
			return fmt.Errorf("moving the project into %s: %w", target, err)
		}
		return nil
	}
	if err := os.Rename(staging, target); err != nil {
		return fmt.Errorf("moving the project into %s: %w", target, err)
	}
	return nil
}
