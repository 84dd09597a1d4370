package generator_test

import (
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

func TestLoadBlueprintsChecksTheMinimumRampartVersion(t *testing.T) {
	_, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "v0.0.1")
	if err == nil || !strings.Contains(err.Error(), "needs rampart v0.1.0 or newer; this is v0.0.1") {
		t.Fatalf("error = %v, want the version refusal", err)
	}
	// A development build (go run, go build in a checkout, or go install of
	// a commit of the untagged module, which Go names v0.0.0-DATE-HASH) is
	// never refused.
	for _, devel := range []string{"(devel)", "v0.0.0-20261123162517-74f753a5f35d", "v0.0.0-20261123162517-74f753a5f35d+dirty"} {
		if _, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, devel); err != nil {
			t.Errorf("%s: %v", devel, err)
		}
	}
	// A commit after a release is that release's successor, and is checked.
	if _, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "v0.0.2-0.20261123162517-74f753a5f35d"); err == nil {
		t.Error("v0.0.2-0.… (a commit after v0.0.1) was not refused a blueprint that needs v0.1.0")
	}
}

// Loading checks conditions statically; this is the exhaustive check of
// every embedded blueprint under every combination of choices, which a
// shipped binary relies on instead of repeating it on every run.
func TestEmbeddedBlueprintsHoldForEveryCombination(t *testing.T) {
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range all {
		if err := b.CheckEveryCombination(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
