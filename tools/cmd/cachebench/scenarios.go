package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const keySize = 16

// key returns the 16-byte key of id.
func key(prefix byte, id uint64) string {
	var b [keySize]byte
	b[0] = prefix
	copy(b[1:8], "-------")
	binary.BigEndian.PutUint64(b[8:], id)
	return string(b[:])
}

// values holds value sizes uniform in [v/2, 3v/2), so no cache gains from
// one size fitting its allocation unit, and the bytes to copy from.
type values struct {
	sizes []int
	data  []byte
}

func newValues(v int) values {
	r := rand.New(rand.NewPCG(5, 6))
	vs := values{sizes: make([]int, 4096), data: make([]byte, 2*v)}
	for i := range vs.sizes {
		vs.sizes[i] = v/2 + r.IntN(v)
	}
	for i := range vs.data {
		vs.data[i] = byte(i)
	}
	return vs
}

func (vs values) of(id uint64) []byte { return vs.data[:vs.sizes[id%uint64(len(vs.sizes))]] }

// fill puts keys prefix-0..n-1.
func fill(c cache, prefix byte, n int, vs values) {
	for i := range uint64(n) {
		c.put(key(prefix, i), vs.of(i))
	}
	settle(c)
}

type caches []cache

func (cs caches) close() {
	for _, c := range cs {
		if c != nil {
			c.close()
		}
	}
}

func openAll(cfg config, dir string, size int64) (caches, error) {
	cs := make(caches, len(cacheNames))
	for i, name := range cacheNames {
		c, err := newCache(name, dir, size, cfg.value+keySize)
		if err != nil {
			cs.close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cs[i] = c
	}
	return cs, nil
}

var putSeq atomic.Uint64 // key ids of puts, unique over the run

// processCPU is the CPU time of the whole process, user and system: the
// workers, the cache's own goroutines (ristretto applies its policy in the
// background) and the garbage collector.
func processCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs op on c from g goroutines for d and returns operations per
// second of wall time and per second of the process's CPU time: the CPU
// clock is blind to other processes loading the machine, the wall clock
// sees lock waits.
func measure(c cache, op string, g int, d time.Duration, keys []string, vs values) (wall, cpu float64) {
	var total atomic.Int64
	var wg sync.WaitGroup
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	for w := range g {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			buf := make([]byte, len(vs.data))
			var kb [keySize]byte
			copy(kb[:], key('p', 0))
			base := putSeq.Add(1) << 32
			n := int64(0)
			for ; ; n++ {
				if n%256 == 0 && time.Now().After(deadline) {
					break
				}
				switch op {
				case "get":
					c.get(keys[r.IntN(len(keys))], buf)
				case "put":
					// A key the cache has never seen, in a reused
					// buffer: each cache copies or hashes it.
					id := base + uint64(n)
					binary.BigEndian.PutUint64(kb[8:], id)
					c.put(unsafe.String(&kb[0], keySize), vs.of(id))
				}
			}
			total.Add(n)
		})
	}
	wg.Wait()
	ops := float64(total.Load())
	return ops / time.Since(start).Seconds(), ops / (processCPU() - cpu0).Seconds()
}

// summary is the median of xs and their range.
func summary(xs []float64) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf("%6.2f [%.2f-%.2f]", s[len(s)/2], s[0], s[len(s)-1])
}

func throughput(ctx context.Context, cfg config, dir string, w io.Writer) error {
	cs, err := openAll(cfg, dir, cfg.size)
	if err != nil {
		return err
	}
	defer cs.close()
	vs := newValues(cfg.value)
	// Half the cache: every get hits in every cache.
	n := int(cfg.size / 2 / int64(cfg.value+keySize))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = key('g', uint64(i))
	}
	fmt.Fprintf(w, "\nthroughput, median [range] of per-repetition ratios of ops/s (above 1: vmemcache faster),\n"+
		"by the process's CPU clock and by the wall clock; %d keys for gets\n", n)
	fmt.Fprintf(w, "%-4s %7s  %-22s %-22s %-22s %-22s %s\n", "op", "threads", "vmem/bigcache CPU", "vmem/ristretto CPU",
		"vmem/bigcache wall", "vmem/ristretto wall", "get hits (vmem big rist)")
	for _, c := range cs {
		fill(c, 'g', n, vs)
	}
	hits := make([]float64, len(cs))
	buf := make([]byte, len(vs.data))
	for i, c := range cs {
		h := 0
		for _, k := range keys {
			if c.get(k, buf) {
				h++
			}
		}
		hits[i] = float64(h) / float64(n)
	}
	for _, op := range []string{"get", "put"} {
		for _, g := range cfg.threads {
			wall := make([][]float64, len(cs))
			cpu := make([][]float64, len(cs))
			for rep := range cfg.reps {
				for j := range cs {
					if err := ctx.Err(); err != nil {
						return err
					}
					i := (rep + j) % len(cs) // alternate who goes first
					wr, cr := measure(cs[i], op, g, cfg.duration, keys, vs)
					wall[i] = append(wall[i], wr)
					cpu[i] = append(cpu[i], cr)
				}
			}
			var cb, cr, wb, wr []float64
			for rep := range cfg.reps {
				cb = append(cb, cpu[0][rep]/cpu[1][rep])
				cr = append(cr, cpu[0][rep]/cpu[2][rep])
				wb = append(wb, wall[0][rep]/wall[1][rep])
				wr = append(wr, wall[0][rep]/wall[2][rep])
			}
			extra := ""
			if op == "get" {
				extra = fmt.Sprintf("%.3f %.3f %.3f", hits[0], hits[1], hits[2])
			}
			fmt.Fprintf(w, "%-4s %7d  %-22s %-22s %-22s %-22s %s\n", op, g, summary(cb), summary(cr), summary(wb), summary(wr), extra)
		}
	}
	return nil
}

