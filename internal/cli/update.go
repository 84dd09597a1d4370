package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/semver"

	"github.com/rampart-dev/rampart/generator"
)

// UpdateOptions is everything `rampart update` and `rampart set` act on.
type UpdateOptions struct {
	Factory *Factory
	Dir     string
	// To is the version to update to (update; default the one built in).
	To string
	// Set holds the answers to change (set).
	Set    map[string]string
	DryRun bool
	JSON   bool
	// PRBody, when set, is where to write a pull-request description of
	// the update (the scheduled update job's).
	PRBody string

	command string
}

const mergeHelp = "The merge is three-way, file by file: base is what the project's recorded version generated\n" +
	"for its recorded answers, ours is the project as it is, theirs is what the new version (or\n" +
	"answers) generate. A file you never changed takes the new version; a file only you changed\n" +
	"stays yours; both changed are merged line by line, and overlapping changes are left marked\n" +
	"(<<<<<<< ||||||| ======= >>>>>>>) and unmerged in git's index, as git merge leaves them. A\n" +
	"file the new version drops is removed only if you never changed it. Local files (.env) are\n" +
	"never touched. The work tree must be committed first, and nothing is written unless every\n" +
	"file can be (an error or Ctrl-C leaves the project as it was).\n\n" +
	"Exit codes: 0 done or nothing to do; 3 merged with conflicts; 2 invalid input (not a rampart\n" +
	"project, uncommitted changes, an unknown or forbidden answer, a version this rampart does\n" +
	"not hold); 1 an I/O failure."

