// Package templates holds the template trees the blueprints draw from.
package templates

import "embed"

// FS holds one directory per blueprint (a manifest's templates: names it),
// every one embedded, so a new blueprint's tree needs no edit here. The
// all: prefix keeps dot-files (.gitignore) and names starting with an
// underscore (__init__.py); the pattern also takes this file, which no
// manifest names.
//
//go:embed all:*
var FS embed.FS
