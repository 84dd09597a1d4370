package generator

import (
	"regexp"
	"testing"
)

var regexpHex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestTOMLString(t *testing.T) {
	cases := map[string]string{
		`plain`:         `"plain"`,
		`a "b" \ c`:     `"a \"b\" \\ c"`,
		"tab\tnl\n\x01": `"tab\tnl\n\u0001"`,
		"ünï ✓":         `"ünï ✓"`,
	}
	for in, want := range cases {
		if got := tomlString(in); got != want {
			t.Errorf("tomlString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMarkdownText(t *testing.T) {
	cases := map[string]string{
		"plain words, fine.":    "plain words, fine.",
		"# not a heading":       `\# not a heading`,
		"1. not a list":         `1\. not a list`,
		"<b>*x*</b> [l](u) `c`": "\\<b\\>\\*x\\*\\</b\\> \\[l\\]\\(u\\) \\`c\\`",
		"a\n- b":                "a\n\\- b",
		"version 1.2":           "version 1.2",
	}
	for in, want := range cases {
		if got := markdownText(in); got != want {
			t.Errorf("markdownText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine(" a\n\tb  c \n"); got != "a b c" {
		t.Fatalf("oneLine = %q", got)
	}
}
