package generator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func v(text string) *Version { return &Version{Contents: []byte(text), Mode: 0o644} }

func TestThreeWayOutcomes(t *testing.T) {
	exec := &Version{Contents: []byte("#!/bin/sh\n"), Mode: 0o755}
	plain := &Version{Contents: []byte("#!/bin/sh\n"), Mode: 0o644}
	cases := map[string]struct {
		base, ours, theirs *Version
		want               Outcome
		result             string // "" for a removed file
		why                string
	}{
		"untouched, unchanged":           {v("a\n"), v("a\n"), v("a\n"), Unchanged, "a\n", ""},
		"untouched, updated":             {v("a\n"), v("a\n"), v("b\n"), Updated, "b\n", ""},
		"new in the new version":         {nil, nil, v("b\n"), Added, "b\n", ""},
		"dropped, untouched":             {v("a\n"), v("a\n"), nil, Removed, "", ""},
		"dropped, already deleted":       {v("a\n"), nil, nil, Unchanged, "", ""},
		"edited, not updated":            {v("a\n"), v("mine\n"), v("a\n"), Kept, "mine\n", "changed by you"},
		"deleted, not updated":           {v("a\n"), nil, v("a\n"), Kept, "", "deleted by you"},
		"dropped, but edited":            {v("a\n"), v("mine\n"), nil, Kept, "mine\n", "no longer generates it"},
		"deleted, but updated":           {v("a\n"), nil, v("b\n"), Conflicted, "b\n", "deleted by you, changed by the new version"},
		"both, apart":                    {v("1\n2\n3\n4\n5\n"), v("one\n2\n3\n4\n5\n"), v("1\n2\n3\n4\nfive\n"), Merged, "one\n2\n3\n4\nfive\n", ""},
		"both, the same change":          {v("a\n"), v("b\n"), v("b\n"), Unchanged, "b\n", ""},
		"both, overlapping":              {v("a\n"), v("mine\n"), v("theirs\n"), Conflicted, "", "1 overlapping change"},
		"both added, differently":        {nil, v("mine\n"), v("theirs\n"), Conflicted, "", "both added it"},
		"binary, both changed":           {v("a\x00"), v("b\x00"), v("c\x00"), Conflicted, "b\x00", "not text"},
		"regenerated, untouched":         {v("a==1\n"), v("a==1\n"), v("a==2\n"), Updated, "a==2\n", ""},
		"regenerated, edited only":       {v("a==1\n"), v("a==1\nb==1\n"), v("a==1\n"), Kept, "a==1\nb==1\n", "changed by you"},
		"regenerated, both, apart":       {v("a==1\nb==1\nc==1\nd==1\n"), v("a==2\nb==1\nc==1\nd==1\n"), v("a==1\nb==1\nc==1\nd==2\n"), Conflicted, "a==2\nb==1\nc==1\nd==1\n", "run make lock"},
		"mode by the new version only":   {plain, plain, exec, Updated, "#!/bin/sh\n", ""},
		"mode by the new version, edits": {plain, &Version{Contents: []byte("#!/bin/sh\necho\n"), Mode: 0o644}, exec, Merged, "#!/bin/sh\necho\n", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var base, theirs []File
			if c.base != nil {
				base = []File{{Path: "f", Contents: c.base.Contents, Mode: c.base.Mode}}
			}
			if c.theirs != nil {
				theirs = []File{{Path: "f", Contents: c.theirs.Contents, Mode: c.theirs.Mode}}
				if strings.HasPrefix(name, "regenerated") {
					theirs[0].Remake = "run make lock"
				}
			}
			merged, err := ThreeWay(context.Background(), base, theirs, func(string) (*Version, error) { return c.ours, nil }, GitMergeFile)
			if err != nil {
				t.Fatal(err)
			}
			m := merged[0]
			if m.Outcome != c.want || !strings.Contains(m.Why, c.why) {
				t.Errorf("outcome %s (%s), want %s (%s)", m.Outcome, m.Why, c.want, c.why)
			}
			switch {
			case c.result == "" && c.want != Conflicted && m.Result != nil:
				t.Errorf("result %q, want the file removed", m.Result.Contents)
			case c.result != "" && (m.Result == nil || string(m.Result.Contents) != c.result):
				t.Errorf("result %v, want %q", m.Result, c.result)
			}
			if c.want == Conflicted && c.result == "" && !strings.Contains(string(m.Result.Contents), "<<<<<<< ours") {
				t.Errorf("no conflict markers in %q", m.Result.Contents)
			}
			if name == "mode by the new version, edits" && m.Result.Mode != 0o755 {
				t.Errorf("mode %v, want the new version's 0755", m.Result.Mode)
			}
		})
	}
}

