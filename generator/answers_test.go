package generator

import (
	"errors"
	"strings"
	"testing"
)

type scriptedPrompter struct {
	answers map[string]string
	asked   []string
	err     error
	// offered and refused record what each Select showed.
	offered  map[string][]string
	defaults map[string]string
	refused  map[string][]RefusedChoice
}

func (p *scriptedPrompter) Select(q Question, def string, refused []RefusedChoice) (string, error) {
	if p.offered == nil {
		p.offered, p.defaults, p.refused = map[string][]string{}, map[string]string{}, map[string][]RefusedChoice{}
	}
	p.offered[q.Name], p.defaults[q.Name], p.refused[q.Name] = q.ChoiceValues(), def, refused
	return p.answer(q, def)
}

func (p *scriptedPrompter) Input(q Question, def string, validate func(string) error) (string, error) {
	v, err := p.answer(q, def)
	if err == nil {
		err = validate(v)
	}
	return v, err
}

func (p *scriptedPrompter) answer(q Question, def string) (string, error) {
	p.asked = append(p.asked, q.Name)
	if p.err != nil {
		return "", p.err
	}
	if v, ok := p.answers[q.Name]; ok {
		return v, nil
	}
	return def, nil
}

func TestResolvePrecedence(t *testing.T) {
	b := fixtureBlueprint(t)
	prompter := &scriptedPrompter{answers: map[string]string{"database": "none", "auth": "none", "notes": "prompted"}}
	res, err := b.Resolve(Sources{
		Flags:    map[string]string{"name": "my-app", "database": "sqlite"},
		File:     map[string]string{"database": "postgres", "notes": "from file"},
		Prompter: prompter,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Answers{"name": "my-app", "package": "my_app", "notes": "from file", "database": "sqlite", "auth": "none"}
	for k, v := range want {
		if res.Answers[k] != v {
			t.Errorf("%s = %q, want %q", k, res.Answers[k], v)
		}
	}
	if got := strings.Join(prompter.asked, ","); got != "package,auth" {
		t.Errorf("prompted for %s, want package,auth (flags and file answer the rest)", got)
	}
	if got := strings.Join(res.Prompted, ","); got != "package,auth" {
		t.Errorf("Prompted = %s", got)
	}
}

func TestResolveDefaultsNeverPrompt(t *testing.T) {
	b := fixtureBlueprint(t)
	prompter := &scriptedPrompter{err: errors.New("must not prompt")}
	res, err := b.Resolve(Sources{Flags: map[string]string{"name": "svc"}, UseDefaults: true, Prompter: prompter})
	if err != nil {
		t.Fatal(err)
	}
	if res.Answers["database"] != "postgres" || res.Answers["package"] != "svc" || len(prompter.asked) != 0 {
		t.Fatalf("answers %v, asked %v", res.Answers, prompter.asked)
	}
}

func TestResolveWithoutPrompterNamesEveryMissingAnswer(t *testing.T) {
	b := fixtureBlueprint(t)
	_, err := b.Resolve(Sources{Flags: map[string]string{"database": "sqlite"}})
	var missing *MissingAnswersError
	if !errors.As(err, &missing) || !errors.As(err, new(*InputError)) {
		t.Fatalf("error = %v, want a MissingAnswersError inside an InputError", err)
	}
	var names []string
	for _, q := range missing.Questions {
		names = append(names, q.Name)
	}
	if got := strings.Join(names, ","); got != "name,package,notes,auth" {
		t.Fatalf("missing = %s", got)
	}
}

func TestResolveRejectsBadInput(t *testing.T) {
	b := fixtureBlueprint(t)
	cases := map[string]struct {
		flags, file map[string]string
		want        string
	}{
		"unknown choice":      {flags: map[string]string{"database": "oracle"}, want: `"oracle" is not a choice for database; allowed: postgres, sqlite, none`},
		"unknown flag key":    {flags: map[string]string{"databse": "x"}, want: `unknown answer key "databse" in flags; known keys: name, package, notes, database, auth`},
		"unknown file key":    {file: map[string]string{"colour": "x"}, want: `unknown answer key "colour" in the answers file`},
		"bad choice in file":  {file: map[string]string{"auth": "oidc"}, want: `answers file: "oidc" is not a choice for auth`},
		"forbidden combo":     {flags: map[string]string{"database": "none"}, want: "accounts need a database; choose --database postgres or sqlite, or --auth none"},
		"bad name":            {flags: map[string]string{"name": "My_App"}, want: "lowercase letters, digits and hyphens"},
		"path name":           {flags: map[string]string{"name": "../evil"}, want: "not a path"},
		"long name":           {flags: map[string]string{"name": strings.Repeat("a", 64)}, want: "at most 63"},
		"keyword package":     {flags: map[string]string{"package": "class"}, want: "Python keyword"},
		"stdlib package":      {flags: map[string]string{"package": "json"}, want: "standard library"},
		"dependency package":  {flags: map[string]string{"package": "flask"}, want: "reserved"},
		"not an identifier":   {flags: map[string]string{"package": "9lives"}, want: "not a Python identifier"},
		"derived bad package": {flags: map[string]string{"name": "test"}, want: "the default package"},
		"too long text":       {flags: map[string]string{"notes": strings.Repeat("é", 21)}, want: "at most 20"},
		"control character":   {flags: map[string]string{"notes": "a\x00b"}, want: "control character"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			flags := map[string]string{"name": "ok"}
			for k, v := range c.flags {
				flags[k] = v
			}
			_, err := b.Resolve(Sources{Flags: flags, File: c.file, UseDefaults: true})
			if !errors.As(err, new(*InputError)) {
				t.Fatalf("error = %v, want an InputError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestResolveForbiddenIsTyped(t *testing.T) {
	b := fixtureBlueprint(t)
	_, err := b.Resolve(Sources{Flags: map[string]string{"name": "x", "database": "none"}, UseDefaults: true})
	var forbidden *ForbiddenError
	if !errors.As(err, &forbidden) {
		t.Fatalf("error = %v, want ForbiddenError", err)
	}
	// The same combination with --auth none is allowed.
	if _, err := b.Resolve(Sources{Flags: map[string]string{"name": "x", "database": "none", "auth": "none"}, UseDefaults: true}); err != nil {
		t.Fatal(err)
	}
}

func TestResolvePassesInterruptThrough(t *testing.T) {
	b := fixtureBlueprint(t)
	_, err := b.Resolve(Sources{Prompter: &scriptedPrompter{err: ErrInterrupted}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error = %v, want ErrInterrupted", err)
	}
}
