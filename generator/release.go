package generator

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"testing/fstest"
	"time"

	"golang.org/x/mod/semver"
)

// Release archives hold the released versions of a blueprint, so that the
// engine can render any of them again, offline, long after the templates
// moved on (rampart update replays the version a project was generated
// from). NAME-VERSION.tar.gz holds release.json (the version's manifest and
// template tree as paths and SHA-256 digests) and blobs/DIGEST for each
// file no lower version's archive already stores: a release costs what it
// changed. Archives are written deterministically and never rewritten.

// ReleaseIndex is release.json: what one version consists of.
type ReleaseIndex struct {
	Blueprint string         `json:"blueprint"`
	Version   string         `json:"version"`
	Root      string         `json:"root"`     // the manifest's templates: value
	Manifest  string         `json:"manifest"` // digest of the manifest
	Files     []ReleaseEntry `json:"files"`    // the template tree, relative to Root
}

// ReleaseEntry is one file of a version's template tree.
type ReleaseEntry struct {
	Path       string `json:"path"`
	Digest     string `json:"sha256"`
	Executable bool   `json:"executable,omitempty"`
}

// ReleaseFile is one file of a version's template tree, with its contents.
type ReleaseFile struct {
	Path       string
	Contents   []byte
	Executable bool
}

// Digest is the hex SHA-256 of b, the name of a blob.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// releaseArchive is one read archive: its index and the blobs it stores.
type releaseArchive struct {
	index ReleaseIndex
	blobs map[string][]byte
}

// ReleaseStore is every release archive of one blueprint.
type ReleaseStore struct {
	name     string
	archives map[string]releaseArchive // by version
}

