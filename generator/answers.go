package generator

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Answers maps question names to answers. Every answer is a string.
type Answers map[string]string

func (a Answers) clone() Answers { return maps.Clone(a) }

// describe names the choices of a combination, for messages: "with
// database=sqlite, cache=none, ..." in question order.
func (b *Blueprint) describe(a Answers) string {
	var parts []string
	for _, q := range b.Questions {
		if q.Kind == KindChoice {
			parts = append(parts, q.Name+"="+a[q.Name])
		}
	}
	return "with " + strings.Join(parts, ", ")
}

func (a Answers) templateData() map[string]any {
	data := make(map[string]any, len(a))
	for k, v := range a {
		data[k] = v
	}
	return data
}

// Prompter asks the user a question. Implementations return ErrInterrupted
// when the user cancels.
type Prompter interface {
	Select(q Question, def string) (string, error)
	Input(q Question, def string, validate func(string) error) (string, error)
}

// Sources are the places answers come from, highest precedence first:
// flags, then an answers file, then the prompter, then defaults.
type Sources struct {
	Flags map[string]string
	File  map[string]string
	// UseDefaults takes the default for every question not answered by
	// flags or the file, and never prompts.
	UseDefaults bool
	// Prompter is nil when prompting is impossible (no terminal).
	Prompter Prompter
}

// Resolution is the outcome of resolving answers.
type Resolution struct {
	Answers Answers
	// Prompted names the questions answered interactively.
	Prompted []string
}

// Resolve collects and validates an answer for every question, then checks
// the blueprint's rules. Errors about the input are *InputError.
func (b *Blueprint) Resolve(src Sources) (*Resolution, error) {
	if err := b.checkKnownKeys(src.File, "the answers file"); err != nil {
		return nil, err
	}
	if err := b.checkKnownKeys(src.Flags, "flags"); err != nil {
		return nil, err
	}
	res := &Resolution{Answers: Answers{}}
	var missing []Question
	for _, q := range b.Questions {
		value, err := b.answer(q, src, res)
		if errors.Is(err, errNoAnswer) {
			missing = append(missing, q)
			continue
		}
		if err != nil {
			return nil, err
		}
		res.Answers[q.Name] = value
	}
	if len(missing) > 0 {
		return nil, &InputError{Err: &MissingAnswersError{Questions: missing}}
	}
	if err := b.CheckRules(res.Answers); err != nil {
		return nil, err
	}
	return res, nil
}

// CheckRules returns an *InputError wrapping *ForbiddenError when the
// answers break a rule of the blueprint.
func (b *Blueprint) CheckRules(answers Answers) error {
	rule, err := b.forbidden(answers)
	if err != nil {
		return err
	}
	if rule != nil {
		return &InputError{Err: &ForbiddenError{Rule: *rule}}
	}
	return nil
}

var errNoAnswer = errors.New("no answer")

func (b *Blueprint) answer(q Question, src Sources, res *Resolution) (string, error) {
	if v, ok := src.Flags[q.Name]; ok {
		if err := validateAnswer(q, v); err != nil {
			return "", &InputError{Err: err}
		}
		return v, nil
	}
	if v, ok := src.File[q.Name]; ok {
		if err := validateAnswer(q, v); err != nil {
			return "", inputErrorf("answers file: %w", err)
		}
		return v, nil
	}
	if src.Prompter == nil && !src.UseDefaults {
		return "", errNoAnswer
	}
	def, err := b.defaultFor(q, res.Answers)
	if err != nil {
		// A default derived from an answer that is itself missing: that
		// answer is reported as missing, and this one with it.
		return "", errNoAnswer
	}
	if src.Prompter != nil && !src.UseDefaults {
		var v string
		if q.Kind == KindChoice {
			v, err = src.Prompter.Select(q, def)
		} else {
			v, err = src.Prompter.Input(q, def, func(s string) error { return validateAnswer(q, s) })
		}
		if err != nil {
			return "", err
		}
		if err := validateAnswer(q, v); err != nil {
			return "", &InputError{Err: err}
		}
		res.Prompted = append(res.Prompted, q.Name)
		return v, nil
	}
	if src.UseDefaults && (def != "" || q.Kind == KindText && !q.Positional) {
		if err := validateAnswer(q, def); err != nil {
			return "", inputErrorf("the default %w; pass a value explicitly", err)
		}
		return def, nil
	}
	return "", errNoAnswer
}

// defaultFor renders a question's default, which may refer to earlier
// answers (for example a package name derived from the project name).
func (b *Blueprint) defaultFor(q Question, sofar Answers) (string, error) {
	if !strings.Contains(q.Default, LeftDelim) {
		return q.Default, nil
	}
	t, err := expressions().parse(q.Default, q.Default)
	if err != nil {
		return "", fmt.Errorf("default of %s: %w", q.Name, err)
	}
	var out strings.Builder
	if err := t.Execute(&out, sofar.templateData()); err != nil {
		return "", fmt.Errorf("default of %s: %w", q.Name, err)
	}
	return out.String(), nil
}

func (b *Blueprint) checkKnownKeys(given map[string]string, where string) error {
	var unknown []string
	for k := range given {
		if _, ok := b.Question(k); !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	known := make([]string, len(b.Questions))
	for i, q := range b.Questions {
		known[i] = q.Name
	}
	return inputErrorf("unknown answer key %s in %s; known keys: %s",
		strings.Join(quoteAll(unknown), ", "), where, strings.Join(known, ", "))
}

func quoteAll(ss []string) []string {
	out := slices.Clone(ss)
	for i, s := range out {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// CheckAnswer validates one answer to the named question.
func (b *Blueprint) CheckAnswer(question, value string) error {
	q, ok := b.Question(question)
	if !ok {
		return b.checkKnownKeys(map[string]string{question: value}, "answers")
	}
	if err := validateAnswer(q, value); err != nil {
		return &InputError{Err: err}
	}
	return nil
}
