package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
)

// generateRelease writes into dir the project a released version of the
// blueprint generates for the given --question value flags (defaults for the
// rest; the name is dir's base name), and commits it with git, as that
// release's rampart new --yes did. scripts/update.sh uses it when the
// repository's history (to build that release's rampart) is not at hand;
// go test proves each archive renders its release's golden projects.
func generateRelease(name, version, dir string, flags []string) error {
	store, err := generator.OpenReleases(blueprints.Releases, name)
	if err != nil {
		return err
	}
	b, err := store.Load(version)
	if err != nil {
		return err
	}
	given := map[string]string{"name": baseName(dir)}
	for i := 0; i < len(flags); i += 2 {
		q, ok := strings.CutPrefix(flags[i], "--")
		if !ok {
			return fmt.Errorf("want --QUESTION VALUE pairs, got %q", flags[i])
		}
		given[q] = flags[i+1]
	}
	res, err := b.Resolve(generator.Sources{Flags: given, UseDefaults: true})
	if err != nil {
		return err
	}
	plan, err := b.Render(res.Answers, "(devel)")
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := generator.WriteProject(ctx, dir, plan.Files, generator.WriteOptions{}); err != nil {
		return err
	}
	status, err := generator.InitGit(ctx, dir)
	if err != nil {
		return err
	}
	if status != generator.GitCommitted {
		return fmt.Errorf("git: %s", status)
	}
	return nil
}

func baseName(dir string) string {
	dir = strings.TrimRight(dir, "/")
	return dir[strings.LastIndex(dir, "/")+1:]
}
