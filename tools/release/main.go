// Command release freezes a version of a built-in blueprint, so that every
// version a project may have been generated from can be rendered again,
// offline (rampart update replays it):
//
//	go run ./tools/release -commit REV [-blueprint flask]
//	    recovers the version the blueprint had at REV from git
//	go run ./tools/release [-blueprint flask]
//	    freezes the working tree's version (what a release commit holds)
//
// It writes blueprints/releases/NAME-VERSION.tar.gz (the manifest, upgraded
// to the engine's current manifest format where it is older, and the
// template tree) and testdata/releases/NAME-VERSION.json (the answers of
// each golden project at that point and the SHA-256 of each of its files),
// and checks at once that the archive reproduces those files byte for byte.
// A version whose archive is committed is never written again: a change to
// what the blueprint generates needs a new version.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rampart-dev/rampart/generator"
)

func main() {
	commit := flag.String("commit", "", "recover the version at this git revision (default: the working tree)")
	name := flag.String("blueprint", "flask", "the blueprint to freeze")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: release [-commit REV] [-blueprint NAME]")
		os.Exit(2)
	}
	if err := run(*name, *commit); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// source reads files of the repository at a commit, or in the working tree.
type source struct{ commit string }

// tree returns every regular file under dir (relative paths) with its mode.
func (s source) tree(dir string) (map[string]generator.ReleaseFile, error) {
	files := map[string]generator.ReleaseFile{}
	if s.commit == "" {
		root := os.DirFS(dir)
		err := walk(root, dir, files)
		return files, err
	}
	out, err := exec.Command("git", "archive", "--format=tar", s.commit, dir).Output()
	if err != nil {
		return nil, fmt.Errorf("git archive %s %s: %w", s.commit, dir, gitErr(err))
	}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		contents, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		rel := strings.TrimPrefix(hdr.Name, dir+"/")
		files[rel] = generator.ReleaseFile{Path: rel, Contents: contents, Executable: hdr.Mode&0o111 != 0}
	}
}

func (s source) file(p string) ([]byte, error) {
	if s.commit == "" {
		return os.ReadFile(p)
	}
	out, err := exec.Command("git", "show", s.commit+":"+p).Output()
	if err != nil {
		return nil, fmt.Errorf("git show %s:%s: %w", s.commit, p, gitErr(err))
	}
	return out, nil
}

func gitErr(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) && len(exit.Stderr) > 0 {
		return errors.New(strings.TrimSpace(string(exit.Stderr)))
	}
	return err
}

