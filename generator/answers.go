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
	// Select asks for one of q's choices. q offers only the choices the
	// rules allow given the answers so far, and def is one of them;
	// refused lists the others with the rule that forbids each, so the
	// user learns why they are missing.
	Select(q Question, def string, refused []RefusedChoice) (string, error)
	// Input asks for free text, asking again while validate refuses it.
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
	// Check, when set, runs on every answer that passed its question's
	// own validation, for what the blueprint cannot know (the CLI checks
	// that the project directory a name leads to is usable). A prompt
	// asks again when it fails; from any other source it is an error.
	Check func(q Question, value string) error
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
		// Refuse a forbidden combination as soon as it is complete, not
		// after every other question has been asked.
		rule, err := b.brokenRule(q.Name, res.Answers)
		if err != nil {
			return nil, err
		}
		if rule != nil {
			return nil, &InputError{Err: &ForbiddenError{Rule: *rule}}
		}
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
		if err := accept(q, v, src.Check); err != nil {
			return "", err
		}
		return v, nil
	}
	if v, ok := src.File[q.Name]; ok {
		if err := accept(q, v, src.Check); err != nil {
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
		v, err := b.ask(q, def, src, res.Answers)
		if err != nil {
			return "", err
		}
		res.Prompted = append(res.Prompted, q.Name)
		return v, nil
	}
	if src.UseDefaults && (def != "" || q.Kind == KindText && !q.Positional) {
		if err := validateAnswer(q, def); err != nil {
			return "", &InputError{Err: &DefaultError{Question: q.Name, Err: err}}
		}
		if err := accept(q, def, src.Check); err != nil {
			return "", err
		}
		return def, nil
	}
	return "", errNoAnswer
}

// ask puts q to the prompter. A choice question offers only what the rules
// allow given the answers so far.
func (b *Blueprint) ask(q Question, def string, src Sources, sofar Answers) (string, error) {
	if q.Kind != KindChoice {
		return src.Prompter.Input(q, def, func(v string) error { return accept(q, v, src.Check) })
	}
	refused, err := b.RefusedChoices(q, sofar)
	if err != nil {
		return "", err
	}
	offered, preselect := withoutRefused(q, def, refused)
	if len(offered.Choices) == 0 {
		return "", &InputError{Err: &ForbiddenError{Rule: refused[0].Rule}}
	}
	v, err := src.Prompter.Select(offered, preselect, refused)
	if err != nil {
		return "", err
	}
	if err := accept(offered, v, src.Check); err != nil {
		return "", err
	}
	return v, nil
}

// accept validates an answer, then runs the caller's check on it.
func accept(q Question, v string, check func(Question, string) error) error {
	if err := validateAnswer(q, v); err != nil {
		return &InputError{Err: err}
	}
	if check == nil {
		return nil
	}
	err := check(q, v)
	if err != nil && !errors.As(err, new(*InputError)) {
		err = &InputError{Err: err}
	}
	return err
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
