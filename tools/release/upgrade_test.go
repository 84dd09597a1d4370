package main

import (
	"os"
	"strings"
	"testing"
)

func TestAnOldManifestGainsTheSectionsTheFormatAddedSince(t *testing.T) {
	current, err := os.ReadFile("../../blueprints/flask.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old := "name: flask\nversion: v0.1.0\nquestions:\n  - name: name\npath_vars:\n  __package__: package\ncontrols:\n  - control: x\n"
	got, err := upgradeManifest([]byte(old), current)
	if err != nil {
		t.Fatal(err)
	}
	text := string(got)
	for _, want := range []string{
		"validators:\n  python-package:\n",
		"test_ids:\n  separator: \"::\"\n",
		"next_steps:\n  - run: make install test\n  - run: make migrate dev\n\npath_vars:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the upgraded manifest lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "validators:") > strings.Index(text, "questions:") || strings.Index(text, "test_ids:") > strings.Index(text, "controls:") {
		t.Errorf("a section landed after the one it must precede:\n%s", text)
	}
	// A manifest in the current format is left as it is.
	again, err := upgradeManifest(current, current)
	if err != nil || string(again) != string(current) {
		t.Errorf("the current manifest was changed (%v)", err)
	}
}
