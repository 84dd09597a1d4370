package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/internal/buildinfo"
	"github.com/rampart-dev/rampart/internal/iostreams"
	"github.com/rampart-dev/rampart/templates"
)

// fakePrompter is a user at a terminal: it answers from a map or takes
// the default, and records what it was shown.
type fakePrompter struct {
	answers map[string]string
	// retry is typed when a prompt refuses the answer and asks again.
	retry map[string]string
	err   error
	// decline answers "no" at the summary.
	decline bool

	asked       []string
	offered     map[string][]string
	preselected map[string]string
	refused     map[string][]generator.RefusedChoice
	rejected    []string // "question: message" for each answer a prompt refused
	confirms    int
}

func (p *fakePrompter) Select(q generator.Question, def string, refused []generator.RefusedChoice) (string, error) {
	if p.offered == nil {
		p.offered, p.preselected, p.refused = map[string][]string{}, map[string]string{}, map[string][]generator.RefusedChoice{}
	}
	p.offered[q.Name], p.preselected[q.Name], p.refused[q.Name] = q.ChoiceValues(), def, refused
	v, err := p.answer(q, def)
	if err == nil && !slices.Contains(q.ChoiceValues(), v) {
		return "", fmt.Errorf("the test picks %s for %s, which is not offered (%v)", v, q.Name, q.ChoiceValues())
	}
	return v, err
}

// Input asks again, as the terminal prompter does, while validate refuses
// the answer and the test has a retry for it.
func (p *fakePrompter) Input(q generator.Question, def string, validate func(string) error) (string, error) {
	v, err := p.answer(q, def)
	if err != nil {
		return "", err
	}
	for {
		verr := validate(v)
		if verr == nil {
			return v, nil
		}
		p.rejected = append(p.rejected, q.Name+": "+verr.Error())
		again, ok := p.retry[q.Name]
		if !ok {
			return "", verr
		}
		delete(p.retry, q.Name)
		p.asked = append(p.asked, q.Name)
		v = again
	}
}

func (p *fakePrompter) Confirm(string, bool) (bool, error) {
	p.confirms++
	return !p.decline, p.err
}

func (p *fakePrompter) answer(q generator.Question, def string) (string, error) {
	p.asked = append(p.asked, q.Name)
	if p.err != nil {
		return "", p.err
	}
	if v, ok := p.answers[q.Name]; ok {
		return v, nil
	}
	return def, nil
}

type result struct {
	code        int
	out, errOut string
}

// run executes rampart with args in dir, with stdin/stdout as terminals or not.
func run(t *testing.T, dir string, tty bool, prompter *fakePrompter, args ...string) result {
	t.Helper()
	return runContext(t, context.Background(), dir, tty, prompter, args...)
}

// runContext is run under ctx; a cancelled ctx is a Ctrl-C.
func runContext(t *testing.T, ctx context.Context, dir string, tty bool, prompter *fakePrompter, args ...string) result {
	t.Helper()
	t.Chdir(dir)
	io, _, out, errOut := iostreams.Test()
	io.SetTTY(tty, tty)
	f := &Factory{
		IO:    io,
		Build: buildinfo.Info{Version: "v1.0.0-test", Commit: "abc123", GoVersion: "go1.x"},
		Blueprints: func() (map[string]*generator.Blueprint, error) {
			return generator.LoadBlueprints(blueprints.Manifests, templates.FS, "v1.0.0-test")
		},
		Prompter: func() Prompter {
			if prompter == nil {
				t.Fatal("prompted although no prompter was expected")
			}
			return prompter
		},
		Releases: func(name string) (*generator.ReleaseStore, error) {
			return generator.OpenReleases(blueprints.Releases, name)
		},
	}
	cmd := NewRootCmd(f)
	cmd.SetArgs(args)
	_, err := Execute(ctx, cmd)
	if err != nil && !errors.As(err, new(exitStatus)) { // as Main: an exit status is not printed
		errOut.WriteString(err.Error())
	}
	return result{code: ExitCode(err), out: out.String(), errOut: errOut.String()}
}

