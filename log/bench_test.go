package log

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// benchLog is what the benchmarks need from a log implementation: this
// package, or C libpmemlog through internal/clog (build tag cpeer).
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

// benchPeers returns the implementations to compare: "go" always, "c" when
// built with the cpeer tag. Both run on forced-pmem pool files (CPU
// flushes on a tmpfs file), set before C libpmem first looks at it.
func benchPeers(b *testing.B) []string {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1")
	if cPeerCreate == nil {
		return []string{"go"}
	}
	return []string{"go", "c"}
}

func benchCreate(b *testing.B, impl string, size int64) benchLog {
	path := pmemtest.Path(b, impl+".log")
	if impl == "c" {
		l, err := cPeerCreate(path, size)
		if err != nil {
			b.Fatal(err)
		}
		return l
	}
	l, err := Create(path, size, 0o600)
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
