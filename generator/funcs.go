package generator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// Template delimiters. They cannot collide with what generated files hold:
// Jinja2 {{ }} and {% %}, GitHub Actions ${{ }}, TOML and shell [[ ]], and
// Python %-formatting inside brackets ("[%(name)s]" in logging configs).
const (
	LeftDelim  = "<%"
	RightDelim = "%>"
)

// TemplateSuffix marks a template file; other files are copied byte for byte.
const TemplateSuffix = ".tmpl"

// templateFuncs returns sprig's hermetic functions plus rampart's escapers.
// Only local (untracked) files may call secret: tracked output must be
// deterministic and secret-free.
func templateFuncs(local bool) template.FuncMap {
	funcs := sprig.HermeticTxtFuncMap()
	funcs["toml"] = tomlString
	funcs["yaml"] = jsonString // a JSON string is a valid YAML double-quoted scalar
	funcs["py"] = jsonString   // and a valid Python string literal
	funcs["json"] = jsonString
	funcs["markdown"] = markdownText
	funcs["oneline"] = oneLine
	funcs["secret"] = func(nbytes int) (string, error) {
		if !local {
			return "", fmt.Errorf("secret is only allowed in local (untracked) files")
		}
		buf := make([]byte, nbytes)
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		return hex.EncodeToString(buf), nil
	}
	return funcs
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsonString quotes s as a JSON string without HTML escaping. The result is
// also a valid YAML double-quoted scalar and a valid Python str literal.
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a Go string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// markdownText escapes s so that Markdown renders it literally: every
// punctuation character that can start or end markup is backslash-escaped
// (CommonMark allows a backslash before any ASCII punctuation), and a digit
// run followed by '.' or ')' cannot start a list.
func markdownText(s string) string {
	var b strings.Builder
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		digits := 0
		for j, r := range line {
			atListMarker := digits == j && (r == '.' || r == ')') && j > 0
			if r >= '0' && r <= '9' && digits == j {
				digits++
			}
			if strings.ContainsRune("\\`*_{}[]<>()#+-!|~&=", r) || atListMarker {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// oneLine joins the lines of s with single spaces, for fields that must be
// one line (a package summary, for example).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
