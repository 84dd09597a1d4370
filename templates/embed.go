// Package templates holds the template trees the blueprints draw from.
package templates

import "embed"

// FS holds one directory per blueprint. The all: prefix keeps dot-files
// (.gitignore) and names starting with an underscore (__init__.py).
//
//go:embed all:flask
var FS embed.FS