// OpenReleases reads NAME-*.tar.gz at the root of fsys (none is an empty store).
func OpenReleases(fsys fs.FS, name string) (*ReleaseStore, error) {
	s := &ReleaseStore{name: name, archives: map[string]releaseArchive{}}
	paths, err := fs.Glob(fsys, name+"-v*.tar.gz")
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		if err := s.add(p, raw); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *ReleaseStore) add(label string, raw []byte) error {
	a, err := readArchive(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	if a.index.Blueprint != s.name || !semver.IsValid(a.index.Version) || path.Base(label) != s.name+"-"+a.index.Version+".tar.gz" {
		return fmt.Errorf("%s holds %s %s, not what its name says", label, a.index.Blueprint, a.index.Version)
	}
	s.archives[a.index.Version] = a
	return nil
}

// Versions lists the released versions, lowest first.
func (s *ReleaseStore) Versions() []string {
	versions := make([]string, 0, len(s.archives))
	for v := range s.archives {
		versions = append(versions, v)
	}
	semver.Sort(versions)
	return versions
}

// storedBelow reports whether an archive of a version lower than version
// stores the blob with digest d.
func (s *ReleaseStore) storedBelow(version, d string) bool {
	for v, a := range s.archives {
		if semver.Compare(v, version) < 0 {
			if _, ok := a.blobs[d]; ok {
				return true
			}
		}
	}
	return false
}

// blob finds a blob in the archive of version or of a lower one.
func (s *ReleaseStore) blob(version, d string) ([]byte, bool) {
	for v, a := range s.archives {
		if semver.Compare(v, version) <= 0 {
			if b, ok := a.blobs[d]; ok {
				return b, true
			}
		}
	}
	return nil, false
}

// Files returns a released version's manifest and template tree.
func (s *ReleaseStore) Files(version string) (ReleaseIndex, []byte, []ReleaseFile, error) {
	a, ok := s.archives[version]
	if !ok {
		return ReleaseIndex{}, nil, nil, fmt.Errorf("%s %s is not a released version (released: %s)", s.name, version, strings.Join(s.Versions(), ", "))
	}
	manifest, ok := s.blob(version, a.index.Manifest)
	if !ok {
		return ReleaseIndex{}, nil, nil, fmt.Errorf("%s %s: the manifest's blob %s is in no archive", s.name, version, a.index.Manifest)
	}
	files := make([]ReleaseFile, 0, len(a.index.Files))
	for _, e := range a.index.Files {
		contents, ok := s.blob(version, e.Digest)
		if !ok {
			return ReleaseIndex{}, nil, nil, fmt.Errorf("%s %s: %s (blob %s) is in no archive", s.name, version, e.Path, e.Digest)
		}
		files = append(files, ReleaseFile{Path: e.Path, Contents: contents, Executable: e.Executable})
	}
	return a.index, manifest, files, nil
}

// Load parses a released version into the blueprint it was. Its manifest
// is in the engine's current format (tools/release upgrades older ones when
// it writes them); recorded golden digests prove the output unchanged.
func (s *ReleaseStore) Load(version string) (*Blueprint, error) {
	index, manifest, files, err := s.Files(version)
	if err != nil {
		return nil, err
	}
	tree := fstest.MapFS{}
	for _, f := range files {
		mode := fs.FileMode(0o644)
		if f.Executable {
			mode = 0o755
		}
		tree[path.Join(index.Root, f.Path)] = &fstest.MapFile{Data: f.Contents, Mode: mode}
	}
	b, err := ParseBlueprint(manifest, tree)
	if err != nil {
		return nil, err
	}
	if b.Name != s.name || b.Version != version || b.Templates != index.Root {
		return nil, fmt.Errorf("the archive of %s %s holds %s %s (templates %s)", s.name, version, b.Name, b.Version, index.Root)
	}
	return b, nil
}

// WriteRelease writes the archive of a version: its index and the blobs no
// lower version's archive in s stores. The same content gives the same bytes.
func (s *ReleaseStore) WriteRelease(w io.Writer, version, root string, manifest []byte, files []ReleaseFile) error {
	index := ReleaseIndex{Blueprint: s.name, Version: version, Root: root, Manifest: Digest(manifest)}
	blobs := map[string][]byte{index.Manifest: manifest}
	for _, f := range files {
		d := Digest(f.Contents)
		index.Files = append(index.Files, ReleaseEntry{Path: f.Path, Digest: d, Executable: f.Executable})
		blobs[d] = f.Contents
	}
	sort.Slice(index.Files, func(i, j int) bool { return index.Files[i].Path < index.Files[j].Path })
	for i := 1; i < len(index.Files); i++ {
		if index.Files[i].Path == index.Files[i-1].Path {
			return fmt.Errorf("release archive: %s twice", index.Files[i].Path)
		}
	}
	raw, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}
	entries := []ReleaseFile{{Path: "release.json", Contents: append(raw, '\n')}}
	for _, d := range slices.Sorted(maps.Keys(blobs)) {
		if !s.storedBelow(version, d) {
			entries = append(entries, ReleaseFile{Path: "blobs/" + d, Contents: blobs[d]})
		}
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Path, Mode: 0o644, Size: int64(len(e.Contents)), ModTime: time.Unix(0, 0).UTC(), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.Contents); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// Add reads a written archive into the store (tools/release loads what it
// wrote back before anything reaches the disk).
func (s *ReleaseStore) Add(label string, raw []byte) error { return s.add(label, raw) }

func readArchive(raw []byte) (releaseArchive, error) {
	a := releaseArchive{blobs: map[string][]byte{}}
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return a, err
	}
	tr := tar.NewReader(gz)
	seenIndex := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return a, err
		}
		contents, err := io.ReadAll(tr)
		if err != nil {
			return a, fmt.Errorf("%s: %w", hdr.Name, err)
		}
		switch d, isBlob := strings.CutPrefix(hdr.Name, "blobs/"); {
		case hdr.Typeflag != tar.TypeReg:
			return a, fmt.Errorf("%s is not a regular file", hdr.Name)
		case hdr.Name == "release.json":
			if err := json.Unmarshal(contents, &a.index); err != nil {
				return a, fmt.Errorf("release.json: %w", err)
			}
			seenIndex = true
		case isBlob && Digest(contents) == d:
			a.blobs[d] = contents
		default:
			return a, fmt.Errorf("%s is neither release.json nor a blob named by its digest", hdr.Name)
		}
	}
	if !seenIndex {
		return a, errors.New("no release.json")
	}
	return a, nil
}

// GoldenSet is a golden project as a release recorded it: the answers it
// was generated from, the rampart version its record names, and the SHA-256
// of each file (the local .env aside).
type GoldenSet struct {
	Answers        Answers           `json:"answers"`
	RampartVersion string            `json:"rampart_version"`
	Files          map[string]string `json:"files"`
}

// CompareGolden renders set's answers with b and lists every file that is
// missing, extra or different.
func CompareGolden(b *Blueprint, set GoldenSet) []string {
	plan, err := b.Render(set.Answers, set.RampartVersion)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	seen := map[string]bool{}
	for _, f := range plan.Files {
		if f.Local {
			continue
		}
		seen[f.Path] = true
		want, ok := set.Files[f.Path]
		switch {
		case !ok:
			problems = append(problems, f.Path+" is generated but was not")
		case Digest(f.Contents) != want:
			problems = append(problems, f.Path+" differs")
		}
	}
	for p := range set.Files {
		if !seen[p] {
			problems = append(problems, p+" was generated but is not")
		}
	}
	sort.Strings(problems)
	return problems
}
