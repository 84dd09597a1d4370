package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampart-dev/rampart/generator"
)

// DefaultBlueprint is used when --blueprint is not given.
const DefaultBlueprint = "flask"

// NewOptions is everything `rampart new` acts on, parsed from the command line.
type NewOptions struct {
	Factory *Factory

	Blueprint   string
	Name        string
	Output      string
	AnswersFile string
	Yes         bool
	DryRun      bool
	JSON        bool
	NoGit       bool
	// Flags holds answers given as flags (only those actually set).
	Flags map[string]string
}

// NewCmdNew builds `rampart new`. runF replaces the behaviour in tests of
// flag parsing; nil runs the real thing.
func NewCmdNew(f *Factory, runF func(context.Context, *NewOptions) error) *cobra.Command {
	opts := &NewOptions{Factory: f}
	all, loadErr := f.Blueprints()
	questions := questionFlags(all)

	cmd := &cobra.Command{
		Use:   "new [NAME]",
		Short: "Create a project (asks for what flags did not answer)",
		Long: "Create a project from a blueprint. Answers come from flags, then --answers FILE, then\n" +
			"interactive questions (only when stdin and stdout are terminals), then defaults (--yes).\n\n" +
			"On a terminal, a choice that a rule forbids given the earlier answers is not offered (the\n" +
			"reason is shown), a taken project directory is refused as soon as the name is typed, and\n" +
			"every answer is shown for confirmation before anything is written.",
		Example: `  rampart new demo                      # ask for the rest on the terminal
  rampart new demo --yes                # defaults for everything not given
  rampart new demo --database sqlite --cache none --auth session --deploy compose --yes
  rampart new demo --answers other/.rampart.yaml --output ./services/demo  # replay other's answers
  rampart new demo --yes --dry-run --json`,
		Args: cobra.MaximumNArgs(1),
		// Without blueprints there are no answer flags: report why, not
		// "unknown flag: --database".
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: loadErr != nil},
		RunE: func(cmd *cobra.Command, args []string) error {
			if loadErr != nil {
				return runError{fmt.Errorf("loading blueprints: %w", loadErr)}
			}
			if len(args) == 1 {
				opts.Name = args[0]
			}
			opts.Flags = map[string]string{}
			for flag, question := range questions {
				if cmd.Flags().Changed(flag) {
					v, _ := cmd.Flags().GetString(flag)
					opts.Flags[question] = v
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runNew(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Blueprint, "blueprint", "b", DefaultBlueprint, "blueprint to generate from (see 'rampart blueprints')")
	fl.StringVarP(&opts.Output, "output", "o", "", "directory to create (default ./NAME); must not exist or be empty; missing parents are created")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "take the default for every question not answered; never prompt")
	fl.StringVar(&opts.AnswersFile, "answers", "", "YAML file of answers (the format of a project's .rampart.yaml)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print every file that would be written, with its size, and write nothing")
	fl.BoolVar(&opts.JSON, "json", false, "print a machine-readable summary on stdout")
	fl.BoolVar(&opts.NoGit, "no-git", false, "do not run git init in the new project")
	// Every blueprint's questions are flags (the default blueprint's first,
	// so its help wins where two share a question); runNew refuses a flag
	// the chosen blueprint does not ask.
	registered := map[string]bool{}
	for _, b := range blueprintsDefaultFirst(all) {
		for _, q := range b.Questions {
			if q.Positional || registered[flagName(q.Name)] {
				continue
			}
			name := flagName(q.Name)
			registered[name] = true
			def := q.Default
			if strings.Contains(def, generator.LeftDelim) {
				def = "" // derived from other answers; flagUsage says how
			}
			fl.String(name, def, flagUsage(q))
			if q.Kind == generator.KindChoice {
				values := q.ChoiceValues()
				_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					return values, cobra.ShellCompDirectiveNoFileComp
				})
			}
		}
	}
	return cmd
}

// blueprintsDefaultFirst lists the blueprints, the default one first, then by name.
func blueprintsDefaultFirst(all map[string]*generator.Blueprint) []*generator.Blueprint {
	var out []*generator.Blueprint
	if b := all[DefaultBlueprint]; b != nil {
		out = append(out, b)
	}
	for _, name := range generator.SortedNames(all) {
		if name != DefaultBlueprint {
			out = append(out, all[name])
		}
	}
	return out
}

// questionFlags maps flag names to the questions they answer, across every
// built-in blueprint.
func questionFlags(all map[string]*generator.Blueprint) map[string]string {
	flags := map[string]string{}
	for _, b := range all {
		for _, q := range b.Questions {
			if !q.Positional {
				flags[flagName(q.Name)] = q.Name
			}
		}
	}
	return flags
}

func flagName(question string) string { return strings.ReplaceAll(question, "_", "-") }

