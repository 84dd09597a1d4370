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
// and a target whose parent directory does not exist.
func CheckTarget(target string) error {
	info, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		parent := filepath.Dir(target)
		pinfo, perr := os.Stat(parent)
		if perr != nil {
			return inputErrorf("cannot create %s: its parent directory %s does not exist; create it first", target, parent)
		}
		if !pinfo.IsDir() {
			return inputErrorf("cannot create %s: %s is not a directory", target, parent)
		}
		return nil
	case err != nil:
		return inputErrorf("cannot use %s: %w", target, err)
	case !info.IsDir():
		return inputErrorf("%s already exists and is not a directory; choose another name or --output", target)
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return inputErrorf("cannot read %s: %w", target, err)
	}
	if len(entries) > 0 {
		return inputErrorf("%s already exists and is not empty (it holds %s%s); rampart never writes into a directory with files in it: choose another name or --output",
			target, entries[0].Name(), moreSuffix(len(entries)-1))
	}
	return nil
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
// it into place. On any error or cancellation of ctx the temporary
// directory is removed and target is left as it was.
func WriteProject(ctx context.Context, target string, files []File, opts WriteOptions) (err error) {
	if err := CheckTarget(target); err != nil {
		return err
	}
	parent, base := filepath.Dir(target), filepath.Base(target)
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
