package generator

import (
	"fmt"

	"golang.org/x/mod/semver"
)

// ChangelogEntry is what one blueprint version changed in generated projects.
type ChangelogEntry struct {
	Version string   `yaml:"version"`
	Changes []string `yaml:"changes"`
}

// checkChangelog insists that a blueprint with a changelog records its
// current version first, and every version once, newest first: a change to
// what the blueprint generates cannot ship under an old version unnoticed.
func (b *Blueprint) checkChangelog() error {
	if len(b.Changelog) == 0 {
		return nil
	}
	if b.Changelog[0].Version != b.Version {
		return fmt.Errorf("changelog: the newest entry is %s, but the blueprint's version is %s; add an entry for %s", b.Changelog[0].Version, b.Version, b.Version)
	}
	for i, entry := range b.Changelog {
		if !semver.IsValid(entry.Version) {
			return fmt.Errorf("changelog: %q is not a semantic version like v1.2.3", entry.Version)
		}
		if len(entry.Changes) == 0 {
			return fmt.Errorf("changelog: %s lists no change", entry.Version)
		}
		if i > 0 && semver.Compare(b.Changelog[i-1].Version, entry.Version) <= 0 {
			return fmt.Errorf("changelog: %s comes after %s; list versions newest first, each once", entry.Version, b.Changelog[i-1].Version)
		}
	}
	return nil
}