// A failure halfway through writing puts every file back as it was.
func TestApplyMergeIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"a.txt": "old a\n", "b.txt": "old b\n", "gone.txt": "bye\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// "z/blocked" cannot be written: z is a file.
	if err := os.WriteFile(filepath.Join(dir, "z"), []byte("a file, not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	merged := []MergedPath{
		{Path: "a.txt", Outcome: Updated, Ours: v("old a\n"), Result: v("new a\n")},
		{Path: "b.txt", Outcome: Updated, Ours: v("old b\n"), Result: v("new b\n")},
		{Path: "gone.txt", Outcome: Removed, Ours: v("bye\n")},
		{Path: "new/c.txt", Outcome: Added, Result: v("c\n")},
		{Path: "z/blocked", Outcome: Added, Result: v("x\n")},
	}
	err := ApplyMerge(context.Background(), dir, merged)
	if err == nil {
		t.Fatal("writing under a file succeeded")
	}
	for name, want := range map[string]string{"a.txt": "old a\n", "b.txt": "old b\n", "gone.txt": "bye\n"} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q back", name, got, err, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "a.txt b.txt gone.txt z" {
		t.Errorf("the project holds %v after a failed merge", names)
	}

	// Cancelled before it starts: nothing changes either.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ApplyMerge(ctx, dir, merged[:3]); !errors.Is(err, ErrInterrupted) {
		t.Errorf("cancelled: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(got) != "old a\n" {
		t.Errorf("a.txt = %q after a cancelled merge", got)
	}
}

// A checkout under umask 002 (files 0664) is not a change: git tracks only
// the executable bit.
func TestGroupWritableCheckoutsAreNotChanges(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"old.txt": "a\n", "img.bin": "a\x00", "keep.txt": "k\n"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o664); err != nil {
			t.Fatal(err)
		}
	}
	base := []File{{Path: "old.txt", Contents: []byte("a\n"), Mode: 0o644}, {Path: "img.bin", Contents: []byte("a\x00"), Mode: 0o644}, {Path: "keep.txt", Contents: []byte("k\n"), Mode: 0o644}}
	theirs := []File{{Path: "img.bin", Contents: []byte("b\x00"), Mode: 0o644}, {Path: "keep.txt", Contents: []byte("k2\n"), Mode: 0o755}}
	merged, err := ThreeWay(context.Background(), base, theirs, ReadWorkTree(dir), GitMergeFile)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Outcome{"img.bin": Updated, "keep.txt": Updated, "old.txt": Removed}
	for _, m := range merged {
		if m.Outcome != want[m.Path] {
			t.Errorf("%s: %s (%s), want %s", m.Path, m.Outcome, m.Why, want[m.Path])
		}
	}
	if err := ApplyMerge(context.Background(), dir, merged); err != nil {
		t.Fatal(err)
	}
	// The user's group-writable bit stays; the executable bit is the new version's.
	if info, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil || info.Mode().Perm() != 0o775 {
		t.Errorf("keep.txt mode %v, %v; want 0775", info.Mode().Perm(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "old.txt")); !os.IsNotExist(err) {
		t.Errorf("old.txt was not removed: %v", err)
	}
}

// Directories a removal empties go, also when the project is given as ".".
func TestRemovalsTakeTheirEmptiedDirectoriesRelativeDirToo(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "deep", "x.txt"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	merged := []MergedPath{{Path: "sub/deep/x.txt", Outcome: Removed, Ours: v("x\n")}}
	if err := ApplyMerge(context.Background(), ".", merged); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub")); !os.IsNotExist(err) {
		t.Errorf("sub/ is still there: %v", err)
	}
}