// hitRatio runs one Zipf sequence of gets (a miss puts the key) on each
// cache, 10 keys for each that fits, and reports the hits after a warm-up.
func hitRatio(ctx context.Context, cfg config, dir string, w io.Writer) error {
	fits := cfg.size / int64(cfg.value+keySize)
	nkeys := uint64(10 * fits)
	ops := 20 * int(fits)
	vs := newValues(cfg.value)
	fmt.Fprintf(w, "\nZipf (s=1.01) hit ratio, %d keys, %d gets (the first quarter warms up), a miss puts\n", nkeys, ops)
	buf := make([]byte, len(vs.data))
	for _, name := range cacheNames {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := newCache(name, dir, cfg.size, cfg.value+keySize)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		z := rand.NewZipf(rand.New(rand.NewPCG(11, 12)), 1.01, 1, nkeys-1)
		hits, gets := 0, 0
		for i := range ops {
			id := z.Uint64()
			k := key('z', id)
			hit := c.get(k, buf)
			if !hit {
				c.put(k, vs.of(id))
			}
			if i >= ops/4 {
				gets++
				if hit {
					hits++
				}
			}
		}
		c.close()
		fmt.Fprintf(w, "%-10s %.4f\n", name, float64(hits)/float64(gets))
	}
	return nil
}

var gcCPU = []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}

func gcSeconds() float64 {
	metrics.Read(gcCPU)
	return gcCPU[0].Value.Float64()
}

// heap fills each cache in turn with cfg.heapSize bytes and reports the Go
// heap it holds and what the garbage collector spends on it.
func heap(ctx context.Context, cfg config, dir string, w io.Writer) error {
	vs := newValues(cfg.value)
	n := int(cfg.heapSize / int64(cfg.value+keySize))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = key('h', uint64(i))
	}
	fmt.Fprintf(w, "\nGo heap with %d MiB cached (%d entries put); GC during %v of gets and puts (1 goroutine)\n",
		cfg.heapSize>>20, n, time.Duration(cfg.reps)*cfg.duration)
	fmt.Fprintf(w, "%-10s %10s %12s %9s %12s %11s\n", "cache", "heap MiB", "forced GC ms", "GC cycles", "GC pauses µs", "GC CPU ms")
	var ms runtime.MemStats
	for _, name := range cacheNames {
		if err := ctx.Err(); err != nil {
			return err
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		c, err := newCache(name, dir, cfg.heapSize, cfg.value+keySize)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for i, k := range keys {
			c.put(k, vs.of(uint64(i)))
		}
		settle(c)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		held := int64(ms.HeapAlloc) - int64(before)
		var forced []float64
		for range 5 {
			t := time.Now()
			runtime.GC()
			forced = append(forced, float64(time.Since(t).Microseconds())/1000)
		}
		slices.Sort(forced)
		runtime.ReadMemStats(&ms)
		cycles, pauses, cpu := ms.NumGC, ms.PauseTotalNs, gcSeconds()
		r := rand.New(rand.NewPCG(1, 1))
		buf := make([]byte, len(vs.data))
		deadline := time.Now().Add(time.Duration(cfg.reps) * cfg.duration)
		for i := 0; ; i++ {
			if i%256 == 0 && time.Now().After(deadline) {
				break
			}
			if i%2 == 0 {
				c.get(keys[r.IntN(n)], buf)
			} else {
				id := uint64(n + i)
				c.put(key('h', id), vs.of(id))
			}
		}
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(w, "%-10s %10.1f %12.2f %9d %12.0f %11.1f\n", name, float64(held)/(1<<20), forced[len(forced)/2],
			ms.NumGC-cycles, float64(ms.PauseTotalNs-pauses)/1000, (gcSeconds()-cpu)*1000)
		c.close()
	}
	return nil
}
