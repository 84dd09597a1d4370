package generator

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
)

// PythonSpec is a blueprint's Python requirements: exact pins, each with an
// optional condition, resolved against a lock catalog that holds every
// transitive dependency with its hashes.
type PythonSpec struct {
	Lock            string        `yaml:"lock"`
	Dependencies    []Requirement `yaml:"dependencies"`
	DevDependencies []Requirement `yaml:"dev_dependencies"`

	catalog *LockCatalog
	// conditionData gives requirement conditions the blueprint's view of
	// the answers (choice attributes included); the answers alone without a blueprint.
	conditionData func(Answers) map[string]any
}

// Requirement is one direct dependency, such as "psycopg[binary]==3.3.9".
type Requirement struct {
	Requirement string `yaml:"requirement"`
	When        string `yaml:"when"`
}

// LockCatalog is the resolved set every project's lock is cut from
// (scripts/lock-python.sh writes it).
type LockCatalog struct {
	Python   string                     `json:"python"`
	Packages map[string][]LockedPackage `json:"packages"`
	// Resolutions holds, for every requirement set a combination can have,
	// the environment markers uv writes when it resolves that set alone
	// where they differ from Packages' (a package needed unconditionally by
	// one requirement and only on some platforms by another gets a marker
	// only when the first is absent). With them a project's locks are byte
	// for byte what `make lock` writes, so it changes nothing.
	Resolutions []LockResolution `json:"resolutions"`
}

// LockResolution is one requirement set's markers, where they differ, keyed by
// name==version (a package can be pinned twice, for different Pythons).
type LockResolution struct {
	Requirements []string          `json:"requirements"`
	Markers      map[string]string `json:"markers,omitempty"`
}

// LockedPackage is one pinned distribution with the packages it requires.
type LockedPackage struct {
	Version  string   `json:"version"`
	Marker   string   `json:"marker,omitempty"`
	Requires []string `json:"requires"`
	Hashes   []string `json:"hashes"`
}

