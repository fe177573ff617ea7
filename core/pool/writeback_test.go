package pool

import (
	"errors"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestWriteBackFailure breaks the write-back of the header page of an open
// page-cache pool: clearing the SDS on Close, and WriteHeader, fail with
// core.ErrPersist; after a failure the pool writes nothing more; the file
// keeps the header as the last successful persist left it (dirty: the pool
// was not closed cleanly), and the pool opens again.
func TestWriteBackFailure(t *testing.T) {
	t.Setenv("PMEM2_FORCE_GRANULARITY", "PAGE")
	for _, writeHeader := range []bool{false, true} {
		name := map[bool]string{false: "Close", true: "WriteHeader"}[writeHeader]
		t.Run(name, func(t *testing.T) {
			path := pmemtest.Path(t, "pool")
			p, err := Create(path, testSize, 0o600, Log, nil)
			if err != nil {
				t.Fatal(err)
			}
			pmemtest.BreakWriteBack(t, p.Map().Bytes()[:HeaderSize])
			if writeHeader {
				h := p.Header()
				h.CrTime++
				if err := p.WriteHeader(&h); !errors.Is(err, core.ErrPersist) {
					t.Fatalf("WriteHeader: %v, want core.ErrPersist", err)
				}
				before := append([]byte(nil), p.Map().Bytes()[:HeaderSize]...)
				if err := p.WriteHeader(&h); !errors.Is(err, core.ErrPersist) {
					t.Fatalf("second WriteHeader: %v, want core.ErrPersist", err)
				}
				if string(before) != string(p.Map().Bytes()[:HeaderSize]) {
					t.Fatal("WriteHeader wrote to a pool whose persist path failed")
				}
			}
			if err := p.Close(); !errors.Is(err, core.ErrPersist) {
				t.Fatalf("Close: %v, want core.ErrPersist", err)
			}
			h := readHeader(t, path)
			if created := p.Header(); h.SDS.Dirty != 1 || h.CrTime != created.CrTime {
				t.Fatalf("file header after failed write-backs: SDS %+v, crtime %d, want the created header, dirty", h.SDS, h.CrTime)
			}
			p, err = Open(path, Log, nil)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
