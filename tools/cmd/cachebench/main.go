// Command cachebench measures vmemcache (package vmem/vmemcache) against
// the Go caches a user would pick instead, bigcache (v3) and ristretto
// (v2), in one run:
//
//   - get and put throughput at each -threads count: gets of keys all in
//     the cache, puts of new keys into a full cache (so with evictions);
//     repetitions alternate the caches, and the table shows the median
//     over repetitions of the per-repetition ratios vmemcache/bigcache and
//     vmemcache/ristretto (above 1: vmemcache is faster), with their range,
//     by the process's CPU time (steady on a loaded machine; it includes
//     the caches' background goroutines and the garbage collector) and by
//     the wall clock; every get delivers the value into the caller's
//     buffer (vmemcache copies into it, bigcache returns a new copy,
//     ristretto's slice is copied, which is what reading it costs);
//   - the hit ratio of a Zipf workload (math/rand/v2 Zipf; a miss puts the
//     key) on a cache holding a tenth of the keys;
//   - with -heapsize bytes cached (one cache at a time): the Go heap
//     (HeapAlloc after a collection) minus the one before building the
//     cache, the time of a forced collection, and the GC cycles, pause
//     total and GC CPU of a stretch of gets and puts.
//
// vmemcache's file is made in a fresh directory under -dir (default
// /dev/shm), removed on every exit, SIGINT and SIGTERM included (exit
// 130); the file itself is unlinked from its creation.
//
// Usage:
//
//	cachebench [-size 64M] [-heapsize 256M] [-value 1000] [-threads 1,2]
//	           [-reps 5] [-duration 300ms] [-dir DIR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cfg := defaultConfig()
	flag.Func("size", "cache size for throughput and hit ratio (bytes, K/M/G suffix; default 64M)", sizeFlag(&cfg.size))
	flag.Func("heapsize", "bytes cached for the heap figures (default 256M)", sizeFlag(&cfg.heapSize))
	flag.IntVar(&cfg.value, "value", cfg.value, "value size in bytes")
	threads := flag.String("threads", "1,2", "goroutine counts")
	flag.IntVar(&cfg.reps, "reps", cfg.reps, "repetitions per scenario (alternating caches)")
	flag.DurationVar(&cfg.duration, "duration", cfg.duration, "time of one repetition of one cache")
	flag.StringVar(&cfg.dir, "dir", cfg.dir, "directory for vmemcache's file")
	flag.Parse()
	var err error
	if cfg.threads, err = parseInts(*threads); err != nil {
		fmt.Fprintln(os.Stderr, "cachebench:", err)
		os.Exit(2)
	}
	err = run(ctx, cfg, os.Stdout)
	stop()
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "cachebench: interrupted")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "cachebench:", err)
		os.Exit(1)
	}
}

type config struct {
	size, heapSize int64
	value          int
	threads        []int
	reps           int
	duration       time.Duration
	dir            string
}

func defaultConfig() config {
	dir := os.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		dir = "/dev/shm"
	}
	return config{size: 64 << 20, heapSize: 256 << 20, value: 1000, threads: []int{1, 2},
		reps: 5, duration: 300 * time.Millisecond, dir: dir}
}

func sizeFlag(p *int64) func(string) error {
	return func(s string) error {
		mult := int64(1)
		switch {
		case strings.HasSuffix(s, "K"):
			mult = 1 << 10
		case strings.HasSuffix(s, "M"):
			mult = 1 << 20
		case strings.HasSuffix(s, "G"):
			mult = 1 << 30
		}
		n, err := strconv.ParseInt(strings.TrimRight(s, "KMG"), 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("bad size %q", s)
		}
		*p = n * mult
		return nil
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// run makes the work directory, runs every scenario and removes it.
func run(ctx context.Context, cfg config, w io.Writer) error {
	dir, err := os.MkdirTemp(cfg.dir, "cachebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(w, "cachebench: size %d MiB, value %d B, %d reps of %v; heap figures at %d MiB cached\n",
		cfg.size>>20, cfg.value, cfg.reps, cfg.duration, cfg.heapSize>>20)
	if err := throughput(ctx, cfg, dir, w); err != nil {
		return err
	}
	if err := hitRatio(ctx, cfg, dir, w); err != nil {
		return err
	}
	return heap(ctx, cfg, dir, w)
}
