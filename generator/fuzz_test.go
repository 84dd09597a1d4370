package generator_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/generator"
)

// FuzzNamesAndFreeText: any name, package and description either gives a
// clear input error or a project whose YAML and TOML files parse and keep
// no template markers.
func FuzzNamesAndFreeText(f *testing.F) {
	for _, seed := range [][3]string{
		{"demo", "", "plain"},
		{"my-app", "my_app", `quote " backslash \ {{ jinja }} ${{ gha }} [[ toml ]]`},
		{"x", "", "# heading\n: colon\n- dash\n'single'"},
		{"a-b-c", "abc", "ünïcødé ✓ 😀\ttab"},
		{"Bad_Name", "", "x"},
		{"../escape", "", "x"},
		{"ok", "class", "x"},
		{"ok", "", "nul\x00byte"},
		{"ok", "", "line\u2028separator"},
		{"ok", "", "<% .name %> %> <%"},
		{"ok", "", "[%(name)s] %(levelname)s"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	b := flaskBlueprint(f)
	f.Fuzz(func(t *testing.T, name, pkg, description string) {
		flags := map[string]string{"name": name, "description": description}
		if pkg != "" {
			flags["package"] = pkg
		}
		res, err := b.Resolve(generator.Sources{Flags: flags, UseDefaults: true})
		if err != nil {
			if !errors.As(err, new(*generator.InputError)) || err.Error() == "" {
				t.Fatalf("not a clear input error: %#v", err)
			}
			return
		}
		plan, err := b.Render(res.Answers, testVersion)
		if err != nil {
			t.Fatalf("valid answers %q failed to render: %v", res.Answers, err)
		}
		if strings.Contains(name+pkg+description, generator.LeftDelim) || strings.Contains(name+pkg+description, generator.RightDelim) {
			// The user's own text may hold the delimiters; it is output as written.
			checkFormats(t, plan)
			return
		}
		checkParses(t, plan)
	})
}
