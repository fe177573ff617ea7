package log

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/log/clog"
)

// benchLog is what the benchmarks need from a log implementation: this
// package, or C libpmemlog through package clog (build tag cpeer).
type benchLog interface {
	// appendN appends buf n times, rewinding whenever the next append
	// would not fit.
	appendN(buf []byte, n int) error
	// walkBytes walks the whole log times times in chunks and returns the
	// bytes seen in all.
	walkBytes(chunksize, times int) int64
	close()
}

type goBench struct{ l *Log }

func (g goBench) appendN(buf []byte, n int) error {
	room := g.l.NBytes()
	for range n {
		if g.l.Tell()+int64(len(buf)) > room {
			if err := g.l.Rewind(); err != nil {
				return err
			}
		}
		if err := g.l.Append(buf); err != nil {
			return err
		}
	}
	return nil
}

func (g goBench) walkBytes(chunksize, times int) int64 {
	var n int64
	for range times {
		_ = g.l.Walk(chunksize, func(b []byte) bool { n += int64(len(b)); return true })
	}
	return n
}

func (g goBench) close() { g.l.Close() }

type cBench struct{ l *clog.Log }

func (c cBench) appendN(buf []byte, n int) error { return c.l.AppendN(buf, n) }
func (c cBench) walkBytes(chunksize, times int) int64 {
	_, n := c.l.WalkN(chunksize, times)
	return n
}
func (c cBench) close() { c.l.Close() }

// benchPeers returns the implementations to compare: "go" always, "c" when
// built with the cpeer tag. Both run on forced-pmem pool files (CPU
// flushes on a tmpfs file), set before C libpmem first looks at it.
func benchPeers(b *testing.B) []string {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1")
	if !clog.Available {
		return []string{"go"}
	}
	return []string{"go", "c"}
}

func benchCreate(b *testing.B, impl string, size int64) benchLog {
	path := pmemtest.Path(b, impl+".log")
	if impl == "c" {
		l, err := clog.Create(path, size, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		return cBench{l}
	}
	l, err := Create(path, size, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	return goBench{l}
}

// compare runs op (one round: a batch of appends, some walks) on each
// implementation in turn, alternating which goes first, so that both see
// the same machine load; b.N counts rounds. Per implementation it reports
// ns/op, ops/s and MB/s from the median round (robust to the preemptions
// of a shared machine), and "go-speedup": the median over rounds of C's
// time / Go's time (above 1, Go is faster).
func compare(b *testing.B, impls []string, logs []benchLog, opsPerRound int, bytesPerOp int64, op func(benchLog) error) {
	spent := make([][]float64, len(logs))
	var ratios []float64
	round := 0
	for b.Loop() {
		var t [2]float64
		for k := range logs {
			i := (k + round) % len(logs)
			start := time.Now()
			if err := op(logs[i]); err != nil {
				b.Fatal(err)
			}
			t[i] = float64(time.Since(start).Nanoseconds()) / float64(opsPerRound)
			spent[i] = append(spent[i], t[i])
		}
		if len(logs) == 2 && t[0] > 0 {
			ratios = append(ratios, t[1]/t[0])
		}
		round++
	}
	for i, impl := range impls {
		ns := median(spent[i])
		b.ReportMetric(ns, impl+"-ns/op")
		b.ReportMetric(1e9/ns, impl+"-ops/s")
		b.ReportMetric(float64(bytesPerOp)*1e3/ns, impl+"-MB/s")
	}
	if len(ratios) > 0 {
		b.ReportMetric(median(ratios), "go-speedup")
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func createAll(b *testing.B, impls []string, poolSize int64) []benchLog {
	logs := make([]benchLog, len(impls))
	for i, impl := range impls {
		logs[i] = benchCreate(b, impl, poolSize)
		b.Cleanup(logs[i].close)
	}
	return logs
}

// BenchmarkAppend appends records of 64 B and 4 KiB to 32 MiB logs,
// rewinding when full, in rounds of 256 appends per implementation (the C
// loop runs in C: one cgo call per round). A first pass over each pool
// faults its pages in before timing.
func BenchmarkAppend(b *testing.B) {
	const poolSize, perRound = 32 << 20, 256
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			impls := benchPeers(b)
			logs := createAll(b, impls, poolSize)
			big := make([]byte, 1<<20)
			buf := make([]byte, size)
			for i := range buf {
				buf[i] = byte(i)
			}
			for _, l := range logs {
				if err := l.appendN(big, poolSize>>20); err != nil {
					b.Fatal(err)
				}
			}
			compare(b, impls, logs, perRound, int64(size), func(l benchLog) error { return l.appendN(buf, perRound) })
		})
	}
}

// BenchmarkWalk walks logs holding 16 MiB in chunks of 64 B, 4 KiB and
// all at once (chunksize 0); the callbacks only add up the lengths.
func BenchmarkWalk(b *testing.B) {
	const poolSize, fill = 32 << 20, 16 << 20
	// Walks per round, so that a round lasts long enough to time (one cgo
	// call per round for C).
	times := map[int]int{64: 1, 4096: 16, 0: 1024}
	for _, chunk := range []int{64, 4096, 0} {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) {
			impls := benchPeers(b)
			logs := createAll(b, impls, poolSize)
			for _, l := range logs {
				if err := l.appendN(make([]byte, 4096), fill/4096); err != nil {
					b.Fatal(err)
				}
			}
			n := times[chunk]
			compare(b, impls, logs, n, fill, func(l benchLog) error {
				if got := l.walkBytes(chunk, n); got != int64(n)*fill {
					return fmt.Errorf("walked %d bytes, want %d", got, int64(n)*fill)
				}
				return nil
			})
		})
	}
}

// BenchmarkOpenClose opens and closes a log pool (lock, map, header and
// descriptor validation, SDS dirty and clean, unmap) and, with the cpeer
// tag, times libpmemlog doing the same on the same file in the same run:
// metric go/c is Go's time over C's (below 1, Go is faster).
func BenchmarkOpenClose(b *testing.B) {
	path := pmemtest.Path(b, "open.log")
	l, err := Create(path, 8<<20, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	l.Close()
	var cNs float64
	if clog.Available {
		const n = 200
		start := time.Now()
		if err := clog.OpenCloseN(path, n); err != nil {
			b.Fatal(err)
		}
		cNs = float64(time.Since(start).Nanoseconds()) / n
	}
	for b.Loop() {
		l, err := Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		l.Close()
	}
	if cNs > 0 {
		goNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(cNs, "c-ns/op")
		b.ReportMetric(goNs/cNs, "go/c")
	}
}
