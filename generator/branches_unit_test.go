package generator

import (
	"strings"
	"testing"
	"testing/fstest"
)

const branchManifest = `
name: branches
version: v0.1.0
summary: branch checker fixture
min_rampart_version: v0.1.0
templates: tpl
questions:
  - name: cache
    prompt: Cache
    kind: choice
    default: redis
    choices:
      - {value: redis, attributes: {protocol: redis}}
      - {value: valkey, attributes: {protocol: redis}}
      - {value: memcached, attributes: {protocol: memcached}}
      - {value: none, attributes: {protocol: none}}
  - name: auth
    prompt: Auth
    kind: choice
    default: jwt
    choices: [{value: jwt}, {value: session}, {value: none}]
rules:
  - when: and (eq .auth "session") (eq .cache "none")
    message: sessions need a cache
files:
  - src: base
  - src: cached
    when: ne .cache "none"
`

func branchProblems(t *testing.T, template string) []string {
	t.Helper()
	fsys := fstest.MapFS{
		"tpl/base/a.txt.tmpl":   {Data: []byte(template)},
		"tpl/cached/b.txt.tmpl": {Data: []byte(`<% if eq .choice.cache.protocol "redis" %>r<% else %>m<% end %>`)},
	}
	b, err := ParseBlueprint([]byte(branchManifest), fsys)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := b.CheckBranches()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range problems {
		out = append(out, p.String())
	}
	return out
}

func TestBranchChecker(t *testing.T) {
	for _, c := range []struct {
		name, template string
		want           []string // substrings of the one problem expected; nil: none
	}{
		{"an else serving two values", `<% if eq .cache "redis" %>r<% else %>x<% end %>`,
			[]string{`base/a.txt.tmpl:1:`, `serves cache=valkey,memcached,none`}},
		{"declared exactly", `<% if eq .cache "redis" %>r<% else %><%/* else: cache=valkey,memcached,none */%>x<% end %>`, nil},
		{"declared as any value", `<% if eq .cache "redis" %>r<% else %><%/* else: cache=* */%>x<% end %>`, nil},
		{"a stale marker", `<% if eq .cache "redis" %>r<% else %><%/* else: cache=memcached,none */%>x<% end %>`,
			[]string{`declares cache=memcached,none but serves cache=valkey,memcached,none`}},
		{"a marker for a question the chain does not compare", `<% if eq .cache "redis" %>r<% else if eq .cache "valkey" %>v<% else if eq .cache "memcached" %>m<% else %><%/* else: auth=jwt */%>n<% end %>`,
			[]string{`declares auth, which the chain does not compare`}},
		{"every value its own branch", `<% if eq .cache "redis" %>r<% else if eq .cache "valkey" %>v<% else if eq .cache "memcached" %>m<% else %>n<% end %>`, nil},
		{"an attribute with one value left", `<% if eq .choice.cache.protocol "redis" %>r<% else if eq .choice.cache.protocol "memcached" %>m<% else %>n<% end %>`, nil},
		{"an attribute else serving two values", `<% if eq .choice.cache.protocol "redis" %>r<% else %>x<% end %>`,
			[]string{`serves cache.protocol=memcached,none`}},
		{"the enclosing condition narrows the else", `<% if ne .cache "none" %><% if eq .choice.cache.protocol "redis" %>r<% else %>m<% end %><% end %>`, nil},
		{"the rules narrow the else", `<% if eq .auth "session" %><% if ne .cache "memcached" %>r<% else %>m<% end %><% end %>`, nil},
		{"a condition over more than answers is not judged", `<% if eq (printf "%s" .cache) "redis" %>r<% else %>x<% end %>`, nil},
		{"inside range the dot is not the answers", `<% range $x := list 1 %><% if eq .cache "redis" %>r<% else %>x<% end %><% end %>`, nil},
		{"$ still reads the answers inside range", `<% range list 1 %><% if eq $.cache "redis" %>r<% else %>x<% end %><% end %>`,
			[]string{`serves cache=valkey,memcached,none`}},
		{"a malformed marker", `<% if eq .cache "redis" %>r<% else %><%/* else: cache */%>x<% end %>`,
			[]string{`want question=value,value`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := branchProblems(t, c.template)
			if want := min(len(c.want), 1); len(got) != want {
				t.Fatalf("problems %q, want %d", got, want)
			}
			for _, w := range c.want {
				if !strings.Contains(got[0], w) {
					t.Errorf("problem %q does not say %q", got[0], w)
				}
			}
		})
	}
}
