package generator

import (
	"strings"
	"testing"
)

func TestChangelogMustStartAtTheVersionAndGoNewestFirst(t *testing.T) {
	cases := map[string]struct {
		changelog []ChangelogEntry
		want      string
	}{
		"current version missing": {[]ChangelogEntry{{"v1.0.0", []string{"x"}}}, "add an entry for v1.1.0"},
		"not newest first":        {[]ChangelogEntry{{"v1.1.0", []string{"x"}}, {"v1.2.0", []string{"y"}}}, "newest first"},
		"repeated version":        {[]ChangelogEntry{{"v1.1.0", []string{"x"}}, {"v1.1.0", []string{"y"}}}, "newest first"},
		"no change listed":        {[]ChangelogEntry{{"v1.1.0", nil}}, "lists no change"},
		"not semver":              {[]ChangelogEntry{{"v1.1.0", []string{"x"}}, {"1.0", []string{"y"}}}, "not a semantic version"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b := &Blueprint{Version: "v1.1.0", Changelog: c.changelog}
			err := b.checkChangelog()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	ok := &Blueprint{Version: "v1.1.0", Changelog: []ChangelogEntry{{"v1.1.0", []string{"x"}}, {"v1.0.0", []string{"y"}}}}
	if err := ok.checkChangelog(); err != nil {
		t.Fatalf("a well-formed changelog was refused: %v", err)
	}
}
