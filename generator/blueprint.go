package generator

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
	"gopkg.in/yaml.v3"
)

// Question kinds a manifest may declare.
const (
	KindChoice = "choice"
	KindText   = "text"
)

// Blueprint is a parsed, validated manifest from blueprints/.
type Blueprint struct {
	Name              string     `yaml:"name"`
	Version           string     `yaml:"version"`
	Summary           string     `yaml:"summary"`
	MinRampartVersion string     `yaml:"min_rampart_version"`
	Templates         string     `yaml:"templates"`
	Questions         []Question `yaml:"questions"`
	Rules             []Rule     `yaml:"rules"`
	Files             []FileSet  `yaml:"files"`
	// PathVars maps a placeholder that may appear in template paths
	// (for example __package__) to the question whose answer replaces it.
	PathVars map[string]string `yaml:"path_vars"`
	// Executable lists path.Match patterns of output files written 0755.
	Executable []string `yaml:"executable"`
	// Local lists output paths that are never tracked (git-ignored) and
	// may hold secrets generated at write time, such as .env.
	Local []string `yaml:"local"`
	// Regenerated lists files made from other files (hash locks, documents
	// rendered from the manifest). An update never merges them line by
	// line: the new version's replaces an unedited one, and one changed by
	// both the user and the new version is a conflict with the user's in
	// place, whose message says how to make it again.
	Regenerated []RegeneratedFile `yaml:"regenerated"`
	// Python, when set, lists the project's Python requirements and the
	// lock catalog their hashes come from; templates see it as .python.
	Python *PythonSpec `yaml:"python"`
	// Controls lists the security controls the project claims, with the
	// files that implement them and the tests that prove them; templates
	// see the selected ones as .controls.
	Controls []Control `yaml:"controls"`
	// Validators are checks for text answers in the generated project's
	// language (a package name, say), named by questions' validate lists
	// beside the engine's built-in ones.
	Validators map[string][]TextRule `yaml:"validators"`
	// TestIDs says how controls name tests (the generated project's runner).
	TestIDs *TestIDs `yaml:"test_ids"`
	// Changelog says what each version changed in generated projects,
	// newest first; its first entry is Version.
	Changelog []ChangelogEntry `yaml:"changelog"`
	// NextSteps are the commands printed after a project is written.
	NextSteps []NextStep `yaml:"next_steps"`

	templates fs.FS
	parsed    *fileTemplates
}

// Question is one answer the blueprint needs.
type Question struct {
	Name       string   `yaml:"name"`
	Prompt     string   `yaml:"prompt"`
	Help       string   `yaml:"help"`
	Kind       string   `yaml:"kind"`
	Default    string   `yaml:"default"`
	Choices    []Choice `yaml:"choices"`
	Positional bool     `yaml:"positional"`
	Validate   []string `yaml:"validate"`
	MaxLength  int      `yaml:"max_length"`
	// Deny lists values refused with a reason, such as package names that
	// would shadow a dependency of the generated project.
	Deny []string `yaml:"deny"`

	// checks are the validators Validate names, resolved at load.
	checks []func(string) error
}

// Choice is one allowed value of a choice question. Its attributes are the
// facts templates need about it (a label, the setting that configures it,
// the protocol it speaks), read as .choice.QUESTION.ATTRIBUTE, so that a
// template asks what a choice is rather than which one it is.
type Choice struct {
	Value      string         `yaml:"value"`
	Help       string         `yaml:"help"`
	Attributes map[string]any `yaml:"attributes"`
}

// Rule forbids a combination of answers: when its condition holds, the
// answers are refused with Message.
type Rule struct {
	When    string `yaml:"when"`
	Message string `yaml:"message"`

	// reads names the questions When reads; set when the manifest is
	// loaded, so a rule is evaluated only once all of them are answered.
	reads []string
}

// FileSet selects a template file or tree under the blueprint's template
// root and the condition under which it applies.
type FileSet struct {
	Src  string `yaml:"src"`
	Dest string `yaml:"dest"`
	When string `yaml:"when"`
}

// RegeneratedFile names output files made from other files (path is a
// path.Match pattern) and says how a user makes one again.
type RegeneratedFile struct {
	Path   string `yaml:"path"`
	Remake string `yaml:"remake"`
}

