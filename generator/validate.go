package generator

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validators are the built-in checks a manifest question may list under
// validate; a blueprint defines checks of its own language or platform
// under validators: (TextRule).
var validators = map[string]func(string) error{
	"dns-label":   validateDNSLabel,
	"free-text":   validateFreeText,
	"single-line": validateSingleLine,
}

// TextRule is one step of a validator a manifest defines: the answer must
// match Pattern (when set) and be none of NotIn; otherwise the answer,
// quoted, followed by Message is the error. Steps run in order.
type TextRule struct {
	Pattern string   `yaml:"pattern"`
	NotIn   []string `yaml:"not_in"`
	Message string   `yaml:"message"`
}

// compileRules turns a manifest validator into a check.
func compileRules(rules []TextRule) (func(string) error, error) {
	if len(rules) == 0 {
		return nil, fmt.Errorf("has no rules")
	}
	patterns := make([]*regexp.Regexp, len(rules))
	for i, r := range rules {
		if r.Message == "" || (r.Pattern == "") == (len(r.NotIn) == 0) {
			return nil, fmt.Errorf("rule %d needs a message and exactly one of pattern and not_in", i+1)
		}
		if r.Pattern != "" {
			re, err := regexp.Compile(r.Pattern)
			if err != nil {
				return nil, fmt.Errorf("rule %d: %w", i+1, err)
			}
			patterns[i] = re
		}
	}
	return func(s string) error {
		for i, r := range rules {
			if (patterns[i] != nil && !patterns[i].MatchString(s)) || slices.Contains(r.NotIn, s) {
				return fmt.Errorf("%q %s", s, r.Message)
			}
		}
		return nil
	}, nil
}

// resolveValidators gives each question the checks its validate list names:
// built-in ones, or ones the manifest defines under validators:.
func (b *Blueprint) resolveValidators() error {
	defined := map[string]func(string) error{}
	for name, rules := range b.Validators {
		if _, builtin := validators[name]; builtin {
			return fmt.Errorf("validator %q is built in; give the manifest's another name", name)
		}
		check, err := compileRules(rules)
		if err != nil {
			return fmt.Errorf("validator %q: %w", name, err)
		}
		defined[name] = check
	}
	for i := range b.Questions {
		q := &b.Questions[i]
		q.checks = nil
		for _, name := range q.Validate {
			check := validators[name]
			if check == nil {
				check = defined[name]
			}
			if check == nil {
				known := slices.Sorted(maps.Keys(validators))
				known = append(known, slices.Sorted(maps.Keys(defined))...)
				return fmt.Errorf("question %q: unknown validator %q (known: %s)", q.Name, name, strings.Join(known, ", "))
			}
			q.checks = append(q.checks, check)
		}
	}
	return nil
}

var dnsLabel = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)

// validateDNSLabel accepts an RFC 1123 label that starts with a letter: the
// project name becomes Kubernetes resource names and a directory name.
func validateDNSLabel(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case strings.ContainsAny(s, `/\`) || strings.Contains(s, ".."):
		return fmt.Errorf("%q must be a plain name, not a path (use --output to choose the directory)", s)
	case len(s) > 63:
		return fmt.Errorf("%q is %d characters; at most 63 are allowed", s, len(s))
	case !dnsLabel.MatchString(s):
		return fmt.Errorf("%q is not allowed: use lowercase letters, digits and hyphens, start with a letter and end with a letter or digit", s)
	}
	return nil
}

// validateFreeText accepts any valid UTF-8 text without control characters
// other than newline and tab: every file format we write can carry those.
func validateFreeText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff') {
			return fmt.Errorf("contains the control character %U; only newlines and tabs are allowed", r)
		}
	}
	return nil
}

func validateSingleLine(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("must be a single line")
	}
	return nil
}

// validateAnswer checks one answer against its question.
func validateAnswer(q Question, value string) error {
	if q.Kind == KindChoice {
		if !slices.Contains(q.ChoiceValues(), value) {
			return fmt.Errorf("%q is not a choice for %s; allowed: %s", value, q.Name, strings.Join(q.ChoiceValues(), ", "))
		}
		return nil
	}
	if q.MaxLength > 0 && utf8.RuneCountInString(value) > q.MaxLength {
		return fmt.Errorf("%s is %d characters long; at most %d are allowed", q.Name, utf8.RuneCountInString(value), q.MaxLength)
	}
	for _, check := range q.checks {
		if err := check(value); err != nil {
			return fmt.Errorf("%s: %w", q.Name, err)
		}
	}
	if slices.Contains(q.Deny, value) {
		return fmt.Errorf("%s: %q is reserved: it would clash with a module the generated project uses (reserved: %s)", q.Name, value, strings.Join(q.Deny, ", "))
	}
	return nil
}
