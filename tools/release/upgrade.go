package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/rampart-dev/rampart/generator"
)

// walk adds every regular file under root (the directory dir) to files.
func walk(root fs.FS, dir string, files map[string]generator.ReleaseFile) error {
	return fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s/%s is not a regular file", dir, p)
		}
		contents, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		files[p] = generator.ReleaseFile{Path: p, Contents: contents, Executable: info.Mode()&0o111 != 0}
		return nil
	})
}

// upgradeManifest brings a manifest from an earlier commit to the engine's
// current format, changing nothing it generates (the golden digests check
// that). Each step adds a section the format gained since, with the meaning
// the engine of that time hard-coded:
//   - validators: the python-package check moved from the engine to the
//     manifest unchanged, so the current definition is that check;
//   - test_ids: controls named pytest ids, as they do now;
//   - next_steps: the engine printed "make install test" and "make migrate dev".
func upgradeManifest(old, current []byte) ([]byte, error) {
	text := string(old)
	for _, step := range []struct {
		section, before, fallback string
	}{
		{section: "validators", before: "questions"},
		{section: "test_ids", before: "controls"},
		{section: "next_steps", before: "path_vars", fallback: "next_steps:\n  - run: make install test\n  - run: make migrate dev\n\n"},
	} {
		if hasSection(text, step.section) {
			continue
		}
		block := step.fallback
		if block == "" {
			var ok bool
			if block, ok = section(string(current), step.section); !ok {
				return nil, fmt.Errorf("the current manifest has no %s: section to bring into the old one", step.section)
			}
		}
		at := regexp.MustCompile(`(?m)^` + step.before + `:`).FindStringIndex(text)
		if at == nil {
			return nil, fmt.Errorf("the old manifest has no %s: section to put %s: before", step.before, step.section)
		}
		text = text[:at[0]] + block + text[at[0]:]
	}
	return []byte(text), nil
}

func hasSection(text, name string) bool {
	return regexp.MustCompile(`(?m)^` + name + `:`).MatchString(text)
}

// section is a top-level YAML section of text, from its key to the next
// top-level key or comment, followed by one blank line.
func section(text, name string) (string, bool) {
	at := regexp.MustCompile(`(?m)^` + name + `:`).FindStringIndex(text)
	if at == nil {
		return "", false
	}
	rest := text[at[0]:]
	end := regexp.MustCompile(`(?m)^[^\s]`).FindAllStringIndex(rest, 2)
	if len(end) == 2 {
		rest = rest[:end[1][0]]
	}
	return strings.TrimRight(rest, "\n") + "\n\n", true
}

// upgradeCatalog gives a lock catalog from before resolutions (the engine
// then wrote every package's own marker) the resolutions the engine now
// requires: one per requirement set a combination of b can have, each
// without marker overrides, which is exactly what that engine wrote.
// It reports whether the catalog needed it.
func upgradeCatalog(b *generator.Blueprint, files map[string]generator.ReleaseFile) (bool, error) {
	if b.Python == nil {
		return false, nil
	}
	f, ok := files[b.Python.Lock]
	if !ok {
		return false, fmt.Errorf("the template tree has no lock catalog %s", b.Python.Lock)
	}
	var catalog map[string]json.RawMessage
	if err := json.Unmarshal(f.Contents, &catalog); err != nil {
		return false, fmt.Errorf("%s: %w", b.Python.Lock, err)
	}
	if _, ok := catalog["resolutions"]; ok {
		return false, nil
	}
	var sets []generator.LockResolution
	seen := map[string]bool{}
	err := b.ForEachCombination(func(a generator.Answers) error {
		if b.CheckRules(a) != nil {
			return nil
		}
		runtime, development, err := b.Python.LockInputs(a)
		if err != nil {
			return err
		}
		for _, reqs := range [][]string{runtime, development} {
			sorted := slices.Sorted(slices.Values(reqs))
			if key := strings.Join(sorted, " "); !seen[key] {
				seen[key] = true
				sets = append(sets, generator.LockResolution{Requirements: sorted})
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	sort.Slice(sets, func(i, j int) bool {
		return strings.Join(sets[i].Requirements, " ") < strings.Join(sets[j].Requirements, " ")
	})
	raw, err := json.Marshal(sets)
	if err != nil {
		return false, err
	}
	catalog["resolutions"] = raw
	contents, err := json.MarshalIndent(catalog, "", "  ")
	if err != nil {
		return false, err
	}
	f.Contents = append(contents, '\n')
	files[b.Python.Lock] = f
	return true, nil
}