// remakeOf is how to make the output file out again, or "" when it is not
// regenerated.
func (b *Blueprint) remakeOf(out string) string {
	for _, r := range b.Regenerated {
		if ok, _ := path.Match(r.Path, out); ok {
			return r.Remake
		}
	}
	return ""
}

// reservedNames are template data keys the blueprint itself fills.
var reservedNames = map[string]string{
	"python":   "the blueprint's Python requirements",
	"controls": "the blueprint's security controls",
	"choice":   "the attributes of the chosen choices",
}

var identPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ChoiceValues returns the allowed values of a choice question in manifest order.
func (q Question) ChoiceValues() []string {
	values := make([]string, len(q.Choices))
	for i, c := range q.Choices {
		values[i] = c.Value
	}
	return values
}

// Question returns the question with the given name.
func (b *Blueprint) Question(name string) (Question, bool) {
	for _, q := range b.Questions {
		if q.Name == name {
			return q, true
		}
	}
	return Question{}, false
}

// ParseBlueprint decodes and validates a manifest. templates is the file
// system holding the blueprint's template root.
func ParseBlueprint(manifest []byte, templates fs.FS) (*Blueprint, error) {
	var b Blueprint
	dec := yaml.NewDecoder(strings.NewReader(string(manifest)))
	dec.KnownFields(true)
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("decoding blueprint manifest: %w", err)
	}
	root, err := fs.Sub(templates, b.Templates)
	if err != nil {
		return nil, fmt.Errorf("blueprint %q: template root %q: %w", b.Name, b.Templates, err)
	}
	b.templates = root
	b.parsed = newFileTemplates()
	for _, l := range b.locks() {
		if err := l.load(root, b.conditionData); err != nil {
			return nil, fmt.Errorf("blueprint %q: %w", b.Name, err)
		}
	}
	if err := b.resolveValidators(); err != nil {
		return nil, fmt.Errorf("blueprint %q: %w", b.Name, err)
	}
	if err := b.validate(); err != nil {
		return nil, fmt.Errorf("blueprint %q: %w", b.Name, err)
	}
	return &b, nil
}

func (b *Blueprint) validate() error {
	if !identPattern.MatchString(b.Name) {
		return fmt.Errorf("name must match %s", identPattern)
	}
	if !semver.IsValid(b.Version) {
		return fmt.Errorf("version %q is not a semantic version like v1.2.3", b.Version)
	}
	if !semver.IsValid(b.MinRampartVersion) {
		return fmt.Errorf("min_rampart_version %q is not a semantic version like v1.2.3", b.MinRampartVersion)
	}
	if err := b.checkChangelog(); err != nil {
		return err
	}
	if err := b.checkNextSteps(); err != nil {
		return err
	}
	if b.Templates == "" || !fs.ValidPath(b.Templates) {
		return fmt.Errorf("templates %q is not a valid template root", b.Templates)
	}
	seen := map[string]bool{}
	positional := 0
	for _, q := range b.Questions {
		if err := q.validate(); err != nil {
			return fmt.Errorf("question %q: %w", q.Name, err)
		}
		if seen[q.Name] {
			return fmt.Errorf("question %q is declared twice", q.Name)
		}
		seen[q.Name] = true
		if q.Positional {
			positional++
		}
	}
	if positional > 1 {
		return fmt.Errorf("at most one question may be positional, found %d", positional)
	}
	for placeholder, question := range b.PathVars {
		if !seen[question] {
			return fmt.Errorf("path_vars %q names unknown question %q", placeholder, question)
		}
	}
	for _, pattern := range append(slices.Clone(b.Executable), b.Local...) {
		if _, err := path.Match(pattern, ""); err != nil {
			return fmt.Errorf("bad file pattern %q: %w", pattern, err)
		}
	}
	for _, r := range b.Regenerated {
		if _, err := path.Match(r.Path, ""); err != nil || r.Path == "" {
			return fmt.Errorf("regenerated: bad file pattern %q", r.Path)
		}
		if strings.TrimSpace(r.Remake) == "" {
			return fmt.Errorf("regenerated %q: remake must say how to make the file again", r.Path)
		}
		if matchesAny(b.Local, r.Path) {
			return fmt.Errorf("regenerated %q is a local file, which updates never touch", r.Path)
		}
	}
	for i, r := range b.Rules {
		if r.Message == "" {
			return fmt.Errorf("rule %d has no message", i+1)
		}
		reads, err := b.checkCondition(r.When)
		if err != nil {
			return fmt.Errorf("rule %d: %w", i+1, err)
		}
		b.Rules[i].reads = reads
	}
	for _, f := range b.Files {
		if !fs.ValidPath(f.Src) {
			return fmt.Errorf("file set %q: not a valid template path", f.Src)
		}
		if _, err := fs.Stat(b.templates, f.Src); err != nil {
			return fmt.Errorf("file set %q: %w", f.Src, err)
		}
		if f.When != "" {
			if _, err := b.checkCondition(f.When); err != nil {
				return fmt.Errorf("file set %q: %w", f.Src, err)
			}
		}
	}
	if b.TestIDs != nil {
		if err := b.TestIDs.compile(); err != nil {
			return err
		}
	}
	for i, c := range b.Controls {
		if err := c.validate(b.TestIDs); err != nil {
			return fmt.Errorf("control %d (%s): %w", i+1, c.Control, err)
		}
		if c.When != "" {
			if _, err := b.checkCondition(c.When); err != nil {
				return fmt.Errorf("control %d (%s): %w", i+1, c.Control, err)
			}
		}
	}
	if err := b.checkLockConditions(); err != nil {
		return err
	}
	return nil
}

