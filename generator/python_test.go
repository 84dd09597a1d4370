package generator

import (
	"strings"
	"testing"
	"testing/fstest"
)

const testCatalog = `{"python": "3.11", "packages": {
 "app-lib": [{"version": "1.0", "requires": ["helper"], "hashes": ["sha256:aa"]}],
 "helper": [
  {"version": "2.0", "marker": "python_version < '3.12'", "requires": [], "hashes": ["sha256:bb"]},
  {"version": "3.0", "marker": "python_version >= '3.12'", "requires": [], "hashes": ["sha256:cc"]}],
 "extra-lib": [{"version": "0.1", "requires": [], "hashes": ["sha256:dd", "sha256:ee"]}]
}, "resolutions": [
 {"requirements": ["App_Lib==1.0"]},
 {"requirements": ["App_Lib==1.0", "extra-lib[fast]==0.1"],
  "markers": {"helper==2.0": "python_version < '3.12' and os_name != 'nt'"}}
]}`

func testSpec(t *testing.T, catalog string, deps ...Requirement) (*PythonSpec, error) {
	t.Helper()
	spec := &PythonSpec{Lock: "lock.json", Dependencies: deps}
	return spec, spec.load(fstest.MapFS{"lock.json": {Data: []byte(catalog)}}, nil)
}

func TestLockFileHoldsTheClosureWithHashesAndMarkers(t *testing.T) {
	spec, err := testSpec(t, testCatalog,
		Requirement{Requirement: "App_Lib==1.0"},
		Requirement{Requirement: "extra-lib[fast]==0.1", When: `eq .db "yes"`},
	)
	if err != nil {
		t.Fatal(err)
	}
	data, err := spec.data(Answers{"db": "no"})
	if err != nil {
		t.Fatal(err)
	}
	want := "app-lib==1.0 \\\n    --hash=sha256:aa\n" +
		"helper==2.0 ; python_version < '3.12' \\\n    --hash=sha256:bb\n" +
		"helper==3.0 ; python_version >= '3.12' \\\n    --hash=sha256:cc\n"
	if got := data["lock"]; got != want {
		t.Errorf("lock:\n%s\nwant:\n%s", got, want)
	}
	data, err = spec.data(Answers{"db": "yes"})
	if err != nil {
		t.Fatal(err)
	}
	if got := data["lock"].(string); !strings.Contains(got, "extra-lib==0.1 \\\n    --hash=sha256:dd \\\n    --hash=sha256:ee\n") {
		t.Errorf("selected requirement missing from the lock:\n%s", got)
	}
	// uv writes another marker when it resolves this set alone: so does the lock.
	if got := data["lock"].(string); !strings.Contains(got, "helper==2.0 ; python_version < '3.12' and os_name != 'nt' \\\n") ||
		!strings.Contains(got, "helper==3.0 ; python_version >= '3.12' \\\n") {
		t.Errorf("the resolution's marker is not applied to its version only:\n%s", got)
	}
	if got := data["dependencies"].([]string); len(got) != 2 || got[1] != "extra-lib[fast]==0.1" {
		t.Errorf("dependencies %v", got)
	}
}

func TestLockCatalogMistakesAreCaughtAtLoad(t *testing.T) {
	cases := map[string]struct {
		catalog string
		req     string
		want    string
	}{
		"not a pin":        {testCatalog, "app-lib>=1.0", "not an exact pin"},
		"not in catalog":   {testCatalog, "other==1.0", "not in the lock catalog"},
		"version mismatch": {testCatalog, "app-lib==1.1", "pinned to 1.1"},
		"dangling edge":    {`{"packages": {"a": [{"version": "1", "requires": ["b"], "hashes": ["sha256:x"]}]}}`, "a==1", "requires b"},
		"no hashes":        {`{"packages": {"a": [{"version": "1", "requires": [], "hashes": []}]}}`, "a==1", "no hashes"},
		"bad json":         {`{`, "a==1", "lock catalog"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := testSpec(t, c.catalog, Requirement{Requirement: c.req})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestARequirementSetTheCatalogNeverResolvedIsRefused(t *testing.T) {
	spec, err := testSpec(t, testCatalog,
		Requirement{Requirement: "App_Lib==1.0"},
		Requirement{Requirement: "extra-lib[fast]==0.1", When: `eq .db "yes"`},
	)
	if err != nil {
		t.Fatal(err)
	}
	spec.catalog.Resolutions = spec.catalog.Resolutions[:1]
	_, err = spec.data(Answers{"db": "yes"})
	if err == nil || !strings.Contains(err.Error(), "no resolution of App_Lib==1.0 extra-lib[fast]==0.1; run scripts/lock-python.sh") {
		t.Fatalf("got %v, want the missing resolution named", err)
	}
	if err := spec.checkLocks(Answers{"db": "yes"}); err == nil {
		t.Fatal("checkLocks accepted a combination whose lock cannot be cut")
	}
}
