package generator

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// releaseOf writes the fixture blueprint, at version, with tree as its
// template root, into s and returns the archive.
func releaseOf(t *testing.T, s *ReleaseStore, version string, tree fstest.MapFS) []byte {
	t.Helper()
	manifest := strings.Replace(fixtureManifest, "version: v1.2.3", "version: "+version, 1)
	var files []ReleaseFile
	for p, f := range tree {
		rel, ok := strings.CutPrefix(p, "tpl/")
		if !ok {
			t.Fatalf("%s is outside tpl/", p)
		}
		files = append(files, ReleaseFile{Path: rel, Contents: f.Data, Executable: f.Mode&0o111 != 0})
	}
	var out bytes.Buffer
	if err := s.WriteRelease(&out, version, "tpl", []byte(manifest), files); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("fixture-"+version+".tar.gz", out.Bytes()); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// archiveNames lists the entries of an archive.
func archiveNames(t *testing.T, archive []byte) []string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
}

func TestAReleaseRendersWhatItsVersionRendered(t *testing.T) {
	s := &ReleaseStore{name: "fixture", archives: map[string]releaseArchive{}}
	releaseOf(t, s, "v1.2.3", fixtureTemplates()) // the fixture's own version
	b, err := s.Load("v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	live := fixtureBlueprint(t)
	answers := Answers{"name": "demo", "package": "demo", "notes": "n", "database": "sqlite", "auth": "none"}
	want, err := live.Render(answers, "v1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Render(answers, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != len(want.Files) {
		t.Fatalf("%d files, want %d", len(got.Files), len(want.Files))
	}
	for i := range want.Files {
		w, g := want.Files[i], got.Files[i]
		if w.Path != g.Path || w.Mode != g.Mode || (!w.Local && !bytes.Equal(w.Contents, g.Contents)) {
			t.Errorf("%s (%v) differs from the live blueprint's %s (%v)", g.Path, g.Mode, w.Path, w.Mode)
		}
	}
}

func TestReleasesAreDeterministicAndStoreOnlyWhatChanged(t *testing.T) {
	s := &ReleaseStore{name: "fixture", archives: map[string]releaseArchive{}}
	first := releaseOf(t, s, "v1.0.0", fixtureTemplates())
	again := releaseOf(t, &ReleaseStore{name: "fixture", archives: map[string]releaseArchive{}}, "v1.0.0", fixtureTemplates())
	if !bytes.Equal(first, again) {
		t.Error("the same release written twice gave different bytes")
	}
	changed := fixtureTemplates()
	changed["tpl/extra/only.txt"] = &fstest.MapFile{Data: []byte("sqlite only, reworded\n")}
	second := releaseOf(t, s, "v1.1.0", changed)
	// The new manifest (its version line) and the one changed file.
	if names := archiveNames(t, second); len(names) != 3 {
		t.Errorf("v1.1.0 stores %q; want release.json and the 2 changed blobs", names)
	}
	b, err := s.Load("v1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(b.templates, "extra/only.txt")
	if err != nil || string(got) != "sqlite only, reworded\n" {
		t.Errorf("v1.1.0 extra/only.txt = %q, %v", got, err)
	}
	if old, err := s.Load("v1.0.0"); err != nil {
		t.Fatal(err)
	} else if got, _ := fs.ReadFile(old.templates, "extra/only.txt"); string(got) != "sqlite only\n" {
		t.Errorf("v1.0.0 extra/only.txt = %q", got)
	}
}

func TestABrokenReleaseIsRefusedWithItsReason(t *testing.T) {
	s := &ReleaseStore{name: "fixture", archives: map[string]releaseArchive{}}
	releaseOf(t, s, "v1.0.0", fixtureTemplates())
	changed := fixtureTemplates()
	changed["tpl/extra/only.txt"] = &fstest.MapFile{Data: []byte("new\n")}
	second := releaseOf(t, s, "v1.1.0", changed)

	// Without v1.0.0, v1.1.0 misses the blobs it shares with it.
	alone := &ReleaseStore{name: "fixture", archives: map[string]releaseArchive{}}
	if err := alone.Add("fixture-v1.1.0.tar.gz", second); err != nil {
		t.Fatal(err)
	}
	if _, err := alone.Load("v1.1.0"); err == nil || !strings.Contains(err.Error(), "is in no archive") {
		t.Errorf("a missing blob: %v", err)
	}
	if _, err := s.Load("v9.0.0"); err == nil || !strings.Contains(err.Error(), "released: v1.0.0, v1.1.0") {
		t.Errorf("an unknown version: %v", err)
	}
	if err := alone.Add("fixture-v2.0.0.tar.gz", second); err == nil || !strings.Contains(err.Error(), "not what its name says") {
		t.Errorf("a misnamed archive: %v", err)
	}

	// A blob whose contents do not match its name.
	var tampered bytes.Buffer
	gz := gzip.NewWriter(&tampered)
	tw := tar.NewWriter(gz)
	for _, e := range []struct{ name, body string }{{"release.json", `{"blueprint":"fixture","version":"v1.0.0"}`}, {"blobs/" + Digest([]byte("a")), "b"}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	gz.Close()
	if err := alone.Add("fixture-v1.0.0.tar.gz", tampered.Bytes()); err == nil || !strings.Contains(err.Error(), "a blob named by its digest") {
		t.Errorf("a tampered blob: %v", err)
	}
}
