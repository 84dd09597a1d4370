package generator

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validators are the named checks a manifest question may list under validate.
var validators = map[string]func(string) error{
	"dns-label":      validateDNSLabel,
	"python-package": validatePythonPackage,
	"free-text":      validateFreeText,
	"single-line":    validateSingleLine,
}

func validatorNames() []string {
	names := make([]string, 0, len(validators))
	for n := range validators {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
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

var pythonIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validatePythonPackage accepts an ASCII Python identifier that is not a
// keyword and does not shadow a standard-library module.
func validatePythonPackage(s string) error {
	switch {
	case !pythonIdentifier.MatchString(s):
		return fmt.Errorf("%q is not a Python identifier: use letters, digits and underscores, not starting with a digit", s)
	case slices.Contains(pythonKeywords, s):
		return fmt.Errorf("%q is a Python keyword", s)
	case slices.Contains(pythonStdlib, s):
		return fmt.Errorf("%q would shadow the Python standard library module of that name", s)
	case s != strings.ToLower(s):
		return fmt.Errorf("%q should be lowercase (PEP 8 package names)", s)
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
	for _, name := range q.Validate {
		if err := validators[name](value); err != nil {
			return fmt.Errorf("%s: %w", q.Name, err)
		}
	}
	if slices.Contains(q.Deny, value) {
		return fmt.Errorf("%s: %q is reserved: it would clash with a module the generated project uses (reserved: %s)", q.Name, value, strings.Join(q.Deny, ", "))
	}
	return nil
}

var pythonKeywords = []string{
	"False", "None", "True", "and", "as", "assert", "async", "await", "break",
	"class", "continue", "def", "del", "elif", "else", "except", "finally",
	"for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
	"not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
	// soft keywords: legal, but a package named after them reads badly
	"match", "case", "type", "_",
}

// pythonStdlib is sys.stdlib_module_names of CPython 3.11 without private
// names, plus the test package.
var pythonStdlib = strings.Fields(`abc aifc antigravity argparse array ast asynchat asyncio asyncore atexit
audioop base64 bdb binascii bisect builtins bz2 cProfile calendar cgi cgitb chunk cmath cmd code codecs
codeop collections colorsys compileall concurrent configparser contextlib contextvars copy copyreg crypt
csv ctypes curses dataclasses datetime dbm decimal difflib dis distutils doctest email encodings ensurepip
enum errno faulthandler fcntl filecmp fileinput fnmatch fractions ftplib functools gc genericpath getopt
getpass gettext glob graphlib grp gzip hashlib heapq hmac html http idlelib imaplib imghdr imp importlib
inspect io ipaddress itertools json keyword lib2to3 linecache locale logging lzma mailbox mailcap marshal
math mimetypes mmap modulefinder msilib msvcrt multiprocessing netrc nis nntplib nt ntpath nturl2path
numbers opcode operator optparse os ossaudiodev pathlib pdb pickle pickletools pipes pkgutil platform
plistlib poplib posix posixpath pprint profile pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat
queue quopri random re readline reprlib resource rlcompleter runpy sched secrets select selectors shelve
shlex shutil signal site smtpd smtplib sndhdr socket socketserver spwd sqlite3 sre_compile sre_constants
sre_parse ssl stat statistics string stringprep struct subprocess sunau symtable sys sysconfig syslog
tabnanny tarfile telnetlib tempfile termios textwrap this threading time timeit tkinter token tokenize
tomllib trace traceback tracemalloc tty turtle turtledemo types typing unicodedata unittest urllib uu uuid
venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib xml xmlrpc zipapp zipfile zipimport
zlib zoneinfo test`)
