package generator

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const accountsRule = "accounts need a database; choose --database postgres or sqlite, or --auth none"

func TestRefusedChoicesWaitForEveryAnswerARuleReads(t *testing.T) {
	b := fixtureBlueprint(t)
	database, _ := b.Question("database")
	auth, _ := b.Question("auth")
	cases := []struct {
		name  string
		q     Question
		sofar Answers
		want  []string
	}{
		{"auth not answered yet", database, Answers{"name": "x"}, nil},
		{"auth session", database, Answers{"auth": "session"}, []string{"none"}},
		{"auth none", database, Answers{"auth": "none"}, nil},
		{"database none", auth, Answers{"database": "none"}, []string{"session"}},
		{"database sqlite", auth, Answers{"database": "sqlite"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refused, err := b.RefusedChoices(c.q, c.sofar)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range refused {
				got = append(got, r.Value)
				if r.Rule.Message != accountsRule {
					t.Errorf("%s refused with %q", r.Value, r.Rule.Message)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("refused %v, want %v", got, c.want)
			}
		})
	}
}

func TestResolveOffersOnlyWhatTheRulesAllow(t *testing.T) {
	b := fixtureBlueprint(t)
	prompter := &scriptedPrompter{answers: map[string]string{"database": "none"}}
	res, err := b.Resolve(Sources{Flags: map[string]string{"name": "x"}, Prompter: prompter})
	if err != nil {
		t.Fatal(err)
	}
	if got := prompter.offered["auth"]; !slices.Equal(got, []string{"none"}) {
		t.Errorf("auth offered %v after database none, want only none", got)
	}
	// The manifest's default, session, is refused: the first allowed
	// choice is preselected instead.
	if got := prompter.defaults["auth"]; got != "none" {
		t.Errorf("auth preselected %q, want none", got)
	}
	if r := prompter.refused["auth"]; len(r) != 1 || r[0].Value != "session" || r[0].Rule.Message != accountsRule {
		t.Errorf("auth refused %+v, want session with the rule's message", r)
	}
	if got := prompter.offered["database"]; !slices.Equal(got, []string{"postgres", "sqlite", "none"}) {
		t.Errorf("database offered %v; nothing can be refused before auth is answered", got)
	}
	if res.Answers["auth"] != "none" {
		t.Fatalf("answers %v", res.Answers)
	}
}

// A combination given by flags that a rule forbids is refused as soon as
// it is complete, before the questions after it are asked.
func TestResolveRefusesAForbiddenCombinationOnceComplete(t *testing.T) {
	manifest := strings.Replace(fixtureManifest, "\nrules:", `
  - name: later
    prompt: Later
    kind: choice
    default: a
    choices: [{value: a}, {value: b}]
rules:`, 1)
	b, err := ParseBlueprint([]byte(manifest), fixtureTemplates())
	if err != nil {
		t.Fatal(err)
	}
	prompter := &scriptedPrompter{}
	_, err = b.Resolve(Sources{Flags: map[string]string{"name": "x", "database": "none", "auth": "session"}, Prompter: prompter})
	if !errors.As(err, new(*ForbiddenError)) || !errors.As(err, new(*InputError)) {
		t.Fatalf("error = %v, want a ForbiddenError inside an InputError", err)
	}
	if slices.Contains(prompter.asked, "later") {
		t.Fatalf("asked %v: the question after the forbidden combination was still asked", prompter.asked)
	}
}

func TestResolveRunsTheCallersCheckOnEverySource(t *testing.T) {
	b := fixtureBlueprint(t)
	taken := errors.New("the directory taken is not empty")
	check := func(q Question, v string) error {
		if q.Name == "name" && v == "taken" {
			return taken
		}
		return nil
	}
	for source, src := range map[string]Sources{
		"flag":   {Flags: map[string]string{"name": "taken"}, UseDefaults: true},
		"file":   {File: map[string]string{"name": "taken"}, UseDefaults: true},
		"prompt": {Prompter: &scriptedPrompter{answers: map[string]string{"name": "taken"}}},
	} {
		t.Run(source, func(t *testing.T) {
			src.Check = check
			_, err := b.Resolve(src)
			if !errors.Is(err, taken) || !errors.As(err, new(*InputError)) {
				t.Fatalf("error = %v, want the check's error as an InputError", err)
			}
		})
	}
	ok := Sources{Flags: map[string]string{"name": "free"}, UseDefaults: true, Check: check}
	if _, err := b.Resolve(ok); err != nil {
		t.Fatal(err)
	}
}