// A file the new version moved, that the user changed, takes the user's
// changes along; anything less alike, or a new path the user already has,
// is no move.
func TestThreeWayMoves(t *testing.T) {
	const base = "one\ntwo\nthree\nfour\n"
	cases := map[string]struct {
		ours, theirs, oursAtNew string
		wantNew                 Outcome
		wantResult              string // at the new path
		wantOld                 Outcome
	}{
		"moved as it was":         {"ONE\ntwo\nthree\nfour\n", base, "", Moved, "ONE\ntwo\nthree\nfour\n", Removed},
		"moved and changed apart": {"ONE\ntwo\nthree\nfour\n", "one\ntwo\nthree\nFOUR\n", "", Moved, "ONE\ntwo\nthree\nFOUR\n", Removed},
		"moved, both changed":     {"uno\ntwo\nthree\nfour\n", "eins\ntwo\nthree\nfour\n", "", Conflicted, "", Removed},
		"too different":           {"ONE\ntwo\nthree\nfour\n", "a\nb\nc\nfour\n", "", Added, "a\nb\nc\nfour\n", Kept},
		"the user has the path":   {"ONE\ntwo\nthree\nfour\n", base, "mine\n", Conflicted, "", Kept},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ours := map[string]*Version{"old.txt": v(c.ours)}
			if c.oursAtNew != "" {
				ours["new.txt"] = v(c.oursAtNew)
			}
			merged, err := ThreeWay(context.Background(),
				[]File{{Path: "old.txt", Contents: []byte(base), Mode: 0o644}},
				[]File{{Path: "new.txt", Contents: []byte(c.theirs), Mode: 0o644}},
				func(p string) (*Version, error) { return ours[p], nil }, GitMergeFile)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]MergedPath{}
			for _, m := range merged {
				got[m.Path] = m
			}
			n, o := got["new.txt"], got["old.txt"]
			if n.Outcome != c.wantNew || o.Outcome != c.wantOld {
				t.Fatalf("new.txt %s (%s), old.txt %s (%s); want %s, %s", n.Outcome, n.Why, o.Outcome, o.Why, c.wantNew, c.wantOld)
			}
			if c.wantResult != "" && (n.Result == nil || string(n.Result.Contents) != c.wantResult) {
				t.Errorf("new.txt holds %v, want %q", n.Result, c.wantResult)
			}
			if c.wantOld == Removed {
				if o.Result != nil || o.MovedTo != "new.txt" || n.MovedFrom != "old.txt" || n.Ours != nil {
					t.Errorf("the move is not recorded: old %+v, new %+v", o, n)
				}
				if !strings.Contains(n.Why, "moved from old.txt") {
					t.Errorf("why %q", n.Why)
				}
			}
			if name == "moved, both changed" && !strings.Contains(string(n.Result.Contents), "<<<<<<< ours") {
				t.Errorf("no conflict markers in %q", n.Result.Contents)
			}
		})
	}
}

// Pairs are taken best first, one to one, and an unchanged dropped file
// competes too: another file's edits never take over its move.
func TestMovesPairBestFirstAndUnchangedFilesKeepTheirPair(t *testing.T) {
	run := func(base, theirs []File, ours map[string]*Version) map[string]MergedPath {
		t.Helper()
		merged, err := ThreeWay(context.Background(), base, theirs, func(p string) (*Version, error) { return ours[p], nil }, GitMergeFile)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]MergedPath{}
		for _, m := range merged {
			got[m.Path] = m
		}
		return got
	}
	file := func(path, text string) File { return File{Path: path, Contents: []byte(text), Mode: 0o644} }
	const route = "from flask import Blueprint\nbp = Blueprint('x', __name__)\n@bp.get('/')\ndef index():\n    return 'x'\n"
	const other = "from flask import Blueprint\nbp = Blueprint('y', __name__)\n@bp.get('/')\ndef other():\n    return 'x'\n"
	// a.py is renamed c.py untouched; b.py, edited, is somewhat like c.py.
	got := run([]File{file("a.py", route), file("b.py", other)}, []File{file("c.py", route)},
		map[string]*Version{"a.py": v(route), "b.py": v(other + "# mine\n")})
	if got["b.py"].Outcome != Kept || got["c.py"].Outcome != Added || got["a.py"].Outcome != Removed || got["a.py"].MovedTo != "" {
		t.Errorf("b.py %s, c.py %s, a.py %s (moved to %q); want kept, added, removed", got["b.py"].Outcome, got["c.py"].Outcome, got["a.py"].Outcome, got["a.py"].MovedTo)
	}
	// Both edited: the identical one is the move, whatever the path order.
	got = run([]File{file("a.py", other), file("b.py", route)}, []File{file("c.py", route)},
		map[string]*Version{"a.py": v(other + "# mine\n"), "b.py": v(route + "# mine\n")})
	if got["c.py"].Outcome != Moved || got["c.py"].MovedFrom != "b.py" || got["a.py"].Outcome != Kept {
		t.Errorf("c.py %s from %q, a.py %s; want c.py moved from b.py, a.py kept", got["c.py"].Outcome, got["c.py"].MovedFrom, got["a.py"].Outcome)
	}
}

func TestSimilarityCountsNonBlankLinesAndSmallFilesMustMatch(t *testing.T) {
	cases := []struct {
		a, b string
		want float64
	}{
		{"x\n", "y\n", 0},
		{"", "a\nb\n", 0},
		{"notes\n", "notes\n", 1},
		{"a\n\n\nb\nc\nd\n", "a\nb\nc\nD\n", 0.75},
		{"a\nb\nc\nd\n", "w\nx\ny\nd\n", 0.25},
	}
	for _, c := range cases {
		if got := similarity([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("similarity(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
