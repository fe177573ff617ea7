package poolset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func noDirs(string) (bool, error) { return false, nil }

func parse(s string) (*Set, error) {
	return Parse(strings.NewReader(s), "test.set", &ParseOptions{Stat: noDirs})
}

func TestParseValid(t *testing.T) {
	s, err := parse("PMEMPOOLSET\n# comment\nOPTION SINGLEHDR\n\n16M /a/p0 # trailing\n8MiB\t/a/p1\nREPLICA\n24M /b/p0\nREPLICA node.example rel/set\n")
	if err != nil {
		t.Fatal(err)
	}
	if s.Options != SingleHdr || len(s.Replicas) != 3 {
		t.Fatalf("options %v replicas %d", s.Options, len(s.Replicas))
	}
	r0 := s.Replicas[0].Parts
	if len(r0) != 2 || r0[0].Path != "/a/p0" || r0[0].Size != 16<<20 || r0[1].Size != 8<<20 || r0[1].Line != 6 {
		t.Fatalf("replica 0: %+v", r0)
	}
	if rm := s.Replicas[2].Remote; rm == nil || rm.Node != "node.example" || rm.Descriptor != "rel/set" {
		t.Fatalf("remote: %+v", s.Replicas[2])
	}
	if got := s.ReplicaSize(0); got != 24<<20 {
		t.Fatalf("replica size %d", got)
	}
	if got := s.PoolSize(); got != 24<<20 {
		t.Fatalf("pool size %d", got)
	}
	if !s.HasRemote() {
		t.Fatal("no remote")
	}
}

func TestSizesWithHeaders(t *testing.T) {
	s, err := parse("PMEMPOOLSET\n8M /p0\n8M /p1\n8195K /p2\nREPLICA\n16M /r0\n")
	if err != nil {
		t.Fatal(err)
	}
	want := int64(8<<20 + (8<<20 - 4096) + (8192<<10 - 4096))
	if got := s.ReplicaSize(0); got != want {
		t.Fatalf("replica 0 size %d, want %d", got, want)
	}
	if got := s.PoolSize(); got != 16<<20 {
		t.Fatalf("pool size %d", got)
	}
	l := s.Layout(0)
	if l[1] != (Range{4096, 8<<20 - 4096}) {
		t.Fatalf("layout %+v", l)
	}
}

// TestParseErrors covers every refusal of C's parser, with its line.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		line int
		msg  string
	}{
		{"", 1, msgSignature},
		{"PMEMPOOLSET", 1, msgSignature},
		{"PMEMPOOLSET \n16M /a\n", 1, msgSignature},
		{"# c\nPMEMPOOLSET\n", 1, msgSignature},
		{"PMEMPOOLSET\n", 2, msgNoParts},
		{"PMEMPOOLSET\n# only a comment\n", 3, msgNoParts},
		{"PMEMPOOLSET\nREPLICA\n", 2, msgNoParts},
		{"PMEMPOOLSET\n16M /a\nREPLICA\n", 4, msgNoReplParts},
		{"PMEMPOOLSET\n16M /a\nREPLICA\nREPLICA\n16M /b\n", 4, msgNoReplParts},
		{"PMEMPOOLSET\n16M /a\nREPLICAS\n", 3, msgReplica},
		{"PMEMPOOLSET\n16M /a\nREPLICA \n", 3, msgRemote},
		{"PMEMPOOLSET\n16M /a\nREPLICA host\n", 3, msgRemote},
		{"PMEMPOOLSET\n16M /a\nREPLICA host d x\n", 3, msgToken},
		{"PMEMPOOLSET\n16M /a\nREPLICA host /abs\n", 3, msgRelative},
		{"PMEMPOOLSET\n16M /a\nREPLICA host d\n16M /b\n", 4, msgRemoteParts},
		{"PMEMPOOLSET\n16M\n", 2, msgToken},
		{"PMEMPOOLSET\n16M /a /b\n", 2, msgToken},
		{"PMEMPOOLSET\n   \n", 2, msgToken},
		{"PMEMPOOLSET\n  # indented comment\n", 2, msgToken},
		{"PMEMPOOLSET\n16M rel\n", 2, msgAbsolute},
		{"PMEMPOOLSET\n16X /a\n", 2, msgSize},
		{"PMEMPOOLSET\n0 /a\n", 2, msgSize},
		{"PMEMPOOLSET\nM /a\n", 2, msgSize},
		{"PMEMPOOLSET\nAUTO /nonexistent/x\n", 2, msgCannotSize},
		{"PMEMPOOLSET\nOPTION\n16M /a\n", 2, msgOptionMissing},
		{"PMEMPOOLSET\nOPTION FOO\n16M /a\n", 2, msgOptionUnknown + " 'FOO'"},
		{"PMEMPOOLSET\n16M /a\n\n\n", 5, ""}, // valid
	} {
		_, err := parse(c.in)
		if c.msg == "" {
			if err != nil {
				t.Errorf("%q: %v", c.in, err)
			}
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: error %v, want a SyntaxError", c.in, err)
			continue
		}
		if se.Line != c.line || se.Msg != c.msg {
			t.Errorf("%q: line %d %q, want line %d %q", c.in, se.Line, se.Msg, c.line, c.msg)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"4096", 4096, true}, {"16M", 16 << 20, true}, {"2G", 2 << 30, true}, {"1T", 1 << 40, true},
		{"3KiB", 3 << 10, true}, {"5kB", 5000, true}, {"7MB", 7e6, true}, {"+8K", 8 << 10, true},
		{"1B", 1, true}, {"-1", ^uint64(0), true}, {"99999999999999999999999", ^uint64(0), true},
		{"16m", 0, false}, {"0x10", 0, false}, {"16MX", 0, false}, {"K", 0, false}, {"", 0, false},
	} {
		got, ok := ParseSize(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestDirectories(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	f := filepath.Join(d1, "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Parse(strings.NewReader("PMEMPOOLSET\n1G "+d1+"\n1G "+d2+"\n"), "x", nil)
	if err != nil || !s.Directories || !s.Replicas[0].Parts[1].Dir {
		t.Fatalf("%+v %v", s, err)
	}
	for _, in := range []string{
		"PMEMPOOLSET\n16M " + f + "\n1G " + d1 + "\n",
		"PMEMPOOLSET\n1G " + d1 + "\n16M " + f + "\n",
		"PMEMPOOLSET\n1G " + d1 + "\n1G " + d1 + "\n",
	} {
		if _, err := Parse(strings.NewReader(in), "x", nil); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"PMEMPOOLSET\n16M /a\n",
		"PMEMPOOLSET\nOPTION SINGLEHDR NOHDRS\n16M /a\n8G /b # c\nREPLICA\n1T /c\nREPLICA h d\n",
		"PMEMPOOLSET\n-1 /a\n99999999999999999999P /b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(strings.NewReader(string(b)), "fuzz", &ParseOptions{Stat: noDirs})
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v is not a syntax error", err)
			}
			return
		}
		if len(s.Replicas) == 0 || len(s.Replicas[0].Parts) == 0 || s.Replicas[0].Remote != nil {
			t.Fatalf("accepted a set without a local primary: %+v", s)
		}
		for r, rep := range s.Replicas {
			if rep.Remote == nil && len(rep.Parts) == 0 {
				t.Fatalf("local replica %d without parts", r)
			}
			for _, p := range rep.Parts {
				if p.Size <= 0 || !strings.HasPrefix(p.Path, "/") {
					t.Fatalf("bad part %+v", p)
				}
			}
			if rep.Remote == nil {
				_ = s.Layout(r)
			}
		}
		_ = s.PoolSize()
	})
}