// CheckEveryCombination evaluates every rule, file set, control and
// requirement condition under every combination of choices, and checks
// that each selected control names only files that combination produces.
// It is the exhaustive form of the checks ParseBlueprint makes statically;
// rampart's tests run it on every embedded blueprint, so a shipped binary
// never pays for it.
func (b *Blueprint) CheckEveryCombination() error {
	outputs, err := b.fileSetOutputs()
	if err != nil {
		return err
	}
	return b.ForEachCombination(func(answers Answers) error {
		rule, err := b.forbidden(answers)
		if err != nil {
			return err
		}
		sets, err := b.selectedFileSets(answers)
		if err != nil {
			return err
		}
		if rule == nil {
			planned := map[string]bool{}
			for _, set := range sets {
				for _, p := range outputs[set.Src] {
					planned[p] = true
				}
			}
			if err := b.checkControls(answers, planned); err != nil {
				return err
			}
		}
		for _, l := range b.locks() {
			// Every condition holds up; only a combination that is generated
			// needs locks the catalog can cut.
			if err := l.check(answers, rule == nil); err != nil {
				return fmt.Errorf("%s: %w", l.key(), err)
			}
		}
		return nil
	})
}

func (q Question) validate() error {
	if !identPattern.MatchString(q.Name) {
		return fmt.Errorf("name must match %s", identPattern)
	}
	if reserved, ok := reservedNames[q.Name]; ok {
		return fmt.Errorf("name %q is reserved for %s", q.Name, reserved)
	}
	if q.Prompt == "" {
		return fmt.Errorf("prompt is empty")
	}
	switch q.Kind {
	case KindChoice:
		if len(q.Choices) == 0 {
			return fmt.Errorf("a choice question needs choices")
		}
		values := q.ChoiceValues()
		for i, v := range values {
			if v == "" || slices.Contains(values[:i], v) {
				return fmt.Errorf("choice %q is empty or repeated", v)
			}
		}
		if !slices.Contains(values, q.Default) {
			return fmt.Errorf("default %q is not one of %s", q.Default, strings.Join(values, ", "))
		}
		if err := q.checkAttributes(); err != nil {
			return err
		}
	case KindText:
		if len(q.Choices) > 0 {
			return fmt.Errorf("a text question cannot have choices")
		}
		if _, err := expressions().parse(q.Default, q.Default); err != nil {
			return fmt.Errorf("default: %w", err)
		}
	default:
		return fmt.Errorf("kind %q is not %q or %q", q.Kind, KindChoice, KindText)
	}
	return nil
}

// ForEachCombination calls fn with every combination of choice answers;
// text questions take a fixed sample value.
func (b *Blueprint) ForEachCombination(fn func(Answers) error) error {
	var walk func(i int, acc Answers) error
	walk = func(i int, acc Answers) error {
		if i == len(b.Questions) {
			return fn(acc.clone())
		}
		q := b.Questions[i]
		if q.Kind != KindChoice {
			acc[q.Name] = "sample"
			return walk(i+1, acc)
		}
		for _, v := range q.ChoiceValues() {
			acc[q.Name] = v
			if err := walk(i+1, acc); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(0, Answers{})
}