func run(name, commit string) error {
	src := source{commit}
	manifest, err := src.file("blueprints/" + name + ".yaml")
	if err != nil {
		return err
	}
	var head struct {
		Version   string `yaml:"version"`
		Templates string `yaml:"templates"`
	}
	if err := yaml.Unmarshal(manifest, &head); err != nil {
		return fmt.Errorf("blueprints/%s.yaml: %w", name, err)
	}
	if commit != "" {
		current, err := os.ReadFile("blueprints/" + name + ".yaml")
		if err != nil {
			return err
		}
		if manifest, err = upgradeManifest(manifest, current); err != nil {
			return err
		}
	}
	archiveName := fmt.Sprintf("%s-%s.tar.gz", name, head.Version)
	archivePath := path.Join(releasesDir, archiveName)
	goldenPath := goldenRecord(name, head.Version)
	if err := exec.Command("git", "cat-file", "-e", "HEAD:"+archivePath).Run(); err == nil {
		return fmt.Errorf("%s %s is released (%s is committed): a change to what it generates needs a new version and a changelog entry", name, head.Version, archivePath)
	}
	templates, err := src.tree("templates/" + head.Templates)
	if err != nil {
		return err
	}
	store, err := generator.OpenReleases(os.DirFS(releasesDir), name)
	if err != nil {
		return err
	}
	archive, b, err := pack(store, archiveName, head.Version, head.Templates, manifest, templates)
	if err != nil {
		return fmt.Errorf("the archive of %s %s does not load: %w", name, head.Version, err)
	}
	if commit != "" {
		upgraded, err := upgradeCatalog(b, templates)
		if err != nil {
			return err
		}
		if upgraded {
			if archive, b, err = pack(store, archiveName, head.Version, head.Templates, manifest, templates); err != nil {
				return fmt.Errorf("the archive of %s %s does not load: %w", name, head.Version, err)
			}
		}
	}
	goldens, err := goldenSets(src)
	if err != nil {
		return err
	}
	// Before anything is written: the archive gives back its goldens, and
	// every other version still gives back its own.
	if problems := reproduce(b, goldens); len(problems) > 0 {
		return fmt.Errorf("the archive of %s %s does not reproduce its golden projects:\n  %s", name, head.Version, strings.Join(problems, "\n  "))
	}
	for _, v := range store.Versions() {
		if v == head.Version {
			continue
		}
		if err := checkRelease(store, name, v); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(releasesDir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(path.Dir(goldenPath), 0o755); err != nil {
		return err
	}
	record, err := json.MarshalIndent(goldens, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(archivePath, archive, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(goldenPath, append(record, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s (%d bytes; %d template files) and %s (%d golden projects) reproduce %s %s\n",
		archivePath, len(archive), len(templates), goldenPath, len(goldens), name, head.Version)
	return nil
}

const releasesDir = "blueprints/releases"

func goldenRecord(name, version string) string {
	return fmt.Sprintf("testdata/releases/%s-%s.json", name, version)
}

// checkRelease loads a version from the store and compares it with its
// recorded golden projects.
func checkRelease(store *generator.ReleaseStore, name, version string) error {
	raw, err := os.ReadFile(goldenRecord(name, version))
	if err != nil {
		return err
	}
	var goldens map[string]generator.GoldenSet
	if err := json.Unmarshal(raw, &goldens); err != nil {
		return fmt.Errorf("%s: %w", goldenRecord(name, version), err)
	}
	b, err := store.Load(version)
	if err != nil {
		return err
	}
	if problems := reproduce(b, goldens); len(problems) > 0 {
		return fmt.Errorf("%s %s no longer reproduces its golden projects:\n  %s", name, version, strings.Join(problems, "\n  "))
	}
	return nil
}

// pack writes the archive of a version into store (replacing an unwritten
// one of the same version) and loads the version back from it.
func pack(store *generator.ReleaseStore, archiveName, version, root string, manifest []byte, templates map[string]generator.ReleaseFile) ([]byte, *generator.Blueprint, error) {
	files := make([]generator.ReleaseFile, 0, len(templates))
	for _, f := range templates {
		files = append(files, f)
	}
	var archive bytes.Buffer
	if err := store.WriteRelease(&archive, version, root, manifest, files); err != nil {
		return nil, nil, err
	}
	if err := store.Add(archiveName, archive.Bytes()); err != nil {
		return nil, nil, err
	}
	b, err := store.Load(version)
	return archive.Bytes(), b, err
}

// goldenSets reads testdata/golden at the source: each project's answers
// (its .rampart.yaml) and the digest of each of its files.
func goldenSets(src source) (map[string]generator.GoldenSet, error) {
	tree, err := src.tree("testdata/golden")
	if err != nil {
		return nil, err
	}
	sets := map[string]generator.GoldenSet{}
	for rel, f := range tree {
		set, file, ok := strings.Cut(rel, "/")
		if !ok {
			continue
		}
		g := sets[set]
		if g.Files == nil {
			g.Files = map[string]string{}
		}
		g.Files[file] = generator.Digest(f.Contents)
		if file == generator.AnswersFile {
			var record generator.Record
			if err := yaml.Unmarshal(f.Contents, &record); err != nil {
				return nil, fmt.Errorf("testdata/golden/%s: %w", rel, err)
			}
			g.Answers, g.RampartVersion = record.Answers, record.RampartVersion
		}
		sets[set] = g
	}
	for name, g := range sets {
		if g.Answers == nil {
			return nil, fmt.Errorf("testdata/golden/%s has no %s", name, generator.AnswersFile)
		}
	}
	return sets, nil
}

// reproduce lists how rendering b for each golden set differs from it.
func reproduce(b *generator.Blueprint, sets map[string]generator.GoldenSet) []string {
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	var problems []string
	for _, n := range names {
		for _, p := range generator.CompareGolden(b, sets[n]) {
			problems = append(problems, n+": "+p)
		}
	}
	return problems
}
