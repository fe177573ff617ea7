package core_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
)

// TestClearBadBlock: clearing a bad block of a regular file leaves zeros
// in its range, allocated, and the rest of the file and its size as they
// were; what cannot be cleared is refused.
func TestClearBadBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	data := bytes.Repeat([]byte{0xab}, 1<<20)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var before, after unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &before); err != nil {
		t.Fatal(err)
	}
	bb := core.BadBlock{Offset: 64 << 10, Length: 8 << 10}
	if err := src.ClearBadBlock(bb); errors.Is(err, core.ErrNotSupported) {
		t.Skipf("file system cannot punch holes: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	if err := unix.Fstat(int(f.Fd()), &after); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	clear(data[bb.Offset : bb.Offset+bb.Length])
	if !bytes.Equal(got, data) {
		t.Fatal("file after clearing is not the old data with zeros in the bad block")
	}
	if after.Size != before.Size || after.Blocks != before.Blocks {
		t.Fatalf("size %d→%d, blocks %d→%d: the range was not allocated again", before.Size, after.Size, before.Blocks, after.Blocks)
	}
	for _, bad := range []core.BadBlock{{Offset: -1, Length: 4096}, {Offset: 0, Length: 0}, {Offset: 1 << 62, Length: 1 << 62}} {
		if err := src.ClearBadBlock(bad); !errors.Is(err, core.ErrInvalidArgument) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	anon, err := core.Anonymous(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := anon.ClearBadBlock(core.BadBlock{Length: 4096}); !errors.Is(err, core.ErrNotSupported) {
		t.Errorf("anonymous: %v", err)
	}
}
