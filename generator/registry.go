package generator

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// LoadBlueprints parses every *.yaml manifest in manifests, drawing
// templates from templates. It refuses a blueprint that needs a newer
// rampart than rampartVersion (a development build is never refused).
func LoadBlueprints(manifests, templates fs.FS, rampartVersion string) (map[string]*Blueprint, error) {
	names, err := fs.Glob(manifests, "*.yaml")
	if err != nil {
		return nil, err
	}
	all := map[string]*Blueprint{}
	for _, name := range names {
		raw, err := fs.ReadFile(manifests, name)
		if err != nil {
			return nil, err
		}
		b, err := ParseBlueprint(raw, templates)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); b.Name != want {
			return nil, fmt.Errorf("%s: declares name %q; the file must be named %s.yaml", name, b.Name, b.Name)
		}
		if releaseBuild(rampartVersion) && semver.Compare(rampartVersion, b.MinRampartVersion) < 0 {
			return nil, fmt.Errorf("blueprint %s %s needs rampart %s or newer; this is %s", b.Name, b.Version, b.MinRampartVersion, rampartVersion)
		}
		all[b.Name] = b
	}
	return all, nil
}

// SortedNames returns the names of blueprints in order.
func SortedNames(all map[string]*Blueprint) []string {
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// releaseBuild reports whether version names a release (or a commit after
// one). "(devel)" and the v0.0.0 pseudo-version go install gives a commit of
// a module with no tag (v0.0.0-20261123162517-74f753a5f35d) are development
// builds of this very tree: they are never refused a blueprint.
func releaseBuild(version string) bool {
	if !semver.IsValid(version) {
		return false
	}
	return !module.IsPseudoVersion(version) || !strings.HasPrefix(version, "v0.0.0-")
}
