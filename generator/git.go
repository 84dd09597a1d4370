package generator

import (
	"context"
	"os"
	"os/exec"
)

// GitStatus says what InitGit did; none of its outcomes is an error.
type GitStatus string

const (
	GitCommitted   GitStatus = "initialized with a first commit"
	GitInitialized GitStatus = "initialized; files staged but not committed (set user.name and user.email, then commit)"
	GitMissing     GitStatus = "skipped: git is not installed"
	GitFailed      GitStatus = "skipped: git init failed"
	GitSkipped     GitStatus = "skipped (--no-git)"
)

// InitGit makes dir a git repository with every file committed when git
// and an identity are available. A missing git or identity is reported,
// never an error, except cancellation.
func InitGit(ctx context.Context, dir string) (GitStatus, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return GitMissing, nil
	}
	run := func(args ...string) error {
		// Hooks, signing and credential prompts from the user's global
		// configuration must not run or block here.
		base := []string{"-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}
		cmd := exec.CommandContext(ctx, gitPath, append(base, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
		return cmd.Run()
	}
	if err := run("init", "-q"); err != nil {
		if ctx.Err() != nil {
			return "", ErrInterrupted
		}
		return GitFailed, nil
	}
	if err := run("add", "-A"); err != nil {
		if ctx.Err() != nil {
			return "", ErrInterrupted
		}
		return GitInitialized, nil
	}
	if err := run("commit", "-q", "--no-verify", "-m", "Initial commit from rampart"); err != nil {
		if ctx.Err() != nil {
			return "", ErrInterrupted
		}
		return GitInitialized, nil
	}
	return GitCommitted, nil
}
