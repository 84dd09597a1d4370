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
	// A development build (go run, go build in a checkout) is never refused.
	if _, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)"); err != nil {
		t.Fatal(err)
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
