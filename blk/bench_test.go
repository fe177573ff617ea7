package blk

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/blk/cblk"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

// blockDev is what the benchmarks drive: a Go pool or the C peer's.
type blockDev interface {
	ReadBlock(buf []byte, lba int64) error
	WriteBlock(buf []byte, lba int64) error
	NBlock() int64
	Close() error
}

const benchPoolSize = 64 << 20

// benchDevs creates a Go pool and, with the cpeer tag, a C pool of the
// same geometry, both forced pmem files under pmemtest.Dir, every block
// written once so reads hit data and pages are faulted in.
func benchDevs(b *testing.B, bsize int) map[string]blockDev {
	b.Helper()
	// libpmem reads it at its first pmem_is_pmem: before any C call.
	os.Setenv("PMEM_IS_PMEM_FORCE", "1")
	dir := pmemtest.Dir(b)
	devs := map[string]blockDev{}
	gp, err := Create(filepath.Join(dir, "go.blk"), benchPoolSize, 0o600, &Options{BlockSize: bsize})
	if err != nil {
		b.Fatal(err)
	}
	devs["go"] = gp
	if cblk.Available {
		cp, err := cblk.Create(filepath.Join(dir, "c.blk"), bsize, benchPoolSize, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		devs["c"] = cp
	}
	buf := make([]byte, bsize)
	for name, d := range devs {
		for lba := range d.NBlock() {
			buf[0] = byte(lba)
			if err := d.WriteBlock(buf, lba); err != nil {
				b.Fatalf("%s: prefill: %v", name, err)
			}
		}
		b.Cleanup(func() { d.Close() })
	}
	if gp.NBlock() != devs["go"].NBlock() {
		b.Fatal("geometry differs")
	}
	return devs
}

// BenchmarkBlk reads and writes random blocks at bsize 512 and 4096 with 1
// and 2 goroutines, through gopmdk ("go") and, with the cpeer tag, C
// libpmemblk ("c") in the same run. The go case reports go/c: C's time per
// operation over Go's (above 1: Go is faster).
func BenchmarkBlk(b *testing.B) {
	for _, bsize := range []int{512, 4096} {
		b.Run(fmt.Sprintf("bsize=%d", bsize), func(b *testing.B) {
			devs := benchDevs(b, bsize)
			for _, op := range []string{"write", "read"} {
				for _, g := range []int{1, 2} {
					b.Run(fmt.Sprintf("%s/goroutines=%d", op, g), func(b *testing.B) {
						if len(devs) == 2 {
							// Go and C alternate in short batches, so a
							// busy machine slows both alike.
							b.Run("interleaved", func(b *testing.B) {
								runInterleaved(b, devs["go"], devs["c"], op, g, bsize)
							})
						}
						var cNs float64
						for _, name := range []string{"c", "go"} {
							d, ok := devs[name]
							if !ok {
								continue
							}
							b.Run(name, func(b *testing.B) {
								ns := runBench(b, d, op, g, bsize)
								if name == "c" {
									cNs = ns
								} else if cNs > 0 {
									b.ReportMetric(cNs/ns, "go/c")
								}
							})
						}
					})
				}
			}
		})
	}
}

// runInterleaved runs b.N operations on each of gd and cd, alternating
// batches of 2048, and reports go/c (C's time over Go's: above 1, Go is
// faster). ns/op is per operation of one side.
func runInterleaved(b *testing.B, gd, cd blockDev, op string, g, bsize int) {
	b.SetBytes(int64(bsize))
	const batch = 2048 // amortizes starting the goroutines of a batch
	var tGo, tC time.Duration
	seed := uint64(0)
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		seed++
		tGo += timeBatch(b, gd, op, g, bsize, n, seed)
		tC += timeBatch(b, cd, op, g, bsize, n, seed)
	}
	b.ReportMetric(float64(tC)/float64(tGo), "go/c")
}

// timeBatch does n random-block operations on d over g goroutines.
func timeBatch(b *testing.B, d blockDev, op string, g, bsize, n int, seed uint64) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range g {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			buf := make([]byte, bsize)
			nb := d.NBlock()
			for i := w; i < n; i += g {
				lba := r.Int64N(nb)
				var err error
				if op == "write" {
					buf[0] = byte(i)
					err = d.WriteBlock(buf, lba)
				} else {
					err = d.ReadBlock(buf, lba)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// runBench runs b.N random-block operations split over g goroutines and
// returns the time per operation in ns.
func runBench(b *testing.B, d blockDev, op string, g, bsize int) float64 {
	b.SetBytes(int64(bsize))
	n := d.NBlock()
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range g {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 99))
			buf := make([]byte, bsize)
			for i := w; i < b.N; i += g {
				lba := r.Int64N(n)
				var err error
				if op == "write" {
					buf[0] = byte(i)
					err = d.WriteBlock(buf, lba)
				} else {
					err = d.ReadBlock(buf, lba)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}
