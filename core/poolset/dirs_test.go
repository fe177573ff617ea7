package poolset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadDirs lists the part files of a directory poolset as C does:
// NNNNNN.pmem files only (other names, subdirectories ignored), ordered by
// number across directories, sized as the files; the next part goes to
// the directory after the one that had fewer parts than the one before;
// a replica with fewer parts gets the largest replica's sizes in its
// first directory; duplicates and gaps are errors.
func TestLoadDirs(t *testing.T) {
	dir := t.TempDir()
	files := map[string]int64{
		"a/000000.pmem": 8 << 20, "b/000001.pmem": 4 << 20, "a/000002.pmem": 2 << 20,
		"a/notes.txt": 1, "b/x.pmem": 1, "r/000000.pmem": 8 << 20,
	}
	for name, size := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "b", "000003.pmem"), 0o700); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll("PMEMPOOLSET\nOPTION SINGLEHDR\n32M {d}/a\n32M {d}/b\nREPLICA\n64M {d}/r\n", "{d}", dir)
	s, err := Parse(strings.NewReader(text), "d.set", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Directories || s.ReserveSize() != 64<<20 {
		t.Fatalf("directories %v, reservation %d", s.Directories, s.ReserveSize())
	}
	d, err := s.LoadDirs()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rep := range d.Replicas {
		for _, p := range rep.Parts {
			rel, _ := filepath.Rel(dir, p.Path)
			got = append(got, rel+":"+string(rune('0'+p.Size>>20)))
		}
		got = append(got, "|")
	}
	want := "a/000000.pmem:8 b/000001.pmem:4 a/000002.pmem:2 | r/000000.pmem:8 r/000001.pmem:4 r/000002.pmem:2 |"
	if strings.Join(got, " ") != want {
		t.Fatalf("parts\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if d.NextID != 3 || d.NextDir != 1 || d.Directories || d.PoolSize() != 14<<20 {
		t.Fatalf("next %d in dir %d, directories %v, pool size %d", d.NextID, d.NextDir, d.Directories, d.PoolSize())
	}
	d.AppendPart(8 << 20)
	if p := d.Replicas[0].Parts[3].Path; p != filepath.Join(dir, "b", "000003.pmem") {
		t.Fatalf("appended part %s", p)
	}
	// A duplicate number, then a gap.
	if err := os.WriteFile(filepath.Join(dir, "b", "2.pmem"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadDirs(); err == nil || !strings.Contains(err.Error(), "same index 2") {
		t.Fatalf("duplicate: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "b", "2.pmem")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "b", "000001.pmem")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadDirs(); err == nil || !strings.Contains(err.Error(), "part 1 (000001.pmem) missing") {
		t.Fatalf("gap: %v", err)
	}
}
