package blk_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestWriteBackFailure breaks, one at a time, the write-back of each page
// a block write changes (data block, flog, map) and of the pool header, on
// a page-cache pool: msync fails for real. The write whose persist fails
// returns core.ErrPersist, later writes are refused with it while reads
// go on, Close returns it; the reopened file holds the block's old or its
// new content, whole, and passes Check.
func TestWriteBackFailure(t *testing.T) {
	t.Setenv("PMEM2_FORCE_GRANULARITY", "PAGE")
	const bsize, lba = 512, 3
	page := os.Getpagesize()
	path := pmemtest.Path(t, "image")
	p, err := blk.Create(path, blk.MinPoolSize, 0o600, &blk.Options{BlockSize: bsize})
	if err != nil {
		t.Fatal(err)
	}
	oldData, newData := bytes.Repeat([]byte{0x0d}, bsize), bytes.Repeat([]byte{0x4e}, bsize)
	if err := errors.Join(p.WriteBlock(oldData, lba), p.Close()); err != nil { // lays out the BTT
		t.Fatal(err)
	}
	image, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T) (*blk.Pool, *core.Map, string) {
		t.Helper()
		m, path := pmemtest.MapImage(t, image)
		p, err := blk.OpenOnMap(m, &blk.Options{BlockSize: bsize})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p, m, path
	}

	// The pages a write changes, found by comparing the mapping around
	// one; page 0 (the header, whose SDS Close clears) comes first.
	p, m, _ := open(t)
	pages := append([]int{0}, pmemtest.PagesWritten(t, m.Bytes(), func() error { return p.WriteBlock(newData, lba) })...)
	if len(pages) != 4 {
		t.Fatalf("a write changed pages %v, want the data block's, the flog's and the map's", pages[1:])
	}

	for _, pg := range pages {
		t.Run(fmt.Sprintf("page%d", pg), func(t *testing.T) {
			p, m, path := open(t)
			pmemtest.BreakWriteBack(t, m.Bytes()[pg*page:(pg+1)*page])
			if pg == 0 {
				// A write does not touch the header: only Close fails.
				if err := p.WriteBlock(newData, lba); err != nil {
					t.Fatalf("Write: %v", err)
				}
			} else {
				if err := p.WriteBlock(newData, lba); !errors.Is(err, core.ErrPersist) {
					t.Fatalf("Write: %v, want core.ErrPersist", err)
				}
				for name, err := range map[string]error{
					"Write": p.WriteBlock(oldData, lba+1), "SetZero": p.SetZero(lba), "SetError": p.SetError(lba),
				} {
					if !errors.Is(err, core.ErrPersist) {
						t.Errorf("%s after the failure: %v, want core.ErrPersist", name, err)
					}
				}
				if err := p.ReadBlock(make([]byte, bsize), lba); err != nil {
					t.Errorf("Read after the failure: %v", err)
				}
			}
			if err := p.Close(); !errors.Is(err, core.ErrPersist) {
				t.Fatalf("Close: %v, want core.ErrPersist", err)
			}
			p, err := blk.Open(path, &blk.Options{BlockSize: bsize})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer p.Close()
			got := make([]byte, bsize)
			if err := p.ReadBlock(got, lba); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, oldData) && !bytes.Equal(got, newData) {
				t.Errorf("block %d after reopening is neither its old nor its new content: %x...", lba, got[:16])
			}
			t.Logf("block %d reads as its %s content", lba, map[bool]string{true: "new", false: "old"}[bytes.Equal(got, newData)])
			if probs := p.Check(); len(probs) > 0 {
				t.Errorf("Check: %v", probs)
			}
		})
	}
}
