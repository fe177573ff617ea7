package log_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/log"
)

// openCopy opens the log in a fresh file holding image, on a page-cache
// Map the test may break.
func openCopy(t *testing.T, image []byte) (*log.Log, *core.Map, string) {
	t.Helper()
	m, path := pmemtest.MapImage(t, image)
	if m.Granularity() != core.GranularityPage {
		t.Fatalf("granularity %v, want page", m.Granularity())
	}
	l, err := log.OpenOnMap(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, m, path
}

// TestWriteBackFailure breaks, one at a time, the write-back of each page
// an append writes (its data, write_offset) and of the pool header, on a
// page-cache pool: msync fails for real. The append whose write-back fails
// returns core.ErrPersist, later appends and rewinds are refused with it,
// Close returns it, and the reopened file holds the log as it was before
// the failed append, never a part of it.
func TestWriteBackFailure(t *testing.T) {
	t.Setenv("PMEM2_FORCE_GRANULARITY", "PAGE")
	page := os.Getpagesize()
	path := pmemtest.Path(t, "image")
	l, err := log.Create(path, log.MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, second := []byte("first record"), bytes.Repeat([]byte("second "), 100)
	if err := errors.Join(l.Append(first), l.Close()); err != nil {
		t.Fatal(err)
	}
	image, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// The pages an append writes, found by comparing the mapping around
	// one; page 0 (the header, whose SDS Close clears) comes first.
	l, m, _ := openCopy(t, image)
	pages := append([]int{0}, pmemtest.PagesWritten(t, m.Bytes(), func() error { return l.Append(second) })...)
	if len(pages) != 3 {
		t.Fatalf("an append changed pages %v, want the descriptor's and the data's", pages[1:])
	}

	for _, pg := range pages {
		t.Run(fmt.Sprintf("page%d", pg), func(t *testing.T) {
			l, m, path := openCopy(t, image)
			pmemtest.BreakWriteBack(t, m.Bytes()[pg*page:(pg+1)*page])
			want := first
			if pg == 0 {
				// The append does not touch the header: only Close fails.
				if err := l.Append(second); err != nil {
					t.Fatalf("Append: %v", err)
				}
				want = append(bytes.Clone(first), second...)
			} else {
				if err := l.Append(second); !errors.Is(err, core.ErrPersist) {
					t.Fatalf("Append: %v, want core.ErrPersist", err)
				}
				tell := l.Tell()
				for name, err := range map[string]error{
					"Append": l.Append(first), "Appendv": l.Appendv(first, second), "Rewind": l.Rewind(),
				} {
					if !errors.Is(err, core.ErrPersist) {
						t.Errorf("%s after the failure: %v, want core.ErrPersist", name, err)
					}
				}
				if l.Tell() != tell {
					t.Errorf("Tell moved from %d to %d after the failure", tell, l.Tell())
				}
			}
			if err := l.Close(); !errors.Is(err, core.ErrPersist) {
				t.Fatalf("Close: %v, want core.ErrPersist", err)
			}
			l, err := log.Open(path, nil)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer l.Close()
			got, err := l.Bytes()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("reopened log holds %d bytes %.40q (%v), want %q", len(got), got, err, want)
			}
		})
	}
}
