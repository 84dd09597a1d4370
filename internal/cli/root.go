// Package cli holds rampart's cobra commands.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/internal/buildinfo"
	"github.com/rampart-dev/rampart/internal/iostreams"
	"github.com/rampart-dev/rampart/internal/prompter"
	"github.com/rampart-dev/rampart/templates"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitFailure     = 1   // failure while generating (I/O)
	ExitUsage       = 2   // invalid usage or input
	ExitConflicts   = 3   // rampart update or set: merged, with conflicts left for the user
	ExitBehind      = 4   // rampart check: an update is available
	ExitInterrupted = 130 // Ctrl-C, or "no" at the summary of an interactive run
)

// exitStatus is an outcome that is not an error but needs its own exit
// code, such as "behind" from rampart check; the command has already said so.
type exitStatus struct{ code int }

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Factory carries what commands need from the outside world, so tests can
// replace each piece.
type Factory struct {
	IO         *iostreams.IOStreams
	Build      buildinfo.Info
	Blueprints func() (map[string]*generator.Blueprint, error)
	Prompter   func() Prompter
	// Releases opens a blueprint's released versions (rampart update and
	// set replay the one a project was generated from).
	Releases func(blueprint string) (*generator.ReleaseStore, error)
}

// NewFactory returns the factory of a real run.
func NewFactory() *Factory {
	build := buildinfo.Read()
	streams := iostreams.System()
	return &Factory{
		IO:    streams,
		Build: build,
		// Loaded once per process: building the commands (their flags) and
		// running one both need them.
		Blueprints: sync.OnceValues(func() (map[string]*generator.Blueprint, error) {
			return generator.LoadBlueprints(blueprints.Manifests, templates.FS, build.Version)
		}),
		// On the same streams as everything else the command reads and writes.
		Prompter: func() Prompter { return prompter.New(streams.In, streams.Out, streams.ErrOut) },
		Releases: func(name string) (*generator.ReleaseStore, error) {
			return generator.OpenReleases(blueprints.Releases, name)
		},
	}
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "rampart",
		Short:         "Generate secure-by-default projects from blueprints",
		Long:          rootDescription(f),
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       f.Build.Version,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{err: err, cmd: cmd}
	})
	root.AddCommand(NewCmdNew(f, nil), newCmdCheck(f, nil), newCmdUpdate(f, nil), newCmdSet(f, nil),
		newCmdBlueprints(f), newCmdVersion(f))
	return root
}

// rootDescription says what rampart makes, from the blueprints' own summaries.
func rootDescription(f *Factory) string {
	text := "rampart generates a complete, secure-by-default project from a blueprint: app code with\n" +
		"its security controls wired in and tested, and the tooling around it."
	all, err := f.Blueprints()
	if err != nil || len(all) == 0 {
		return text
	}
	text += "\n\nBlueprints (rampart new NAME --blueprint BLUEPRINT):"
	for _, b := range blueprintsDefaultFirst(all) {
		text += fmt.Sprintf("\n  %-10s %s %s", b.Name, b.Version, b.Summary)
	}
	return text
}

// usageError marks a problem with how the command was called.
type usageError struct {
	err error
	cmd *cobra.Command
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// ExitCode maps an error from a command to the process exit code.
func ExitCode(err error) int {
	var input *generator.InputError
	var usage usageError
	var status exitStatus
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &status):
		return status.code
	case errors.Is(err, generator.ErrInterrupted):
		return ExitInterrupted
	case errors.As(err, &input), errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, new(runError)):
		return ExitFailure
	default:
		// Unclassified: a command failed while doing its work. Errors cobra
		// raises before any command runs are usage errors (Execute).
		return ExitFailure
	}
}

// Execute runs root under ctx. An error raised before any command started
// (an unknown command, a wrong argument count) is a usage error; what a
// command returns keeps its own classification.
func Execute(ctx context.Context, root *cobra.Command) (*cobra.Command, error) {
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	ran, err := root.ExecuteContextC(ctx)
	var usage usageError
	if err != nil && !started && !errors.As(err, &usage) {
		err = usageError{err: err, cmd: ran}
	}
	return ran, err
}

// runError marks a failure while a command was doing its work.
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }

// Main runs rampart with the process's arguments and returns the exit code.
func Main() int {
	// The first Ctrl-C cancels the context: writing stops and the staging
	// directory is removed. Prompts see Ctrl-C themselves (raw terminal).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := NewFactory()
	cmd := NewRootCmd(f)
	ran, err := Execute(ctx, cmd)
	code := ExitCode(err)
	if err != nil && !errors.As(err, new(exitStatus)) {
		fmt.Fprintf(f.IO.ErrOut, "rampart: %s\n", err)
		if code == ExitUsage && ran != nil {
			fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", ran.CommandPath())
		}
	}
	return code
}