// flaskVersion is the version of the embedded flask manifest, which
// changes with the templates.
func flaskVersion(t *testing.T) string {
	t.Helper()
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	if err != nil {
		t.Fatal(err)
	}
	return all["flask"].Version
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func expectNothingWritten(t *testing.T, dir string) {
	t.Helper()
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("%s holds %v, want nothing written", dir, got)
	}
}

func TestNoTerminalWithoutYesNamesTheMissingFlags(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, false, nil, "new", "demo")
	if r.code != ExitUsage {
		t.Fatalf("exit %d, want %d (%s)", r.code, ExitUsage, r.errOut)
	}
	for _, want := range []string{"--description", "--package", "--database", "--cache", "--auth", "--yes"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("error does not mention %s: %s", want, r.errOut)
		}
	}
	expectNothingWritten(t, dir)
}

func TestNoNameWithYesSaysHowToGiveIt(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, false, nil, "new", "--yes")
	if r.code != ExitUsage || r.errOut != "a project NAME is required: rampart new NAME --yes" {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	expectNothingWritten(t, dir)
}

func TestYesGeneratesTheDefaultProject(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, false, nil, "new", "demo", "--yes", "--no-git")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	record, err := os.ReadFile(filepath.Join(dir, "demo", ".rampart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"database: postgres", "cache: redis", "auth: session", "package: demo", "rampart_version: v1.0.0-test"} {
		if !strings.Contains(string(record), want) {
			t.Errorf(".rampart.yaml lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", ".git")); !os.IsNotExist(err) {
		t.Error("--no-git still made a repository")
	}
	if got := listDir(t, dir); len(got) != 1 {
		t.Errorf("left %v beside the project", got)
	}
	if !strings.Contains(r.out, "make install test") {
		t.Errorf("no next steps in %q", r.out)
	}
}

func TestGitInitIsNeverAnError(t *testing.T) {
	dir := t.TempDir()
	// No identity and no global configuration: git may not commit, and
	// that must not fail the run.
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	r := run(t, dir, false, nil, "new", "demo", "--yes")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if !strings.Contains(r.out, "git: ") {
		t.Errorf("no git status in %q", r.out)
	}
}

func TestOutputFlagAndJSONSummary(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, false, nil, "new", "svc", "-o", "nested-out", "--database", "sqlite", "--cache", "none", "--deploy", "compose", "--yes", "--json", "--no-git")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	var summary report
	if err := json.Unmarshal([]byte(r.out), &summary); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, r.out)
	}
	if summary.Output != filepath.Join(dir, "nested-out") || summary.Answers["database"] != "sqlite" || len(summary.Files) < 30 {
		t.Fatalf("summary = %+v", summary)
	}
	if _, err := os.Stat(filepath.Join(dir, "nested-out", "src", "svc", "__init__.py")); err != nil {
		t.Fatal(err)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, false, nil, "new", "demo", "--yes", "--dry-run")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	for _, want := range []string{"Dry run", "pyproject.toml", "src/demo/__init__.py", ".env", "files,", "bytes"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.out)
		}
	}
	expectNothingWritten(t, dir)

	r = run(t, dir, false, nil, "new", "demo", "--yes", "--dry-run", "--json")
	var summary report
	if err := json.Unmarshal([]byte(r.out), &summary); err != nil || !summary.DryRun || summary.TotalBytes == 0 {
		t.Fatalf("json dry run: %v %+v", err, summary)
	}
	expectNothingWritten(t, dir)
}

func TestNonEmptyTargetIsRefusedAndUntouched(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "demo")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(target, "notes.txt")
	if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, dir, false, nil, "new", "demo", "--yes")
	if r.code != ExitUsage || !strings.Contains(r.errOut, "not empty") {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if got := listDir(t, target); len(got) != 1 {
		t.Fatalf("target now holds %v", got)
	}
	if got := listDir(t, dir); len(got) != 1 {
		t.Fatalf("left %v beside the target", got)
	}
}