var pinPattern = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[a-z0-9,_-]+\])?==([A-Za-z0-9.+!-]+)$`)

var nameSeparators = regexp.MustCompile(`[-_.]+`)

// normalizeName applies PEP 503 normalization.
func normalizeName(name string) string {
	return strings.ToLower(nameSeparators.ReplaceAllString(name, "-"))
}

func parsePin(req string) (name, version string, err error) {
	m := pinPattern.FindStringSubmatch(req)
	if m == nil {
		return "", "", fmt.Errorf("requirement %q is not an exact pin like name==1.2.3 or name[extra]==1.2.3", req)
	}
	return normalizeName(m[1]), m[3], nil
}

func (p *PythonSpec) key() string { return "python" }

func (p *PythonSpec) conditions() map[string]string {
	out := map[string]string{}
	for _, r := range slices.Concat(p.Dependencies, p.DevDependencies) {
		if r.When != "" {
			out[r.Requirement] = r.When
		}
	}
	return out
}

func (p *PythonSpec) check(answers Answers, generated bool) error {
	if generated {
		return p.checkLocks(answers)
	}
	_, _, err := p.selected(answers)
	return err
}

func (p *PythonSpec) load(templates fs.FS, conditionData func(Answers) map[string]any) error {
	p.conditionData = conditionData
	if p.Lock == "" {
		return fmt.Errorf("python: lock names no catalog")
	}
	raw, err := fs.ReadFile(templates, p.Lock)
	if err != nil {
		return fmt.Errorf("python: reading lock catalog: %w", err)
	}
	var catalog LockCatalog
	if err := json.Unmarshal(raw, &catalog); err != nil {
		return fmt.Errorf("python: lock catalog %s: %w", p.Lock, err)
	}
	for name, variants := range catalog.Packages {
		if len(variants) == 0 {
			return fmt.Errorf("python: lock catalog: %s has no entry", name)
		}
		for _, pkg := range variants {
			if len(pkg.Hashes) == 0 {
				return fmt.Errorf("python: lock catalog: %s %s has no hashes", name, pkg.Version)
			}
			for _, dep := range pkg.Requires {
				if _, ok := catalog.Packages[dep]; !ok {
					return fmt.Errorf("python: lock catalog: %s requires %s, which is not in the catalog", name, dep)
				}
			}
		}
	}
	for _, r := range slices.Concat(p.Dependencies, p.DevDependencies) {
		name, version, err := parsePin(r.Requirement)
		if err != nil {
			return fmt.Errorf("python: %w", err)
		}
		variants, ok := catalog.Packages[name]
		if !ok {
			return fmt.Errorf("python: %s is not in the lock catalog; run scripts/lock-python.sh", name)
		}
		if len(variants) != 1 || variants[0].Version != version {
			return fmt.Errorf("python: %s is pinned to %s but the lock catalog has %v; run scripts/lock-python.sh", name, version, variants)
		}
		if r.When == "" {
			continue
		}
		if _, err := parseCondition(r.When); err != nil {
			return fmt.Errorf("python: %s: %w", r.Requirement, err)
		}
	}
	p.catalog = &catalog
	return nil
}

// data is what templates see as .python: the selected requirements
// (.python.dependencies, .python.dev_dependencies) and the requirements
// files that lock them with hashes (.python.lock, .python.dev_lock).
func (p *PythonSpec) data(answers Answers) (map[string]any, error) {
	deps, dev, err := p.selected(answers)
	if err != nil {
		return nil, err
	}
	lock, err := p.catalog.lockFile(deps)
	if err != nil {
		return nil, err
	}
	devLock, err := p.catalog.lockFile(slices.Concat(deps, dev))
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"dependencies":     deps,
		"dev_dependencies": dev,
		"lock":             lock,
		"dev_lock":         devLock,
	}, nil
}

// LockInputs returns the requirement sets the two locks of a project with
// these answers resolve: the runtime requirements, then those plus the
// development ones. scripts/lock-python.sh resolves each set a combination
// can have (go run ./tools/pyreqs).
func (p *PythonSpec) LockInputs(answers Answers) (runtime, development []string, err error) {
	deps, dev, err := p.selected(answers)
	if err != nil {
		return nil, nil, err
	}
	return deps, slices.Concat(deps, dev), nil
}

// checkLocks reports a combination whose requirement sets the catalog has
// not resolved (the manifest changed without scripts/lock-python.sh).
func (p *PythonSpec) checkLocks(answers Answers) error {
	runtime, development, err := p.LockInputs(answers)
	if err != nil {
		return err
	}
	for _, reqs := range [][]string{runtime, development} {
		if _, err := p.catalog.resolution(reqs); err != nil {
			return err
		}
	}
	return nil
}

// resolution finds the catalog's resolution of exactly reqs.
func (c *LockCatalog) resolution(reqs []string) (LockResolution, error) {
	sorted := slices.Sorted(slices.Values(reqs))
	for _, r := range c.Resolutions {
		if slices.Equal(r.Requirements, sorted) {
			return r, nil
		}
	}
	return LockResolution{}, fmt.Errorf("the lock catalog has no resolution of %s; run scripts/lock-python.sh", strings.Join(sorted, " "))
}

// selected returns the requirements whose conditions hold for answers.
func (p *PythonSpec) selected(answers Answers) (deps, dev []string, err error) {
	pick := func(reqs []Requirement) ([]string, error) {
		var out []string
		for _, r := range reqs {
			ok, err := evalCondition(r.When, p.answerData(answers))
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, r.Requirement)
			}
		}
		return out, nil
	}
	if deps, err = pick(p.Dependencies); err != nil {
		return nil, nil, err
	}
	if dev, err = pick(p.DevDependencies); err != nil {
		return nil, nil, err
	}
	return deps, dev, nil
}

// lockFile renders the requirements file that pins reqs and everything they
// need, with hashes, for pip install --require-hashes.
func (c *LockCatalog) lockFile(reqs []string) (string, error) {
	resolved, err := c.resolution(reqs)
	if err != nil {
		return "", err
	}
	needed := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if needed[name] {
			return
		}
		needed[name] = true
		for _, pkg := range c.Packages[name] {
			for _, dep := range pkg.Requires {
				visit(dep)
			}
		}
	}
	for _, r := range reqs {
		name, _, _ := parsePin(r) // validated at load
		visit(name)
	}
	names := make([]string, 0, len(needed))
	for name := range needed {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		for _, pkg := range c.Packages[name] {
			b.WriteString(name + "==" + pkg.Version)
			marker, differs := resolved.Markers[name+"=="+pkg.Version]
			if !differs {
				marker = pkg.Marker
			}
			if marker != "" {
				b.WriteString(" ; " + marker)
			}
			for _, h := range pkg.Hashes {
				b.WriteString(" \\\n    --hash=" + h)
			}
			b.WriteString("\n")
		}
	}
	return b.String(), nil
}

func (p *PythonSpec) answerData(answers Answers) map[string]any {
	if p.conditionData == nil {
		return answers.templateData()
	}
	return p.conditionData(answers)
}
