package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Outcome is what a three-way merge did to one path of a project.
type Outcome string

const (
	Unchanged  Outcome = "unchanged"  // nothing to do
	Updated    Outcome = "updated"    // the user had not changed it: the new version's
	Added      Outcome = "added"      // new in the new version
	Removed    Outcome = "removed"    // gone from the new version, unchanged by the user
	Kept       Outcome = "kept"       // changed by the user only, or gone from the new version but changed by the user
	Merged     Outcome = "merged"     // changed by both, without overlap
	Conflicted Outcome = "conflicted" // changed by both, overlapping: left for the user
	Moved      Outcome = "moved"      // moved by the new version, with the user's changes
)

// Version is one side's copy of a file; a nil *Version is "absent".
type Version struct {
	Contents []byte
	// Mode is 0644 or 0755: git tracks only the executable bit, so a
	// checkout under another umask (0664) is not a change.
	Mode fs.FileMode
	// perm is the work tree's own permission bits, kept when the file is
	// rewritten (only the executable bit comes from the merge).
	perm fs.FileMode
}

// gitMode reduces permission bits to what git tracks: 0755 or 0644.
func gitMode(perm fs.FileMode) fs.FileMode {
	if perm&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// MergedPath is the merge of one path: what to leave in the work tree, and
// for a conflict the three sides git's index records.
type MergedPath struct {
	Path    string
	Outcome Outcome
	// Result is what the work tree holds afterwards; nil removes the file.
	Result *Version
	// Base, Ours and Theirs are the three sides (nil where absent).
	Base, Ours, Theirs *Version
	// Why says, for kept and conflicted paths, what happened.
	Why string
	// MovedFrom is, for a file the new version moved that the user had
	// changed, its old path: the user's copy there was merged here as ours
	// (Ours stays nil: nothing is at Path yet) and is git's "ours" stage of
	// a conflict. MovedTo is, on the old path, where it went.
	MovedFrom, MovedTo string
	movedOurs          *Version
}

// usersCopy is the user's side of the merge: what is at Path, or for a
// move, the copy at the old path.
func (m MergedPath) usersCopy() *Version {
	if m.MovedFrom != "" {
		return m.movedOurs
	}
	return m.Ours
}

// TextMerger merges three texts line by line, returning the result with
// conflicts marked (<<<<<<< ours, ||||||| base, =======, >>>>>>> theirs)
// and how many there are.
type TextMerger func(ctx context.Context, base, ours, theirs []byte) ([]byte, int, error)

// ThreeWay merges a project (ours: read through readOurs) from base, what
// the project's recorded version generated, to theirs, what the target
// version generates. Local files (.env) are never part of either plan.
func ThreeWay(ctx context.Context, base, theirs []File, readOurs func(path string) (*Version, error), merge TextMerger) ([]MergedPath, error) {
	sides := map[string][2]*Version{}
	// How to make a regenerated file again, from the target version: it
	// knows its own regenerated files, an older manifest may not.
	remake := map[string]string{}
	for _, f := range base {
		if !f.Local {
			s := sides[f.Path]
			s[0] = &Version{Contents: f.Contents, Mode: f.Mode}
			sides[f.Path] = s
		}
	}
	for _, f := range theirs {
		if !f.Local {
			s := sides[f.Path]
			s[1] = &Version{Contents: f.Contents, Mode: f.Mode}
			sides[f.Path] = s
			remake[f.Path] = f.Remake
		}
	}
	paths := make([]string, 0, len(sides))
	for p := range sides {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	// Paths under a symbolic link the user made are theirs, whatever the
	// versions say: read as absent, never written (see the loop).
	linked := map[string]string{}
	readOurs = SkipLinked(readOurs, linked)
	movedFrom, err := findMoves(paths, sides, readOurs, linked)
	if err != nil {
		return nil, err
	}
	movedTo := map[string]string{}
	for to, from := range movedFrom {
		movedTo[from] = to
	}
	var out []MergedPath
	for _, p := range paths {
		if ctx.Err() != nil {
			return nil, ErrInterrupted
		}
		ours, err := readOurs(p)
		if err != nil {
			return nil, err
		}
		var m MergedPath
		switch from, to := movedFrom[p], movedTo[p]; {
		case linked[p] != "" && same(sides[p][0], sides[p][1]):
			m = MergedPath{Path: p, Outcome: Unchanged, Base: sides[p][0], Theirs: sides[p][1]}
		case linked[p] == p:
			m = MergedPath{Path: p, Outcome: Kept, Base: sides[p][0], Theirs: sides[p][1],
				Why: "a symbolic link you made, and the new version changes the file: rampart does not write through links"}
		case linked[p] != "":
			m = MergedPath{Path: p, Outcome: Kept, Base: sides[p][0], Theirs: sides[p][1],
				Why: "under " + linked[p] + ", a symbolic link you made, and the new version changes it: rampart writes only inside the project, and git tracks the link, not what is under it"}
		case to != "":
			m = MergedPath{Path: p, Outcome: Removed, Base: sides[p][0], Ours: ours, MovedTo: to,
				Why: "moved to " + to + " by the new version, with your changes"}
		case from != "":
			if m, err = mergeMoved(ctx, p, from, sides[from][0], sides[p][1], remake[p], readOurs, merge); err != nil {
				return nil, fmt.Errorf("merging %s into %s: %w", from, p, err)
			}
		default:
			if m, err = mergePath(ctx, p, sides[p][0], ours, sides[p][1], remake[p], merge); err != nil {
				return nil, fmt.Errorf("merging %s: %w", p, err)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// SkipLinked wraps a readOurs so that a path that is, or is under, a
// symbolic link reads as absent; linked (when not nil) records each such
// path with its link.
func SkipLinked(read func(string) (*Version, error), linked map[string]string) func(string) (*Version, error) {
	return func(p string) (*Version, error) {
		ours, err := read(p)
		var l *LinkedParentError
		if errors.As(err, &l) {
			if linked != nil {
				linked[p] = l.Link
			}
			return nil, nil
		}
		return ours, err
	}
}

// moveSimilarity is how alike (shared non-blank lines, 0 to 1) a file the
// new version dropped and one it added must be to count as one file moved:
// git's default rename threshold, counted over lines.
const moveSimilarity = 0.5

// minMoveLines is the fewest non-blank lines a file needs for a partial
// likeness to count; smaller files are moved only when identical.
const minMoveLines = 3

// findMoves pairs, by new path, each file the new version dropped and the
// user changed with the file it added in its place, so that the user's
// changes follow it. Every dropped file the user still has competes (an
// unchanged one needs no carrying, but must not lose its pair to another),
// for added paths where the user has no file; pairs are taken best first,
// one to one, as git pairs renames.
func findMoves(paths []string, sides map[string][2]*Version, readOurs func(string) (*Version, error), linked map[string]string) (map[string]string, error) {
	var dropped, added []string
	for _, p := range paths {
		switch s := sides[p]; {
		case s[0] != nil && s[1] == nil:
			dropped = append(dropped, p)
		case s[0] == nil && s[1] != nil:
			added = append(added, p)
		}
	}
	moves := map[string]string{}
	if len(dropped) == 0 || len(added) == 0 {
		return moves, nil
	}
	var targets []string
	for _, p := range added {
		ours, err := readOurs(p)
		if err != nil {
			return nil, err
		}
		if ours == nil && linked[p] == "" {
			targets = append(targets, p)
		}
	}
	type pair struct {
		from, to string
		score    float64
	}
	var pairs []pair
	changed := map[string]bool{}
	for _, from := range dropped {
		base := sides[from][0]
		ours, err := readOurs(from)
		if err != nil {
			return nil, err
		}
		if ours == nil || linked[from] != "" {
			continue
		}
		changed[from] = !same(ours, base)
		for _, to := range targets {
			theirs := sides[to][1]
			if binary(base, theirs) && !sameContents(base, theirs) {
				continue
			}
			if score := similarity(base.Contents, theirs.Contents); score >= moveSimilarity {
				pairs = append(pairs, pair{from, to, score})
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].score > pairs[j].score })
	taken := map[string]bool{}
	for _, p := range pairs {
		if taken[p.from] || taken[p.to] {
			continue
		}
		taken[p.from], taken[p.to] = true, true
		if changed[p.from] {
			moves[p.to] = p.from
		}
	}
	return moves, nil
}

// similarity is the share of non-blank lines a and b have in common (Dice's
// coefficient over their lines as multisets); files with fewer than
// minMoveLines such lines are alike only when they hold the same lines.
func similarity(a, b []byte) float64 {
	linesA, linesB := contentLines(a), contentLines(b)
	if len(linesA) < minMoveLines || len(linesB) < minMoveLines {
		if slices.Equal(linesA, linesB) && len(linesA) > 0 {
			return 1
		}
		return 0
	}
	count := map[string]int{}
	for _, l := range linesA {
		count[l]++
	}
	shared := 0
	for _, l := range linesB {
		if count[l] > 0 {
			count[l]--
			shared++
		}
	}
	return 2 * float64(shared) / float64(len(linesA)+len(linesB))
}

// contentLines are the lines of b that are not blank, without line ends.
func contentLines(b []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, "\r"))
		}
	}
	return lines
}

// mergeMoved merges the user's copy of from (changed by them) into to,
// where the new version moved it.
func mergeMoved(ctx context.Context, to, from string, base, theirs *Version, remake string, readOurs func(string) (*Version, error), merge TextMerger) (MergedPath, error) {
	ours, err := readOurs(from)
	if err != nil {
		return MergedPath{}, err
	}
	m, err := mergePath(ctx, to, base, ours, theirs, remake, merge)
	if err != nil {
		return m, err
	}
	m.Ours, m.MovedFrom, m.movedOurs = nil, from, ours
	moved := "moved from " + from + " by the new version, with your changes"
	if m.Outcome == Merged {
		moved += " merged into its new version's"
	}
	if m.Outcome == Conflicted {
		m.Why = moved + "; " + m.Why
	} else {
		m.Outcome, m.Why = Moved, moved
	}
	return m, nil
}

func same(a, b *Version) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Mode == b.Mode && bytes.Equal(a.Contents, b.Contents)
}

func sameContents(a, b *Version) bool {
	return a != nil && b != nil && bytes.Equal(a.Contents, b.Contents)
}

func binary(vs ...*Version) bool {
	for _, v := range vs {
		if v != nil && bytes.IndexByte(v.Contents, 0) >= 0 {
			return true
		}
	}
	return false
}

func mergePath(ctx context.Context, path string, base, ours, theirs *Version, remake string, merge TextMerger) (MergedPath, error) {
	m := MergedPath{Path: path, Base: base, Ours: ours, Theirs: theirs, Result: ours}
	switch {
	case same(ours, theirs):
		m.Outcome = Unchanged
	case same(ours, base):
		// The user never touched it: the new version's, whatever it is.
		m.Result = theirs
		switch {
		case theirs == nil:
			m.Outcome = Removed
		case base == nil:
			m.Outcome = Added
		default:
			m.Outcome = Updated
		}
	case same(theirs, base):
		m.Outcome = Kept
		m.Why = "changed by you; the new version did not change it"
		if ours == nil {
			m.Why = "deleted by you; the new version did not change it"
		}
	case theirs == nil:
		m.Outcome = Kept
		m.Why = "the new version no longer generates it, and you changed it"
	case ours == nil:
		// Deleted by the user, changed by the new version: the new version
		// is put back for the user to decide.
		m.Outcome, m.Result = Conflicted, theirs
		m.Why = "deleted by you, changed by the new version (its version is in place)"
	default:
		mode := ours.Mode
		if base != nil && ours.Mode == base.Mode {
			mode = theirs.Mode // the user kept the mode: the new version's
		}
		if sameContents(ours, theirs) || (base != nil && bytes.Equal(theirs.Contents, base.Contents)) {
			// Only the mode changed on one side.
			m.Outcome, m.Result = Merged, &Version{Contents: ours.Contents, Mode: mode}
			if sameContents(ours, theirs) && mode == ours.Mode {
				m.Outcome = Unchanged
			}
			return m, nil
		}
		if remake != "" {
			// A line merge of two locks or two renderings is neither side's
			// output, and can look valid while being wrong.
			m.Outcome = Conflicted
			m.Why = "made from other files, and changed by you and by the new version (yours is in place; the new version's is git checkout --theirs): " + remake
			return m, nil
		}
		if binary(base, ours, theirs) {
			m.Outcome = Conflicted
			m.Why = "changed by you and by the new version, and not text (yours is in place)"
			return m, nil
		}
		var baseText []byte
		if base != nil {
			baseText = base.Contents
		}
		merged, conflicts, err := merge(ctx, baseText, ours.Contents, theirs.Contents)
		if err != nil {
			return m, err
		}
		m.Result = &Version{Contents: merged, Mode: mode}
		if conflicts == 0 {
			m.Outcome = Merged
		} else {
			m.Outcome = Conflicted
			m.Why = fmt.Sprintf("%d overlapping change(s), marked in the file", conflicts)
			if base == nil {
				m.Why = "you and the new version both added it; " + m.Why
			}
		}
	}
	return m, nil
}

// oursLabel names the user's side in conflict markers ("<<<<<<< " + it).
const oursLabel = "ours (your project)"

// HasConflictMarkers says whether a merge result holds the markers
// GitMergeFile writes (a conflict on a binary or regenerated file does not:
// it holds the user's copy).
func HasConflictMarkers(contents []byte) bool {
	return bytes.Contains(contents, []byte("<<<<<<< "+oursLabel))
}

// GitMergeFile is the TextMerger of git merge-file: diff3-style markers,
// the standard form editors and git mergetool read.
func GitMergeFile(ctx context.Context, base, ours, theirs []byte) ([]byte, int, error) {
	dir, err := os.MkdirTemp("", "rampart-merge-*")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(dir)
	names := []string{"ours", "base", "theirs"}
	for i, content := range [][]byte{ours, base, theirs} {
		if err := os.WriteFile(filepath.Join(dir, names[i]), content, 0o600); err != nil {
			return nil, 0, err
		}
	}
	cmd := exec.CommandContext(ctx, "git", "merge-file", "-p", "--diff3",
		"-L", oursLabel, "-L", "base (the version it was generated from)", "-L", "theirs (the new version)",
		filepath.Join(dir, "ours"), filepath.Join(dir, "base"), filepath.Join(dir, "theirs"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, 0, nil
	case ctx.Err() != nil:
		return nil, 0, ErrInterrupted
	case errors.As(err, &exit) && exit.ExitCode() > 0 && exit.ExitCode() < 128:
		return out, exit.ExitCode(), nil // the number of conflicts
	default:
		return nil, 0, fmt.Errorf("git merge-file: %v %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
}
