package generator

import (
	"sync"
	"text/template"
)

// templateSet parses templates once and keeps them. Every template in a set
// is associated with one root that holds the function map: attaching
// sprig's functions to a template costs about 40 µs, more than parsing most
// files, so it is done once per set, not once per template. Names must
// identify the text (a template path in an embedded tree, or the text
// itself), because a name already parsed is returned without re-parsing.
// Template files must not {{define}} templates of their own: they would
// share one namespace.
type templateSet struct {
	mu   sync.Mutex
	root *template.Template
}

func newTemplateSet(local bool) *templateSet {
	root := template.New("").Delims(LeftDelim, RightDelim).Option("missingkey=error").Funcs(templateFuncs(local))
	return &templateSet{root: root}
}

// parse returns the template called name, parsing text the first time.
func (s *templateSet) parse(name, text string) (*template.Template, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.root.Lookup(name); t != nil {
		return t, nil
	}
	return s.root.New(name).Parse(text)
}

// expressions holds conditions and question defaults, named by their text;
// they never call secret.
var expressions = sync.OnceValue(func() *templateSet { return newTemplateSet(false) })

// fileTemplates holds one blueprint's parsed template files, named by path:
// tracked files in one set, local files (which may call secret) in another.
type fileTemplates struct {
	tracked, local *templateSet
}

func newFileTemplates() *fileTemplates {
	return &fileTemplates{tracked: newTemplateSet(false), local: newTemplateSet(true)}
}

func (f *fileTemplates) parse(src, text string, local bool) (*template.Template, error) {
	if local {
		return f.local.parse(src, text)
	}
	return f.tracked.parse(src, text)
}