func TestEmptyTargetDirectoryIsUsed(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := run(t, dir, false, nil, "new", "demo", "--yes", "--no-git"); r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", "pyproject.toml")); err != nil {
		t.Fatal(err)
	}
}

func TestBadInputExitsTwoAndWritesNothing(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown choice":      {[]string{"new", "demo", "--database", "oracle", "--yes"}, "allowed: postgres, mysql, sqlite, none"},
		"bad name":            {[]string{"new", "Demo_App", "--yes"}, "lowercase letters"},
		"path as name":        {[]string{"new", "../demo", "--yes"}, "not a path"},
		"stdlib package":      {[]string{"new", "demo", "--package", "json", "--yes"}, "standard library"},
		"dependency package":  {[]string{"new", "demo", "--package", "redis", "--yes"}, "reserved"},
		"derived bad package": {[]string{"new", "test", "--yes"}, `package: "test" would shadow the Python standard library module of that name (it is the default); pass --package with another value`},
		"unknown blueprint":   {[]string{"new", "demo", "--blueprint", "django", "--yes"}, `unknown blueprint "django" for --blueprint; built in: flask`},
		"unknown flag":        {[]string{"new", "demo", "--colour", "red"}, "unknown flag"},
		"two names":           {[]string{"new", "a", "b", "--yes"}, "accepts at most 1 arg"},
		"unknown command":     {[]string{"nwe", "demo"}, "unknown command"},
		"missing answers":     {[]string{"new", "demo", "--answers", "nope.yaml", "--yes"}, "cannot read --answers nope.yaml: no such file or directory"},
		"control characters":  {[]string{"new", "demo", "--description", "a\x1b[31mred", "--yes"}, "control character"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r := run(t, dir, false, nil, c.args...)
			if r.code != ExitUsage {
				t.Fatalf("exit %d, want %d: %s", r.code, ExitUsage, r.errOut)
			}
			if !strings.Contains(r.errOut, c.want) {
				t.Fatalf("error %q does not contain %q", r.errOut, c.want)
			}
			expectNothingWritten(t, dir)
		})
	}
}

