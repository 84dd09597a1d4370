package generator_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

// Every released version renders again, byte for byte, the golden projects
// it had when it was released (their digests are in testdata/releases).
func TestEveryReleaseReproducesItsGoldenProjects(t *testing.T) {
	forEachBlueprint(t, func(b *generator.Blueprint, store *generator.ReleaseStore) {
		name := b.Name
		if len(store.Versions()) == 0 {
			t.Fatalf("%s has no release archive (go run ./tools/release)", name)
		}
		for _, v := range store.Versions() {
			raw, err := os.ReadFile(fmt.Sprintf("../testdata/releases/%s-%s.json", name, v))
			if err != nil {
				t.Fatalf("%s %s: %v (tools/release writes the golden digests with the archive)", name, v, err)
			}
			var sets map[string]generator.GoldenSet
			if err := json.Unmarshal(raw, &sets); err != nil {
				t.Fatal(err)
			}
			b, err := store.Load(v)
			if err != nil {
				t.Fatalf("%s %s: %v", name, v, err)
			}
			if len(sets) == 0 {
				t.Errorf("%s %s: no golden project recorded", name, v)
			}
			for set, g := range sets {
				for _, p := range generator.CompareGolden(b, g) {
					t.Errorf("%s %s, golden %s: %s", name, v, set, p)
				}
			}
		}
	})
}

// The version in each manifest is frozen as it is: a change to the manifest
// or its templates fails here until the version is bumped and frozen anew.
func TestTheCurrentVersionIsFrozenAsItIs(t *testing.T) {
	forEachBlueprint(t, func(b *generator.Blueprint, store *generator.ReleaseStore) {
		name := b.Name
		fix := fmt.Sprintf("bump version: in blueprints/%s.yaml, add its changelog entry, run go test ./generator -update, then go run ./tools/release -blueprint %s", name, name)
		if !slices.Contains(store.Versions(), b.Version) {
			t.Errorf("%s %s has no release archive: %s", name, b.Version, fix)
			return
		}
		index, manifest, files, err := store.Files(b.Version)
		if err != nil {
			t.Fatal(err)
		}
		current, err := fs.ReadFile(blueprints.Manifests, name+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		var changed []string
		if string(manifest) != string(current) {
			changed = append(changed, "blueprints/"+name+".yaml")
		}
		frozen := map[string]generator.ReleaseFile{}
		for _, f := range files {
			frozen[f.Path] = f
		}
		err = fs.WalkDir(templates.FS, index.Root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			contents, err := fs.ReadFile(templates.FS, p)
			if err != nil {
				return err
			}
			rel := strings.TrimPrefix(p, index.Root+"/")
			if f, ok := frozen[rel]; !ok || string(f.Contents) != string(contents) {
				changed = append(changed, path.Join("templates", p))
			}
			delete(frozen, rel)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for rel := range frozen {
			changed = append(changed, path.Join("templates", index.Root, rel)+" (removed)")
		}
		if len(changed) > 0 {
			slices.Sort(changed)
			t.Errorf("%s %s was frozen, and since then these changed: %s.\nA change to what a blueprint generates needs a new version: %s",
				name, b.Version, strings.Join(changed, ", "), fix)
		}
	})
}

// Every version the changelog names is released, and every release is in the changelog.
func TestTheChangelogAndTheReleasesAgree(t *testing.T) {
	forEachBlueprint(t, func(b *generator.Blueprint, store *generator.ReleaseStore) {
		name := b.Name
		var logged []string
		for _, e := range b.Changelog {
			logged = append(logged, e.Version)
		}
		slices.Sort(logged)
		released := slices.Sorted(slices.Values(store.Versions()))
		if !slices.Equal(logged, released) {
			t.Errorf("%s: the changelog names %v, the release archives hold %v", name, logged, released)
		}
	})
}

// forEachBlueprint calls check with each built-in blueprint and its releases.
func forEachBlueprint(t *testing.T, check func(*generator.Blueprint, *generator.ReleaseStore)) {
	t.Helper()
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range generator.SortedNames(all) {
		store, err := generator.OpenReleases(blueprints.Releases, name)
		if err != nil {
			t.Fatal(err)
		}
		check(all[name], store)
	}
}

func TestStatusListsTheChangesAfterTheProjectsVersion(t *testing.T) {
	b := flaskBlueprint(t)
	record := generator.Record{Blueprint: "flask", BlueprintVersion: "v0.3.0"}
	s, err := b.Status(record)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Behind || s.Latest != b.Version || s.VersionsBehind(b) != len(b.Changelog)-3 {
		t.Errorf("status %+v, %d versions behind", s, s.VersionsBehind(b))
	}
	for _, c := range s.Changes {
		if c.Version == "v0.3.0" || c.Version == "v0.2.0" {
			t.Errorf("lists a change of the project's own or an older version: %+v", c)
		}
	}
	record.BlueprintVersion = "v0.2.0"
	if s, _ = b.Status(record); len(s.Changes) == 0 || !s.Changes[0].Security || strings.HasPrefix(s.Changes[0].Text, "security:") {
		t.Errorf("from v0.2.0 the security changes of v0.3.0 come first, without their prefix: %+v", s.Changes)
	}
	record.BlueprintVersion = b.Version
	if s, err = b.Status(record); err != nil || s.Behind || len(s.Changes) != 0 {
		t.Errorf("the current version: %+v, %v", s, err)
	}
	record.Blueprint = "django"
	if _, err = b.Status(record); err == nil {
		t.Error("another blueprint's record was compared")
	}
}
