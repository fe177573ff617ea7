package pool

import (
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// BenchmarkOpenClose opens and closes a log pool (lock, map, validate, SDS
// dirty and clean, unmap). log's BenchmarkOpenClose compares the whole log
// open with C libpmemlog's.
func BenchmarkOpenClose(b *testing.B) {
	path := pmemtest.Path(b, "log")
	p, err := Create(path, 8<<20, 0o600, Log, nil)
	if err != nil {
		b.Fatal(err)
	}
	writeEmptyLog(p)
	p.Close()
	for b.Loop() {
		p, err := Open(path, Log, nil)
		if err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}

// BenchmarkValidate decodes and validates a C-made header.
func BenchmarkValidate(b *testing.B) {
	raw := cHeader(b, "obj")
	b.SetBytes(HeaderSize)
	for b.Loop() {
		h, err := DecodeHeader(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Validate(Obj); err != nil {
			b.Fatal(err)
		}
	}
}