func TestAnswersFile(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	write := func(s string) {
		if err := os.WriteFile(answers, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	write("blueprint: flask\nanswers:\n  database: sqlite\n  cache: none\n  deploy: vm\n  description: from the file\n")
	// Flags beat the file: --cache redis wins over the file's none.
	r := run(t, dir, false, nil, "new", "demo", "--answers", answers, "--cache", "redis", "--yes", "--no-git", "-o", filepath.Join(out, "p"))
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	record, _ := os.ReadFile(filepath.Join(out, "p", ".rampart.yaml"))
	for _, want := range []string{"database: sqlite", "cache: redis", "description: from the file"} {
		if !strings.Contains(string(record), want) {
			t.Errorf("record lacks %q:\n%s", want, record)
		}
	}

	write("answers:\n  databse: sqlite\n")
	if r := run(t, dir, false, nil, "new", "demo", "--answers", answers, "--yes"); r.code != ExitUsage || !strings.Contains(r.errOut, `unknown answer key "databse"`) {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	write("blueprint: django\n")
	if r := run(t, dir, false, nil, "new", "demo", "--answers", answers, "--yes"); r.code != ExitUsage || !strings.Contains(r.errOut, "is for blueprint") {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	write("colour: blue\n")
	if r := run(t, dir, false, nil, "new", "demo", "--answers", answers, "--yes"); r.code != ExitUsage || !strings.Contains(r.errOut, "colour") {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
}

func TestInteractiveRunPrintsAnEquivalentCommandThatReproducesIt(t *testing.T) {
	dir := t.TempDir()
	prompter := &fakePrompter{answers: map[string]string{
		"database": "sqlite", "auth": "none", "deploy": "vm", "description": `It's "quoted" & $HOME`,
	}}
	r := run(t, dir, true, prompter, "new", "demo", "--no-git")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if got := strings.Join(prompter.asked, ","); got != "description,package,database,cache,auth,deploy,ci" {
		t.Errorf("asked %s", got)
	}
	_, command, ok := strings.Cut(r.errOut, "without questions:\n  ")
	if !ok {
		t.Fatalf("no equivalent command in %q", r.errOut)
	}
	command = strings.TrimSpace(command)
	want := `rampart new demo --description 'It'"'"'s "quoted" & $HOME' --package demo --database sqlite --cache redis --auth none --deploy vm --ci github --no-git --yes`
	if command != want {
		t.Fatalf("equivalent command\n got: %s\nwant: %s", command, want)
	}
	// Replaying it (as a shell would split it) gives the same files.
	replay := t.TempDir()
	args := []string{"new", "demo", "--description", `It's "quoted" & $HOME`, "--package", "demo", "--database", "sqlite", "--cache", "redis", "--auth", "none", "--deploy", "vm", "--ci", "github", "--no-git", "--yes"}
	if r := run(t, replay, false, nil, args...); r.code != ExitOK {
		t.Fatalf("replay exit %d: %s", r.code, r.errOut)
	}
	compareTrees(t, filepath.Join(dir, "demo"), filepath.Join(replay, "demo"))
}

func compareTrees(t *testing.T, a, b string) {
	t.Helper()
	err := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".env" {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(want, got) {
			t.Errorf("%s differs between the interactive run and its replay", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInterruptAtPromptExits130AndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, true, &fakePrompter{err: generator.ErrInterrupted}, "new", "demo")
	if r.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d: %s", r.code, ExitInterrupted, r.errOut)
	}
	expectNothingWritten(t, dir)
}

func TestFlagsParseIntoOptions(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	f := &Factory{IO: io, Blueprints: func() (map[string]*generator.Blueprint, error) {
		return generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	}}
	var got *NewOptions
	cmd := NewCmdNew(f, func(_ context.Context, o *NewOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"demo", "--database", "sqlite", "-o", "out", "-y", "--json", "--dry-run", "--no-git", "--answers", "a.yaml"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Name != "demo" || got.Output != "out" || !got.Yes || !got.JSON || !got.DryRun || !got.NoGit || got.AnswersFile != "a.yaml" || got.Blueprint != "flask" {
		t.Fatalf("options = %+v", got)
	}
	// Only flags actually given count as answers: defaults stay defaults.
	if len(got.Flags) != 1 || got.Flags["database"] != "sqlite" {
		t.Fatalf("flag answers = %v", got.Flags)
	}
}

func TestHelpShowsEveryChoiceAndDefault(t *testing.T) {
	r := run(t, t.TempDir(), false, nil, "new", "--help")
	for _, want := range []string{"--database", "postgres, mysql, sqlite, none", `(default "postgres")`, "--cache", "redis, memcached, none", "--auth", "session, oidc, jwt, none", "--package", "derived from NAME", "--dry-run", "--answers"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestVersionAndBlueprintsCommands(t *testing.T) {
	r := run(t, t.TempDir(), false, nil, "version")
	if r.code != ExitOK || !strings.Contains(r.out, "rampart v1.0.0-test") || !strings.Contains(r.out, "abc123") {
		t.Fatalf("version: %d %q", r.code, r.out)
	}
	r = run(t, t.TempDir(), false, nil, "blueprints")
	if r.code != ExitOK || !strings.Contains(r.out, "flask") || !strings.Contains(r.out, flaskVersion(t)) {
		t.Fatalf("blueprints: %d %q", r.code, r.out)
	}
}

func TestExitCodes(t *testing.T) {
	cases := map[error]int{
		nil:                      ExitOK,
		generator.ErrInterrupted: ExitInterrupted,
		&generator.InputError{Err: errors.New("x")}: ExitUsage,
		runError{errors.New("disk full")}:           ExitFailure,
	}
	for err, want := range cases {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// Each rule of the flask manifest, through the command line: exit 2, the
// rule's message with what to pick instead, nothing written.
func TestForbiddenCombinationsAreRefusedWithTheirReason(t *testing.T) {
	cases := map[string]struct {
		auth, want string
	}{
		"session needs a database": {"session", "--auth session stores accounts (email and password hash) in a database"},
		"oidc needs a database":    {"oidc", "--auth oidc keeps a local user record"},
		"jwt needs a database":     {"jwt", "--auth jwt stores accounts and revocable refresh tokens"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r := run(t, dir, false, nil, "new", "demo", "--database", "none", "--auth", c.auth, "--yes")
			if r.code != ExitUsage {
				t.Fatalf("exit %d, want %d: %s", r.code, ExitUsage, r.errOut)
			}
			for _, want := range []string{c.want, "choose --database postgres, mysql or sqlite, or --auth none"} {
				if !strings.Contains(r.errOut, want) {
					t.Errorf("error %q does not contain %q", r.errOut, want)
				}
			}
			expectNothingWritten(t, dir)
		})
	}
}

func TestSQLiteOnKubernetesIsRefusedWithWhatToChoose(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, false, nil, "new", "demo", "--database", "sqlite", "--yes")
	if r.code != ExitUsage {
		t.Fatalf("exit %d, want %d: %s", r.code, ExitUsage, r.errOut)
	}
	for _, want := range []string{"--database sqlite keeps every record in one file inside one pod", "choose --database postgres or mysql for --deploy kubernetes, or --deploy compose or vm"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("error %q does not contain %q", r.errOut, want)
		}
	}
	expectNothingWritten(t, dir)
}

func TestNextStepsAreTheOnesTheProjectHas(t *testing.T) {
	cases := map[string]struct {
		flags       []string
		want, never []string
	}{
		"no database": {[]string{"--database", "none", "--auth", "none"}, []string{"make install test", "make dev"}, []string{"make migrate", "make idp"}},
		"oidc":        {[]string{"--auth", "oidc"}, []string{"make install test", "make migrate", "make idp", "make dev"}, nil},
		"session":     {nil, []string{"make install test", "make migrate", "make dev"}, []string{"make idp"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r := run(t, dir, false, nil, append([]string{"new", "demo", "--yes", "--no-git"}, c.flags...)...)
			if r.code != ExitOK {
				t.Fatalf("exit %d: %s", r.code, r.errOut)
			}
			for _, want := range c.want {
				if !strings.Contains(r.out, "\n  "+want) {
					t.Errorf("next steps lack %q:\n%s", want, r.out)
				}
			}
			for _, never := range c.never {
				if strings.Contains(r.out, never) {
					t.Errorf("next steps offer %q, which this project has not:\n%s", never, r.out)
				}
			}
		})
	}
}

// When the blueprints cannot be loaded there are no answer flags; the user
// must learn why, not read "unknown flag: --database".
func TestABlueprintLoadFailureIsReportedInsteadOfUnknownFlags(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	io, _, _, errOut := iostreams.Test()
	f := &Factory{IO: io, Blueprints: func() (map[string]*generator.Blueprint, error) {
		return generator.LoadBlueprints(blueprints.Manifests, templates.FS, "v0.0.1")
	}}
	cmd := NewRootCmd(f)
	cmd.SetArgs([]string{"new", "demo", "--database", "sqlite", "--yes"})
	_, err := Execute(context.Background(), cmd)
	if err == nil {
		t.Fatal("rampart new succeeded without blueprints")
	}
	msg := err.Error() + errOut.String()
	if !strings.Contains(msg, "needs rampart v0.1.0 or newer") || strings.Contains(msg, "unknown flag") {
		t.Errorf("error %q, want the load failure and no unknown-flag message", msg)
	}
	if ExitCode(err) == 0 {
		t.Error("exit code 0")
	}
	expectNothingWritten(t, dir)
}

func TestExitCodesSeparateUsageFromFailures(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	f := &Factory{IO: io, Blueprints: func() (map[string]*generator.Blueprint, error) {
		return generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	}}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"bogus"}, ExitUsage},                               // unknown command
		{[]string{"new", "a", "b"}, ExitUsage},                       // too many arguments
		{[]string{"new", "--no-such-flag"}, ExitUsage},               // unknown flag
		{[]string{"version", "extra"}, ExitUsage},                    // arguments where none are taken
		{[]string{"new", "demo", "--yes", "--dry-run"}, ExitFailure}, // the command's own unclassified error
	} {
		root := NewRootCmd(f)
		// Replace new's behaviour with an unclassified failure.
		for _, sub := range root.Commands() {
			if sub.Name() == "new" {
				root.RemoveCommand(sub)
			}
		}
		root.AddCommand(NewCmdNew(f, func(context.Context, *NewOptions) error { return errors.New("disk on fire") }))
		root.SetArgs(c.args)
		_, err := Execute(context.Background(), root)
		if got := ExitCode(err); got != c.want {
			t.Errorf("rampart %s: exit %d (%v), want %d", strings.Join(c.args, " "), got, err, c.want)
		}
	}
}

// A second blueprint brings its own questions as flags: rampart's code does
// not change, and a flag the chosen blueprint does not ask is refused.
func TestASecondBlueprintsQuestionsAreFlags(t *testing.T) {
	mini, err := generator.ParseBlueprint([]byte(`
name: mini
version: v0.1.0
summary: a second blueprint
min_rampart_version: v0.1.0
templates: mini
questions:
  - name: name
    prompt: Project name
    kind: text
    positional: true
    validate: [dns-label]
  - name: orm
    prompt: ORM
    kind: choice
    default: sqlalchemy
    choices: [{value: sqlalchemy}, {value: peewee}]
files:
  - src: base
next_steps:
  - run: make run
`), fstest.MapFS{"mini/base/README.md.tmpl": {Data: []byte("<% .name %> uses <% .orm %>\n")}})
	if err != nil {
		t.Fatal(err)
	}
	two := func() (map[string]*generator.Blueprint, error) {
		all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
		if err == nil {
			all["mini"] = mini
		}
		return all, err
	}
	run := func(dir string, args ...string) (int, string) {
		t.Chdir(dir)
		io, _, out, errOut := iostreams.Test()
		cmd := NewRootCmd(&Factory{IO: io, Blueprints: two})
		cmd.SetArgs(args)
		_, err := Execute(context.Background(), cmd)
		if err != nil {
			errOut.WriteString(err.Error())
		}
		return ExitCode(err), out.String() + errOut.String()
	}

	dir := t.TempDir()
	if code, out := run(dir, "new", "demo", "--blueprint", "mini", "--orm", "peewee", "--yes", "--no-git"); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	} else if !strings.Contains(out, "make run") || strings.Contains(out, "make install") {
		t.Errorf("next steps are not mini's own: %s", out)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "demo", "README.md")); err != nil || string(got) != "demo uses peewee\n" {
		t.Errorf("README.md = %q, %v", got, err)
	}

	dir = t.TempDir()
	code, out := run(dir, "new", "demo", "--orm", "peewee", "--yes", "--no-git")
	if code != ExitUsage || !strings.Contains(out, "--orm answers a question of blueprint mini, not of flask") {
		t.Errorf("flask with --orm: exit %d: %s", code, out)
	}
	code, out = run(dir, "new", "demo", "--blueprint", "mini", "--database", "sqlite", "--yes", "--no-git")
	if code != ExitUsage || !strings.Contains(out, "--database answers a question of blueprint flask, not of mini; mini asks: --orm") {
		t.Errorf("mini with --database: exit %d: %s", code, out)
	}
	expectNothingWritten(t, dir)
	if _, out := run(dir, "new", "--help"); !strings.Contains(out, "--orm") || !strings.Contains(out, "--database") {
		t.Errorf("help lacks a blueprint's flags:\n%s", out)
	}
}

func TestRootHelpListsTheBlueprintsFromTheirManifests(t *testing.T) {
	r := run(t, t.TempDir(), false, nil, "--help")
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range all {
		if !strings.Contains(r.out, b.Name) || !strings.Contains(r.out, b.Summary) {
			t.Errorf("root help lacks blueprint %s (%s):\n%s", b.Name, b.Summary, r.out)
		}
	}
}
