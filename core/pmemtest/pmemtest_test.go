package pmemtest

import (
	"os"
	"testing"
)

func TestDirIsEmptyAndWritable(t *testing.T) {
	dir := Dir(t)
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("Dir(%q): entries %v, err %v", dir, entries, err)
	}
	p := Path(t, "pool")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}
