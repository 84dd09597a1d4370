package generator_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rampart-dev/rampart/generator"
)

// BenchmarkRenderDefaultProject measures planning and rendering the default
// project in memory.
func BenchmarkRenderDefaultProject(b *testing.B) {
	bp := flaskBlueprint(b)
	answers := resolve(b, bp, map[string]string{"name": "bench"})
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
	bp := flaskBlueprint(b)
	plan, err := bp.Render(resolve(b, bp, map[string]string{"name": "bench"}), testVersion)
	if err != nil {
		b.Fatal(err)
	}
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
