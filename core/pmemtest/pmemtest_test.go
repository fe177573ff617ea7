package pmemtest

import (
	"os"
	"slices"
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

func TestMapImagePagesWritten(t *testing.T) {
	page := os.Getpagesize()
	image := make([]byte, 4*page)
	image[5] = 'x'
	m, path := MapImage(t, image)
	if m.Size() != len(image) || m.Bytes()[5] != 'x' {
		t.Fatalf("MapImage: %d bytes, byte 5 %q", m.Size(), m.Bytes()[5])
	}
	b := m.Bytes()
	got := PagesWritten(t, b, func() error {
		b[page+7] = 1
		b[3*page-1] = 2
		b[5] = 'x' // unchanged
		m.Persist(b[page : 3*page])
		return m.Err()
	})
	if !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("PagesWritten: %v, want [1 2]", got)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if f, err := os.ReadFile(path); err != nil || f[page+7] != 1 || f[3*page-1] != 2 {
		t.Fatalf("file after Close: %v", err)
	}
}
