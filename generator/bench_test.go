package generator_test

import (
	"context"
	"maps"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

// largestFlags is the combination whose project has the most bytes
// (scripts/bench-generate.sh finds it from the dry-run sizes of every
// allowed combination, and TestLargestCombinationIsBenchmarked keeps this
// in step).
var largestFlags = map[string]string{
	"name": "bench", "database": "postgres", "cache": "memcached", "auth": "oidc", "deploy": "kubernetes", "ci": "github",
}

// BenchmarkLoadBlueprints measures what every rampart command pays first:
// decoding the manifests and the lock catalog and validating them.
func BenchmarkLoadBlueprints(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, testVersion); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstRenderLargestProject measures what one rampart process
// does: load the blueprint, then parse and render the selected templates
// of the largest combination.
func BenchmarkFirstRenderLargestProject(b *testing.B) {
	answers := resolve(b, flaskBlueprint(b), largestFlags)
	b.ReportAllocs()
	for b.Loop() {
		all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, testVersion)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := all["flask"].Render(answers, testVersion); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderDefaultProject measures planning and rendering the default
// project in memory with its templates already parsed.
func BenchmarkRenderDefaultProject(b *testing.B) {
	benchmarkRender(b, map[string]string{"name": "bench"})
}

// BenchmarkRenderLargestProject is the same for the largest combination.
func BenchmarkRenderLargestProject(b *testing.B) {
	benchmarkRender(b, largestFlags)
}

func benchmarkRender(b *testing.B, flags map[string]string) {
	bp := flaskBlueprint(b)
	answers := resolve(b, bp, flags)
	plan, err := bp.Render(answers, testVersion)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(planBytes(plan))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bp.Render(answers, testVersion); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteDefaultProject measures writing the rendered default project
// to disk through the staging directory (no git).
func BenchmarkWriteDefaultProject(b *testing.B) {
	benchmarkWrite(b, map[string]string{"name": "bench"})
}

// BenchmarkWriteLargestProject is the same for the largest combination.
func BenchmarkWriteLargestProject(b *testing.B) {
	benchmarkWrite(b, largestFlags)
}

func benchmarkWrite(b *testing.B, flags map[string]string) {
	bp := flaskBlueprint(b)
	plan, err := bp.Render(resolve(b, bp, flags), testVersion)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(planBytes(plan))
	parent := b.TempDir()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		target := filepath.Join(parent, "p"+strconv.Itoa(i))
		if err := generator.WriteProject(context.Background(), target, plan.Files, generator.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func planBytes(plan *generator.Plan) int64 {
	var n int64
	for _, f := range plan.Files {
		n += int64(len(f.Contents))
	}
	return n
}

// TestLargestCombinationIsBenchmarked keeps largestFlags naming the
// combination whose project has the most bytes, so the benchmarks measure
// the worst case as the manifest changes.
func TestLargestCombinationIsBenchmarked(t *testing.T) {
	var largest generator.Answers
	most := 0
	forEachAllowedPlan(t, func(a generator.Answers, files map[string]string) {
		n := 0
		for _, contents := range files {
			n += len(contents)
		}
		if n > most {
			most, largest = n, maps.Clone(a)
		}
	})
	for name, value := range largestFlags {
		if name != "name" && largest[name] != value {
			t.Fatalf("the largest project (%d bytes) has answers %v; update largestFlags", most, largest)
		}
	}
}
