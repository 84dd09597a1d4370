package generator

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// Control is one security control a generated project claims: what it is,
// the files that implement it and the tests that prove it. Templates list
// the selected controls (README, threat model). Rendering refuses a
// project whose selected controls name a file or test file it does not
// have, and CheckEveryCombination makes the same check for every
// combination, so a claim cannot outlive its proof.
type Control struct {
	Control string   `yaml:"control"`
	Where   []string `yaml:"where"`
	Tests   []string `yaml:"tests"`
	When    string   `yaml:"when"`
}

// TestIDs says how the blueprint's controls name a test, the way the
// generated project's test runner does: FILE SEPARATOR NAME, each part
// matching its pattern (for pytest: tests/test_x.py::test_y).
type TestIDs struct {
	Separator string `yaml:"separator"`
	File      string `yaml:"file"`
	Name      string `yaml:"name"`

	file, name *regexp.Regexp
}

func (ids *TestIDs) compile() error {
	if ids.Separator == "" || ids.File == "" || ids.Name == "" {
		return fmt.Errorf("test_ids needs separator, file and name")
	}
	var err error
	if ids.file, err = regexp.Compile("^(?:" + ids.File + ")$"); err != nil {
		return fmt.Errorf("test_ids file: %w", err)
	}
	if ids.name, err = regexp.Compile("^(?:" + ids.Name + ")$"); err != nil {
		return fmt.Errorf("test_ids name: %w", err)
	}
	return nil
}

// split returns a test id's file and test name.
func (ids *TestIDs) split(id string) (file, name string, ok bool) {
	file, name, ok = strings.Cut(id, ids.Separator)
	return file, name, ok && ids.file.MatchString(file) && ids.name.MatchString(name) && fs.ValidPath(file)
}

func (c Control) validate(ids *TestIDs) error {
	if strings.TrimSpace(c.Control) == "" {
		return fmt.Errorf("has no description")
	}
	if len(c.Where) == 0 || len(c.Tests) == 0 {
		return fmt.Errorf("needs at least one file in where and one test in tests")
	}
	for _, w := range c.Where {
		if !fs.ValidPath(w) {
			return fmt.Errorf("where %q is not a clean relative path", w)
		}
	}
	if ids == nil {
		return fmt.Errorf("names tests, but the manifest has no test_ids saying how tests are named")
	}
	for _, t := range c.Tests {
		if _, _, ok := ids.split(t); !ok {
			return fmt.Errorf("test %q is not FILE%sNAME with FILE matching %s and NAME matching %s (test_ids)", t, ids.Separator, ids.File, ids.Name)
		}
	}
	return nil
}

// TestFile is the file part of one of the blueprint's test ids.
func (b *Blueprint) TestFile(id string) string {
	file, _, _ := strings.Cut(id, b.TestIDs.Separator)
	return file
}

// TestName is the test part of one of the blueprint's test ids.
func (b *Blueprint) TestName(id string) string {
	_, name, _ := strings.Cut(id, b.TestIDs.Separator)
	return name
}

// selectedControls returns the controls whose condition holds for answers.
func (b *Blueprint) selectedControls(answers Answers) ([]Control, error) {
	var selected []Control
	for i, c := range b.Controls {
		if c.When != "" {
			ok, err := b.holds(c.When, answers)
			if err != nil {
				return nil, fmt.Errorf("control %d (%s): %w", i+1, c.Control, err)
			}
			if !ok {
				continue
			}
		}
		selected = append(selected, c)
	}
	return selected, nil
}

// checkControls reports a selected control that names a file not in
// planned, the project's output paths before path variables are replaced
// (src/__package__/config.py), as the manifest writes them.
func (b *Blueprint) checkControls(answers Answers, planned map[string]bool) error {
	controls, err := b.selectedControls(answers)
	if err != nil {
		return err
	}
	for _, c := range controls {
		for _, w := range c.Where {
			if !planned[w] {
				return fmt.Errorf("control %q: %s names %s, which this project does not have", c.Control, b.describe(answers), w)
			}
		}
		for _, t := range c.Tests {
			if !planned[b.TestFile(t)] {
				return fmt.Errorf("control %q: %s names test %s, whose file this project does not have", c.Control, b.describe(answers), t)
			}
		}
	}
	return nil
}

// fileSetOutputs lists, for each file set, the output paths its templates
// produce with path variables left in place. Computed once per load.
func (b *Blueprint) fileSetOutputs() (map[string][]string, error) {
	outputs := map[string][]string{}
	for _, set := range b.Files {
		err := fs.WalkDir(b.templates, set.Src, func(src string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := relativeOutput(set, src)
			outputs[set.Src] = append(outputs[set.Src], undot(rel))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("file set %q: %w", set.Src, err)
		}
	}
	return outputs, nil
}

// undot turns dot- prefixes into dots, leaving path variables in place.
func undot(rel string) string {
	segments := strings.Split(rel, "/")
	for i, seg := range segments {
		if rest, ok := strings.CutPrefix(seg, DotPrefix); ok && rest != "" {
			segments[i] = "." + rest
		}
	}
	return path.Join(segments...)
}

// controlsData is what templates see as .controls: the selected controls
// with path variables replaced by the answers.
func (b *Blueprint) controlsData(answers Answers, data map[string]any) ([]map[string]any, error) {
	controls, err := b.selectedControls(answers)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(controls))
	for _, c := range controls {
		where := make([]string, len(c.Where))
		for i, w := range c.Where {
			where[i] = b.outputPath(w, data)
		}
		tests := make([]map[string]string, len(c.Tests))
		for i, t := range c.Tests {
			tests[i] = map[string]string{"id": t, "file": b.TestFile(t), "name": b.TestName(t)}
		}
		out = append(out, map[string]any{"control": c.Control, "where": where, "tests": tests})
	}
	return out, nil
}
