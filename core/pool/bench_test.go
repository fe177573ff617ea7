package pool

import (
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool/internal/cpeer"
)

// BenchmarkOpenClose opens and closes a log pool (lock, map, validate, SDS
// dirty and clean, unmap) and, with the cpeer tag, times libpmemlog doing
// the same on the same file in the same run: metric go/c is the ratio.
func BenchmarkOpenClose(b *testing.B) {
	path := pmemtest.Path(b, "log")
	p, err := Create(path, 8<<20, 0o600, Log)
	if err != nil {
		b.Fatal(err)
	}
	writeEmptyLog(p)
	p.Close()
	var cNs float64
	if cpeer.Available() {
		const n = 200
		start := time.Now()
		if err := cpeer.OpenClose(path, n); err != nil {
			b.Fatal(err)
		}
		cNs = float64(time.Since(start).Nanoseconds()) / n
	}
	for b.Loop() {
		p, err := Open(path, Log, Options{})
		if err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
	if cNs > 0 {
		goNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(cNs, "c-ns/op")
		b.ReportMetric(goNs/cNs, "go/c")
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
