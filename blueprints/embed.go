// Package blueprints holds the built-in blueprint manifests: data that says
// which questions a blueprint asks and which templates apply when.
package blueprints

import "embed"

// Manifests holds one <name>.yaml per blueprint.
//
//go:embed *.yaml
var Manifests embed.FS
