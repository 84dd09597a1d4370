// Package blueprints holds the built-in blueprint manifests: data that says
// which questions a blueprint asks and which templates apply when.
package blueprints

import (
	"embed"
	"io/fs"
)

// Manifests holds one <name>.yaml per blueprint.
//
//go:embed *.yaml
var Manifests embed.FS

//go:embed releases/*.tar.gz
var releases embed.FS

// Releases holds NAME-VERSION.tar.gz for every released version of every
// blueprint (generator.OpenReleases reads them; go run ./tools/release
// writes them).
var Releases = mustSub(releases, "releases")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // a constant, valid directory name
	}
	return sub
}
