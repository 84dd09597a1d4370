package generator

import (
	"testing"
	"testing/fstest"
)

// fixtureManifest is a small blueprint exercising every manifest feature.
const fixtureManifest = `
name: fixture
version: v1.2.3
summary: test blueprint
min_rampart_version: v0.1.0
templates: tpl
validators:
  python-package:
    - pattern: '^[A-Za-z_][A-Za-z0-9_]*$'
      message: 'is not a Python identifier: use letters, digits and underscores, not starting with a digit'
    - not_in: [class, def]
      message: is a Python keyword
    - not_in: [json, os, test]
      message: would shadow the Python standard library module of that name
    - pattern: '^[^A-Z]*$'
      message: should be lowercase (PEP 8 package names)
questions:
  - name: name
    prompt: Project name
    kind: text
    positional: true
    validate: [dns-label]
  - name: package
    prompt: Package
    kind: text
    default: '<% .name | replace "-" "_" %>'
    validate: [python-package]
    deny: [flask]
  - name: notes
    prompt: Notes
    kind: text
    default: none
    max_length: 20
    validate: [free-text]
  - name: database
    prompt: Database
    kind: choice
    default: postgres
    choices: [{value: postgres}, {value: sqlite}, {value: none}]
  - name: auth
    prompt: Auth
    kind: choice
    default: session
    choices: [{value: session}, {value: none}]
rules:
  - when: and (eq .auth "session") (eq .database "none")
    message: accounts need a database; choose --database postgres or sqlite, or --auth none
files:
  - src: base
  - src: extra/only.txt
    dest: docs/only.txt
    when: eq .database "sqlite"
  - src: secret
    when: eq .auth "session"
path_vars:
  __package__: package
executable: ["bin/*"]
local: [.env]
regenerated:
  - path: "*.lock"
    remake: run make lock
test_ids: {separator: "::", file: 'tests/[a-z0-9_/]+\.py', name: 'test_[a-z0-9_]+'}
`

func fixtureTemplates() fstest.MapFS {
	return fstest.MapFS{
		"tpl/base/README.md.tmpl":              {Data: []byte("# <% .name %>\n<% .notes | markdown %>\n")},
		"tpl/base/src/__package__/app.py.tmpl": {Data: []byte("NOTES = <% .notes | py %>\n")},
		"tpl/base/jinja.html":                  {Data: []byte("{{ user }} {% if x %}[[ y ]]{% endif %} ${{ github.sha }} <% not a template %>\n")},
		"tpl/base/bin/run":                     {Data: []byte("#!/bin/sh\n")},
		"tpl/extra/only.txt":                   {Data: []byte("sqlite only\n")},
		"tpl/secret/dot-env.tmpl":              {Data: []byte("SECRET_KEY=<% secret 16 %>\n")},
	}
}

func fixtureBlueprint(t testing.TB) *Blueprint {
	t.Helper()
	b, err := ParseBlueprint([]byte(fixtureManifest), fixtureTemplates())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
