package generator

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is one planned output file.
type File struct {
	Path     string // slash-separated, relative to the project root
	Contents []byte
	Mode     fs.FileMode
	// Local files are git-ignored and may hold secrets generated at render
	// time; they are the one exception to deterministic output.
	Local bool
	// Remake, for a file made from other files (a hash lock, a rendered
	// document), says how to make it again; an update never merges such a
	// file line by line. Empty for every other file.
	Remake string
}

// Plan is every file of a project, rendered in memory, sorted by path.
type Plan struct {
	Blueprint *Blueprint
	Answers   Answers
	Files     []File
	// NextSteps are the commands to run inside the project, in order.
	NextSteps []string
}

// AnswersFile is the path of the record of a generation inside the project.
const AnswersFile = ".rampart.yaml"

// Record is what AnswersFile holds: enough to replay or upgrade a project.
type Record struct {
	Blueprint        string  `yaml:"blueprint"`
	BlueprintVersion string  `yaml:"blueprint_version"`
	RampartVersion   string  `yaml:"rampart_version"`
	Answers          Answers `yaml:"answers"`
}

// Render plans and renders every file for answers, in memory. Two template
// files rendering to the same path are an error.
func (b *Blueprint) Render(answers Answers, rampartVersion string) (*Plan, error) {
	sets, err := b.selectedFileSets(answers)
	if err != nil {
		return nil, err
	}
	data := b.conditionData(answers)
	for _, l := range b.locks() {
		locked, err := l.data(answers)
		if err != nil {
			return nil, err
		}
		data[l.key()] = locked
	}
	controls, err := b.controlsData(answers, data)
	if err != nil {
		return nil, err
	}
	data["controls"] = controls
	files := map[string]File{}
	origin := map[string]string{}
	planned := map[string]bool{} // output paths as the manifest names them

	add := func(f File, from string) error {
		if prev, dup := origin[f.Path]; dup {
			return &DuplicatePathError{Path: f.Path, First: prev, Again: from}
		}
		origin[f.Path] = from
		files[f.Path] = f
		return nil
	}
	for _, set := range sets {
		err := fs.WalkDir(b.templates, set.Src, func(src string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := relativeOutput(set, src)
			planned[undot(rel)] = true
			f, err := b.renderFile(set, src, data)
			if err != nil {
				return err
			}
			return add(f, src)
		})
		if err != nil {
			return nil, err
		}
	}
	if err := b.checkControls(answers, planned); err != nil {
		return nil, err
	}
	var record bytes.Buffer
	record.WriteString("# Written by rampart: the blueprint and answers this project was generated from.\n")
	enc := yaml.NewEncoder(&record)
	enc.SetIndent(2)
	if err := enc.Encode(Record{
		Blueprint: b.Name, BlueprintVersion: b.Version, RampartVersion: rampartVersion, Answers: answers,
	}); err != nil {
		return nil, fmt.Errorf("recording answers: %w", err)
	}
	if err := add(File{Path: AnswersFile, Contents: record.Bytes(), Mode: 0o644}, "rampart"); err != nil {
		return nil, err
	}
	next, err := b.nextSteps(answers)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Blueprint: b, Answers: answers.clone(), NextSteps: next}
	for _, f := range files {
		plan.Files = append(plan.Files, f)
	}
	slices.SortFunc(plan.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return plan, nil
}

// relativeOutput is where template src of set lands in the project, before
// path variables and dot- prefixes are replaced, and whether it is a template.
func relativeOutput(set FileSet, src string) (rel string, isTemplate bool) {
	rel = src
	if set.Src != src { // a file inside a tree: place it relative to the tree
		rel = strings.TrimPrefix(src, set.Src+"/")
		rel = path.Join(set.Dest, rel)
	} else if set.Dest != "" {
		rel = set.Dest
	} else {
		rel = path.Base(src)
	}
	isTemplate = strings.HasSuffix(rel, TemplateSuffix)
	return strings.TrimSuffix(rel, TemplateSuffix), isTemplate
}

func (b *Blueprint) renderFile(set FileSet, src string, data map[string]any) (File, error) {
	rel, isTemplate := relativeOutput(set, src)
	out := b.outputPath(rel, data)
	if !fs.ValidPath(out) || out == "." {
		return File{}, fmt.Errorf("template %q: output path %q is not a clean relative path", src, out)
	}
	raw, err := fs.ReadFile(b.templates, src)
	if err != nil {
		return File{}, fmt.Errorf("reading template %q: %w", src, err)
	}
	f := File{Path: out, Contents: raw, Mode: 0o644, Local: matchesAny(b.Local, out), Remake: b.remakeOf(out)}
	if matchesAny(b.Executable, out) {
		f.Mode = 0o755
	}
	if f.Local {
		f.Mode = 0o600
	}
	if isTemplate {
		t, err := b.parsed.parse(src, string(raw), f.Local)
		if err != nil {
			return File{}, fmt.Errorf("parsing template: %w", err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return File{}, fmt.Errorf("rendering template: %w", err)
		}
		f.Contents = buf.Bytes()
	}
	return f, nil
}

// DotPrefix in a template path stands for a leading dot in the output:
// dot-gitignore becomes .gitignore. Template trees hold no real dot-files,
// so a generated project's .gitignore cannot hide rampart's own files.
const DotPrefix = "dot-"

// outputPath replaces path placeholders (such as __package__) with answers
// and dot- prefixes with dots.
func (b *Blueprint) outputPath(rel string, data map[string]any) string {
	segments := strings.Split(rel, "/")
	for i, seg := range segments {
		// A placeholder is a whole segment (__package__) or a file name's
		// stem (__project__.service).
		stem, ext, _ := strings.Cut(seg, ".")
		if question, ok := b.PathVars[seg]; ok {
			segments[i] = fmt.Sprint(data[question])
		} else if question, ok := b.PathVars[stem]; ok && ext != "" {
			segments[i] = fmt.Sprint(data[question]) + "." + ext
		} else if rest, ok := strings.CutPrefix(seg, DotPrefix); ok && rest != "" {
			segments[i] = "." + rest
		}
	}
	return strings.Join(segments, "/")
}

func matchesAny(patterns []string, p string) bool {
	for _, pattern := range patterns {
		if ok, _ := path.Match(pattern, p); ok {
			return true
		}
	}
	return false
}