func flagUsage(q generator.Question) string {
	usage := q.Prompt
	if q.Kind == generator.KindChoice {
		usage += ", one of: " + strings.Join(q.ChoiceValues(), ", ")
		for _, c := range q.Choices {
			usage += "\n  " + c.Value + ": " + c.Help
		}
		usage += "\n"
	} else if strings.Contains(q.Default, generator.LeftDelim) {
		usage += " (default derived from NAME)"
	}
	return usage
}

func runNew(ctx context.Context, opts *NewOptions) error {
	io := opts.Factory.IO
	all, err := opts.Factory.Blueprints()
	if err != nil {
		return runError{fmt.Errorf("loading blueprints: %w", err)}
	}
	bp, ok := all[opts.Blueprint]
	if !ok {
		return &generator.InputError{Err: fmt.Errorf("unknown blueprint %q for --blueprint; built in: %s", opts.Blueprint, strings.Join(generator.SortedNames(all), ", "))}
	}
	if err := flagsBelongTo(bp, all, opts.Flags); err != nil {
		return err
	}

	interactive := !opts.Yes && io.CanPrompt()
	words := newWording(bp, opts, interactive)
	sources := generator.Sources{Flags: maps.Clone(opts.Flags), UseDefaults: opts.Yes, Check: checkNameTarget(opts, words)}
	if opts.Name != "" {
		sources.Flags[positionalName(bp)] = opts.Name
	}
	if opts.AnswersFile != "" {
		if sources.File, err = readAnswersFile(opts.AnswersFile, bp); err != nil {
			return err
		}
	}
	var prompter Prompter
	if interactive {
		prompter = opts.Factory.Prompter()
		sources.Prompter = reasonsInTerms{Prompter: prompter, words: words}
	}
	// Refuse an unusable target before asking anything, when we already know it.
	if opts.Name != "" || opts.Output != "" {
		if err := checkTarget(bp, opts, opts.Name); err != nil {
			return words.target(err)
		}
	}
	res, err := bp.Resolve(sources)
	if err != nil {
		return words.explain(err, opts.Yes)
	}
	name := res.Answers[positionalName(bp)]
	target, err := targetDir(opts, name)
	if err != nil {
		return err
	}
	// Checked again: the directory may have changed while questions were asked.
	if err := generator.CheckTarget(target); err != nil {
		return words.target(err)
	}
	asked := interactive && len(res.Prompted) > 0
	if asked {
		if err := printSummary(io.ErrOut, bp, res.Answers, target, opts.DryRun); err != nil {
			return runError{err}
		}
		if !opts.DryRun {
			if err := confirmWrite(prompter); err != nil {
				return err
			}
		}
	}
	plan, err := bp.Render(res.Answers, opts.Factory.Build.Version)
	if err != nil {
		return runError{fmt.Errorf("rendering %s: %w", bp.Name, err)}
	}

	report := newReport(bp, plan, name, target, opts.DryRun)
	if opts.DryRun {
		return report.print(io, opts.JSON)
	}
	gitStatus := generator.GitSkipped
	writeOpts := generator.WriteOptions{}
	if !opts.NoGit {
		writeOpts.AfterWrite = func(ctx context.Context, staging string) error {
			gitStatus, err = generator.InitGit(ctx, staging)
			return err
		}
	}
	if err := generator.WriteProject(ctx, target, plan.Files, writeOpts); err != nil {
		if errors.Is(err, generator.ErrInterrupted) || errors.As(err, new(*generator.InputError)) {
			return words.target(err)
		}
		return runError{err}
	}
	report.Git = string(gitStatus)
	if err := report.print(io, opts.JSON); err != nil {
		return runError{err}
	}
	if asked && !opts.JSON {
		fmt.Fprintf(io.ErrOut, "\nTo generate the same project without questions:\n  %s\n", equivalentCommand(bp, res.Answers, opts))
	}
	return nil
}

func positionalName(bp *generator.Blueprint) string {
	for _, q := range bp.Questions {
		if q.Positional {
			return q.Name
		}
	}
	return "name"
}

// flagsBelongTo refuses an answer flag that the chosen blueprint does not
// ask (flags are registered for every blueprint's questions).
func flagsBelongTo(bp *generator.Blueprint, all map[string]*generator.Blueprint, flags map[string]string) error {
	for _, question := range slices.Sorted(maps.Keys(flags)) {
		if _, ok := bp.Question(question); ok {
			continue
		}
		var askedBy []string
		for _, name := range generator.SortedNames(all) {
			if _, ok := all[name].Question(question); ok {
				askedBy = append(askedBy, name)
			}
		}
		return &generator.InputError{Err: fmt.Errorf("--%s answers a question of blueprint %s, not of %s; %s asks: %s",
			flagName(question), strings.Join(askedBy, ", "), bp.Name, bp.Name, strings.Join(answerFlags(bp), ", "))}
	}
	return nil
}

// answerFlags lists the flags that answer bp's questions.
func answerFlags(bp *generator.Blueprint) []string {
	var out []string
	for _, q := range bp.Questions {
		if !q.Positional {
			out = append(out, "--"+flagName(q.Name))
		}
	}
	return out
}
