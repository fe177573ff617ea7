package blk

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestOpenReadOnly: Options.ReadOnly opens a pool whose reads work and
// whose every change is refused, and leaves the file as it was, even with
// an interrupted write in the flog (recovered in memory only).
func TestOpenReadOnly(t *testing.T) {
	path := pmemtest.Path(t, "ro.blk")
	p, err := Create(path, 32<<20, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	for lba := range int64(3) {
		if err := p.WriteBlock(pattern(lba, 1, 512), lba); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{}
	o.ReadOnly = true
	p, err = Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, p, 2, 1)
	mustRead(t, p, 3, 0)
	buf := make([]byte, 512)
	for name, err := range map[string]error{
		"write": p.WriteBlock(buf, 1), "set zero": p.SetZero(1), "set error": p.SetError(1),
	} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s: %v, want ErrReadOnly", name, err)
		}
	}
	if _, err := p.WriteAt(buf, 0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("WriteAt: %v, want ErrReadOnly", err)
	}
	if probs := p.Check(); len(probs) != 0 {
		t.Fatalf("check: %v", probs)
	}
	p.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a read-only open changed the file")
	}
	if _, err := Create(pmemtest.Path(t, "new.blk"), 32<<20, 0o600, o); err == nil {
		t.Fatal("read-only create succeeded")
	}
}

func TestReadAtWriteAt(t *testing.T) {
	p, err := Create(pmemtest.Path(t, "io.blk"), 32<<20, 0o600, &Options{BlockSize: 520})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const bs = 520
	data := make([]byte, 3*bs)
	for i := range data {
		data[i] = byte(i*13 + 1)
	}
	if n, err := p.WriteAt(data, 4*bs); n != len(data) || err != nil {
		t.Fatalf("WriteAt: %d, %v", n, err)
	}
	for _, c := range []struct{ off, n int64 }{{4 * bs, 3 * bs}, {4*bs + 7, 2*bs + 100}, {5*bs - 1, 2}, {3*bs + 500, 40}, {6 * bs, bs}} {
		got := make([]byte, c.n)
		if n, err := p.ReadAt(got, c.off); n != int(c.n) || err != nil {
			t.Fatalf("ReadAt(%d bytes at %d): %d, %v", c.n, c.off, n, err)
		}
		want := make([]byte, c.n)
		for i := range want {
			if o := c.off + int64(i) - 4*bs; o >= 0 && o < int64(len(data)) {
				want[i] = data[o]
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("ReadAt(%d bytes at %d): wrong bytes", c.n, c.off)
		}
	}
	for _, c := range []struct{ off, n int64 }{{1, bs}, {bs, bs - 1}, {-bs, bs}} {
		if _, err := p.WriteAt(make([]byte, c.n), c.off); !errors.Is(err, ErrUnaligned) {
			t.Errorf("WriteAt(%d bytes at %d): %v, want ErrUnaligned", c.n, c.off, err)
		}
	}
	end := p.NBlock() * bs
	if n, err := p.WriteAt(make([]byte, 2*bs), end-bs); n != 0 || !errors.Is(err, ErrRange) {
		t.Fatalf("WriteAt past the end: %d, %v", n, err)
	}
	got := make([]byte, 2*bs)
	if n, err := p.ReadAt(got, end-bs-3); n != bs+3 || err != io.EOF {
		t.Fatalf("ReadAt past the end: %d, %v; want %d, io.EOF", n, err, bs+3)
	}
	if err := p.SetError(5); err != nil {
		t.Fatal(err)
	}
	if n, err := p.ReadAt(got, 4*bs+10); n != bs-10 || !errors.Is(err, ErrBlockError) {
		t.Fatalf("ReadAt over an error block: %d, %v", n, err)
	}
}
