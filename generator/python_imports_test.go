package generator_test

import (
	"bufio"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/generator"
)

var (
	importLine = regexp.MustCompile(`^\s*(?:import\s+([A-Za-z_][A-Za-z0-9_]*)|from\s+([A-Za-z_][A-Za-z0-9_]*)[A-Za-z0-9_.]*\s+import\b)`)
	lockLine   = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==`)
)

// importNames are the import names of locked distributions whose import
// name is not their normalized distribution name.
var importNames = map[string][]string{
	"argon2_cffi":          {"argon2"},
	"cyclonedx_python_lib": {"cyclonedx"},
	"pyjwt":                {"jwt"},
	"python_dotenv":        {"dotenv"},
	"pyyaml":               {"yaml"},
}

func stdlibModules(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("../testdata/python/stdlib-modules.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mods := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			mods[line] = true
		}
	}
	return mods
}

// lockedImports is what a lock file lets a project import.
func lockedImports(lock string) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(lock, "\n") {
		m := lockLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		dist := strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToLower(m[1]))
		names[dist] = true
		for _, n := range importNames[dist] {
			names[n] = true
		}
	}
	return names
}

// A choice added with its templates but not its requirement (a cache client
// nobody pinned) must fail here, not in a user's production start-up:
// runtime code may import only the standard library, the project's own
// modules and what requirements.lock pins; tests also what
// requirements-dev.lock pins.
func TestEveryPythonImportIsLockedOrStandard(t *testing.T) {
	stdlib := stdlibModules(t)
	forEachAllowedPlan(t, func(a generator.Answers, files map[string]string) {
		runtime, dev := lockedImports(files["requirements.lock"]), lockedImports(files["requirements-dev.lock"])
		scanner := lockedImports(files["dast/requirements.lock"])
		if len(runtime) == 0 || len(dev) == 0 {
			t.Fatalf("%v: no locked distributions found", a)
		}
		local := map[string]bool{a["package"]: true}
		for p := range files {
			dir, base := path.Split(p)
			if strings.HasSuffix(base, ".py") {
				local[strings.TrimSuffix(base, ".py")] = true
			}
			if base == "__init__.py" {
				local[path.Base(dir)] = true
			}
		}
		for p, text := range files {
			if !strings.HasSuffix(p, ".py") {
				continue
			}
			allowed, where := runtime, "requirements.lock"
			switch {
			case strings.HasPrefix(p, "tests/"), p == "dast/scan.py":
				// make dast runs scan.py with the development environment's Python.
				allowed, where = dev, "requirements-dev.lock"
			case p == "dast/certificate.py":
				// scan.py runs it with the scanner's Python.
				allowed, where = scanner, "dast/requirements.lock"
			}
			for i, line := range strings.Split(text, "\n") {
				m := importLine.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				mod := m[1] + m[2]
				if stdlib[mod] || local[mod] || allowed[mod] {
					continue
				}
				if where == "requirements.lock" && dev[mod] {
					where = "requirements.lock (only requirements-dev.lock pins it)"
				}
				t.Errorf("%s-%s-%s-%s-%s: %s:%d imports %s, which is not in %s", a["database"], a["cache"], a["auth"], a["deploy"], a["ci"], p, i+1, mod, where)
			}
		}
	})
}
