package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// UnifiedDiff is the unified diff (git's) of one path from before to after;
// nil stands for an absent file.
func UnifiedDiff(ctx context.Context, path string, before, after *Version) (string, error) {
	dir, err := os.MkdirTemp("", "rampart-diff-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	args := []string{"diff", "--no-index", "--no-color", "--no-ext-diff", "--text"}
	for i, v := range []*Version{before, after} {
		p := "/dev/null"
		if v != nil {
			p = filepath.Join(dir, []string{"a", "b"}[i])
			if err := os.WriteFile(p, v.Contents, 0o600); err != nil {
				return "", err
			}
			if err := os.Chmod(p, v.Mode); err != nil {
				return "", err
			}
		}
		args = append(args, p)
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		if ctx.Err() != nil {
			return "", ErrInterrupted
		}
		return "", fmt.Errorf("git diff: %v %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	// Name the project's path instead of the temporary files.
	// (git prints them without the leading slash, after a/ and b/).
	text := string(out)
	for _, side := range []string{"a", "b"} {
		text = strings.ReplaceAll(text, strings.TrimPrefix(filepath.Join(dir, side), "/"), path)
	}
	return text, nil
}
