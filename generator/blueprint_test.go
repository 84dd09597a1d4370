package generator

import (
	"strings"
	"testing"
)

func TestParseBlueprintRejectsBadManifests(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"bad version":                    {"version: v1.2.3", "version: 1.2", "not a semantic version"},
		"bad min version":                {"min_rampart_version: v0.1.0", "min_rampart_version: latest", "min_rampart_version"},
		"unknown field":                  {"summary: test blueprint", "summary: x\nsumary: typo", "sumary"},
		"unknown validator":              {"validate: [dns-label]", "validate: [dns_label]", "unknown validator"},
		"default not choice":             {"default: postgres", "default: mysql", "default \"mysql\" is not one of"},
		"repeated choice":                {"{value: sqlite}, {value: none}", "{value: sqlite}, {value: sqlite}", "empty or repeated"},
		"unknown template":               {"src: extra/only.txt", "src: extra/missing.txt", "extra/missing.txt"},
		"condition typo":                 {`when: eq .database "sqlite"`, `when: eq .databse "sqlite"`, "databse"},
		"condition value":                {`when: eq .database "sqlite"`, `when: eq .database "sqllite"`, `"sqllite", which is not one of its choices (postgres, sqlite, none)`},
		"rule typo":                      {`(eq .auth "session")`, `(eq .auht "session")`, ".auht, which is not a question"},
		"condition syntax":               {`when: eq .database "sqlite"`, `when: eq .database "sqlite`, "condition"},
		"rule without text":              {"message: accounts need", "message: ''\n    x: accounts need", "x"},
		"unknown path var":               {"__package__: package", "__package__: pkg", "unknown question"},
		"bad kind":                       {"kind: choice\n    default: session", "kind: radio\n    default: session", "kind \"radio\""},
		"validator shadows a built-in":   {"validators:\n  python-package:", "validators:\n  dns-label:", `validator "dns-label" is built in`},
		"validator rule without message": {"      message: is a Python keyword\n", "", `validator "python-package": rule 2 needs a message`},
		"validator rule with both":       {"    - not_in: [class, def]", "    - pattern: x\n      not_in: [class, def]", "rule 2 needs a message and exactly one of pattern and not_in"},
		"regenerated without remake":     {"remake: run make lock", "remake: ''", `regenerated "*.lock": remake must say`},
		"regenerated local file":         {`path: "*.lock"`, "path: .env", `regenerated ".env" is a local file`},
		"regenerated bad pattern":        {`path: "*.lock"`, `path: "[.lock"`, `regenerated: bad file pattern "[.lock"`},
		"validator bad pattern":          {"'^[^A-Z]*$'", "'^[^A-Z*$'", `validator "python-package": rule 4: error parsing regexp`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(fixtureManifest, c.from) {
				t.Fatalf("fixture does not contain %q", c.from)
			}
			manifest := strings.Replace(fixtureManifest, c.from, c.to, 1)
			_, err := ParseBlueprint([]byte(manifest), fixtureTemplates())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestForEachCombinationCoversEveryChoice(t *testing.T) {
	b := fixtureBlueprint(t)
	seen := map[string]bool{}
	n := 0
	_ = b.ForEachCombination(func(a Answers) error {
		n++
		seen[a["database"]+"/"+a["auth"]] = true
		return nil
	})
	if n != 6 || len(seen) != 6 {
		t.Fatalf("got %d combinations (%d distinct), want 6", n, len(seen))
	}
}