func newCmdUpdate(f *Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{Factory: f, command: "update"}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Bring the project to the blueprint version built in (a three-way merge)",
		Long:  "Bring the project to a newer version of its blueprint, keeping every change you made.\n\n" + mergeHelp,
		Example: `  rampart update --dry-run     # the diff it would apply
  rampart update
  rampart update --to v0.3.1 -C services/shop --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUpdate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "the version to update to (default: the one built in)")
	addMergeFlags(cmd, opts)
	return cmd
}

func newCmdSet(f *Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{Factory: f, command: "set"}
	cmd := &cobra.Command{
		Use:   "set QUESTION=VALUE...",
		Short: "Change answers of the project (for example cache=redis), merging what they generate",
		Long: "Change answers the project was generated with, under the same rules and messages as\n" +
			"rampart new, and merge what the new answers generate into the project. The blueprint\n" +
			"version stays the project's (rampart update changes that).\n\n" + mergeHelp,
		Example: `  rampart set cache=redis --dry-run
  rampart set cache=redis deploy=compose`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Set = map[string]string{}
			for _, arg := range args {
				key, value, ok := strings.Cut(arg, "=")
				if !ok || key == "" {
					return usageError{err: fmt.Errorf("%q is not QUESTION=VALUE (for example cache=redis)", arg), cmd: cmd}
				}
				if _, twice := opts.Set[key]; twice {
					return usageError{err: fmt.Errorf("%s is given twice", key), cmd: cmd}
				}
				opts.Set[key] = value
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUpdate(cmd.Context(), opts)
		},
	}
	addMergeFlags(cmd, opts)
	return cmd
}

func addMergeFlags(cmd *cobra.Command, opts *UpdateOptions) {
	cmd.Flags().StringVarP(&opts.Dir, "dir", "C", ".", "the project's directory")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the unified diff it would apply; write nothing")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the summary as JSON")
	cmd.Flags().StringVar(&opts.PRBody, "pr-body", "", "also write a pull-request description (Markdown: changelog, conflicts) to `FILE`")
}

// updateReport is what update and set did (or would do, with --dry-run).
type updateReport struct {
	Blueprint string               `json:"blueprint"`
	From      string               `json:"from"`
	To        string               `json:"to"`
	Answers   map[string][2]string `json:"answers_changed,omitempty"`
	DryRun    bool                 `json:"dry_run"`
	// Diff is, with --dry-run, the unified diff the merge would apply.
	Diff      string              `json:"diff,omitempty"`
	Files     map[string][]string `json:"files"`
	Conflicts []fileNote          `json:"conflicts"`
	// Moves pairs each file the new version moved, with the user's
	// changes, with its new path (listed under files.moved).
	Moves []move     `json:"moves"`
	Kept  []fileNote `json:"kept"`
	// Local are the local files (.env) settings were appended to.
	Local   []fileNote         `json:"local"`
	Changes []generator.Change `json:"changes"`
}

type fileNote struct {
	Path string `json:"path"`
	Why  string `json:"why"`
	// Marked is, for a conflict, whether the file holds conflict markers;
	// an unmarked one holds the user's copy (a binary or regenerated file).
	Marked bool `json:"marked,omitempty"`
}

type move struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// fixedQuestions cannot change after generation: they name directories,
// the package and resources throughout the project.
var fixedQuestions = []string{"name", "package"}

func runUpdate(ctx context.Context, opts *UpdateOptions) error {
	record, latest, err := openProject(opts.Factory, opts.Dir)
	if err != nil {
		return err
	}
	if _, err := latest.Status(record); err != nil {
		return err
	}
	versions, err := opts.Factory.Releases(record.Blueprint)
	if err != nil {
		return runError{fmt.Errorf("reading the released versions: %w", err)}
	}
	load := func(version string) (*generator.Blueprint, error) {
		if version == latest.Version {
			return latest, nil
		}
		if !slices.Contains(versions.Versions(), version) {
			return nil, &generator.InputError{Err: fmt.Errorf("%s %s is not a released version this rampart holds (it holds %s)",
				record.Blueprint, version, strings.Join(versions.Versions(), ", "))}
		}
		return versions.Load(version)
	}
	base, err := load(record.BlueprintVersion)
	if err != nil {
		return err
	}
	target := base
	if opts.command == "update" {
		to := opts.To
		if to == "" {
			to = latest.Version
		}
		if target, err = load(to); err != nil {
			return err
		}
		if c := semver.Compare(to, record.BlueprintVersion); c < 0 {
			return &generator.InputError{Err: fmt.Errorf("--to %s is older than the project's %s; rampart does not downgrade", to, record.BlueprintVersion)}
		} else if c == 0 {
			fmt.Fprintf(opts.Factory.IO.Out, "%s %s: up to date; nothing to do.\n", record.Blueprint, record.BlueprintVersion)
			return nil
		}
	}
	answers, changed, err := newAnswers(target, record, opts)
	if err != nil {
		return err
	}
	if opts.command == "set" && len(changed) == 0 {
		fmt.Fprintln(opts.Factory.IO.Out, "The project already has these answers; nothing to do.")
		return nil
	}
	if !opts.DryRun {
		if err := generator.CheckCleanWorkTree(ctx, opts.Dir); err != nil {
			return err
		}
	}
	basePlan, err := base.Render(record.Answers, record.RampartVersion)
	if err != nil {
		return runError{fmt.Errorf("replaying %s %s: %w", base.Name, base.Version, err)}
	}
	theirPlan, err := target.Render(answers, opts.Factory.Build.Version)
	if err != nil {
		return err
	}
	readOurs := generator.ReadWorkTree(opts.Dir)
	merged, err := generator.ThreeWay(ctx, basePlan.Files, theirPlan.Files, readOurs, generator.GitMergeFile)
	if err != nil {
		return err
	}
	why := "update to " + target.Version
	if opts.command == "set" {
		why = "set " + strings.Join(setArgs(opts.Set), " ")
	}
	// A local file that is or sits under a symbolic link is left alone, like any other.
	if merged, err = generator.MergeLocal(ctx, theirPlan.Files, generator.SkipLinked(readOurs, nil), why, merged); err != nil {
		return err
	}
	local := map[string]bool{}
	for _, f := range theirPlan.Files {
		local[f.Path] = f.Local
	}
	report := summarize(record, target, changed, merged, local, opts.DryRun)
	out := opts.Factory.IO.Out
	if opts.DryRun {
		var diff strings.Builder
		for _, m := range merged {
			if m.Outcome == generator.Unchanged || m.Outcome == generator.Kept {
				continue
			}
			if m.MovedFrom != "" {
				fmt.Fprintf(&diff, "# %s -> %s: moved by the new version, with your changes\n", m.MovedFrom, m.Path)
			}
			if local[m.Path] { // it holds secrets: named, not shown
				fmt.Fprintf(&diff, "# %s (local, not shown): would be %s\n", m.Path, m.Why)
				continue
			}
			d, err := generator.UnifiedDiff(ctx, m.Path, m.Ours, m.Result)
			if err != nil {
				return runError{err}
			}
			diff.WriteString(d)
		}
		report.Diff = diff.String()
		if !opts.JSON {
			io.WriteString(out, report.Diff)
		}
	}
	if !opts.DryRun {
		if err := generator.ApplyMerge(ctx, opts.Dir, merged); err != nil {
			return err
		}
	}
	if opts.PRBody != "" {
		if err := writePRBody(opts.PRBody, report); err != nil {
			return err
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return runError{err}
		}
	} else {
		printUpdate(opts.Factory.IO.ErrOut, report)
	}
	if len(report.Conflicts) > 0 {
		return exitStatus{code: ExitConflicts}
	}
	return nil
}

// newAnswers is the record's answers under the target version: answers to
// questions it no longer asks are dropped, new questions take their
// defaults, and set's values replace the old, all under the rules.
func newAnswers(target *generator.Blueprint, record generator.Record, opts *UpdateOptions) (generator.Answers, map[string][2]string, error) {
	for key, value := range opts.Set {
		if _, ok := target.Question(key); !ok {
			return nil, nil, &generator.InputError{Err: fmt.Errorf("%s is not a question of %s %s (its questions: %s)", key, target.Name, target.Version, questionNames(target))}
		}
		if slices.Contains(fixedQuestions, key) && value != record.Answers[key] {
			return nil, nil, &generator.InputError{Err: fmt.Errorf("%s cannot change after generation: it names directories, the package and resources throughout the project", key)}
		}
	}
	kept := map[string]string{}
	for key, value := range record.Answers {
		q, ok := target.Question(key)
		if !ok {
			continue // a question the target version no longer asks
		}
		if _, changing := opts.Set[key]; !changing && q.Kind == generator.KindChoice && !slices.Contains(q.ChoiceValues(), value) {
			return nil, nil, &generator.InputError{Err: fmt.Errorf("the project answers %s=%s, which %s %s no longer offers (it offers %s); "+
				"choose one with rampart set %s=VALUE first, then update", key, value, target.Name, target.Version, strings.Join(q.ChoiceValues(), ", "), key)}
		}
		kept[key] = value
	}
	res, err := target.Resolve(generator.Sources{Flags: opts.Set, File: kept, UseDefaults: true})
	if err != nil {
		return nil, nil, err
	}
	changed := map[string][2]string{}
	for key, value := range res.Answers {
		if old, ok := record.Answers[key]; !ok || old != value {
			changed[key] = [2]string{old, value}
		}
	}
	for key, old := range record.Answers {
		if _, ok := res.Answers[key]; !ok {
			changed[key] = [2]string{old, ""}
		}
	}
	return res.Answers, changed, nil
}

func questionNames(b *generator.Blueprint) string {
	names := make([]string, len(b.Questions))
	for i, q := range b.Questions {
		names[i] = q.Name
	}
	return strings.Join(names, ", ")
}

func summarize(record generator.Record, target *generator.Blueprint, changed map[string][2]string, merged []generator.MergedPath, local map[string]bool, dryRun bool) updateReport {
	r := updateReport{
		Blueprint: target.Name, From: record.BlueprintVersion, To: target.Version, DryRun: dryRun,
		Files: map[string][]string{}, Conflicts: []fileNote{}, Kept: []fileNote{}, Local: []fileNote{}, Moves: []move{},
		Changes: target.ChangesBetween(record.BlueprintVersion, target.Version),
	}
	if len(changed) > 0 {
		r.Answers = changed
	}
	if r.Changes == nil {
		r.Changes = []generator.Change{}
	}
	for _, m := range merged {
		switch m.Outcome {
		case generator.Unchanged:
		case generator.Conflicted:
			marked := m.Result != nil && generator.HasConflictMarkers(m.Result.Contents)
			r.Conflicts = append(r.Conflicts, fileNote{Path: m.Path, Why: m.Why, Marked: marked})
		case generator.Kept:
			r.Kept = append(r.Kept, fileNote{Path: m.Path, Why: m.Why})
		case generator.Moved:
			r.Files[string(m.Outcome)] = append(r.Files[string(m.Outcome)], m.Path)
			r.Moves = append(r.Moves, move{From: m.MovedFrom, To: m.Path})
		case generator.Removed:
			if m.MovedTo == "" { // a move is reported once, by its new path
				r.Files[string(m.Outcome)] = append(r.Files[string(m.Outcome)], m.Path)
			}
		case generator.Merged:
			if local[m.Path] {
				r.Local = append(r.Local, fileNote{Path: m.Path, Why: m.Why})
				continue
			}
			r.Files[string(m.Outcome)] = append(r.Files[string(m.Outcome)], m.Path)
		default:
			r.Files[string(m.Outcome)] = append(r.Files[string(m.Outcome)], m.Path)
		}
	}
	return r
}

// listed is the paths of an outcome as the summaries show them: a move as
// "old -> new".
func (r updateReport) listed(outcome generator.Outcome) []string {
	if outcome != generator.Moved {
		return r.Files[string(outcome)]
	}
	var moves []string
	for _, m := range r.Moves {
		moves = append(moves, m.From+" -> "+m.To)
	}
	return moves
}

// reportedOutcomes are the outcomes listed as paths, in the order shown;
// moves read "old -> new", with the user's changes carried along.
var reportedOutcomes = []generator.Outcome{generator.Updated, generator.Added, generator.Removed, generator.Moved, generator.Merged}

func printUpdate(w io.Writer, r updateReport) {
	verb := "Updated"
	if r.DryRun {
		verb = "Would update"
	}
	if r.From == r.To {
		fmt.Fprintf(w, "%s the answers of %s %s:", verb, r.Blueprint, r.To)
	} else {
		fmt.Fprintf(w, "%s %s %s -> %s:", verb, r.Blueprint, r.From, r.To)
	}
	for _, key := range slices.Sorted(maps.Keys(r.Answers)) {
		fmt.Fprintf(w, " %s %q -> %q;", key, r.Answers[key][0], r.Answers[key][1])
	}
	fmt.Fprintln(w)
	for _, outcome := range reportedOutcomes {
		if paths := r.listed(outcome); len(paths) > 0 {
			fmt.Fprintf(w, "  %-10s %d: %s\n", outcome, len(paths), strings.Join(paths, ", "))
		}
	}
	for _, n := range r.Kept {
		fmt.Fprintf(w, "  kept       %s (%s)\n", n.Path, n.Why)
	}
	for _, n := range r.Local {
		fmt.Fprintf(w, "  local      %s: %s\n", n.Path, n.Why)
	}
	for _, n := range r.Conflicts {
		fmt.Fprintf(w, "  CONFLICT   %s (%s)\n", n.Path, n.Why)
	}
	if len(r.Changes) > 0 {
		fmt.Fprintln(w, "\nWhat the new version changed:")
		for _, c := range r.Changes {
			tag := ""
			if c.Security {
				tag = "security: "
			}
			fmt.Fprintf(w, "  %-7s %s%s\n", c.Version, tag, c.Text)
		}
	}
	if len(r.Conflicts) > 0 && !r.DryRun {
		fmt.Fprintln(w, "\nResolve the conflicts (git status lists them; git mergetool helps), then commit.")
	} else if !r.DryRun {
		fmt.Fprintln(w, "\nReview with git status and git diff, run the tests, then commit.")
	}
}

// setArgs is set's answers as QUESTION=VALUE, sorted.
func setArgs(set map[string]string) []string {
	args := make([]string, 0, len(set))
	for _, key := range slices.Sorted(maps.Keys(set)) {
		args = append(args, key+"="+set[key])
	}
	return args
}
