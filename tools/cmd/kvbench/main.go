// Command kvbench is pmemkv-bench for package kv: db_bench's workloads
// (fillseq, fillrandom, overwrite, readrandom, readseq, deleterandom) on
// kv's engines and, in the same run, on the stores a Go user would pick
// instead: bbolt (v1.5, one fsynced transaction per write, NoSync false)
// and pebble (v1.1, every write synced) beside the durable engines (cmap,
// radix, stree), and Go's map with a sync.RWMutex beside the volatile ones
// (vsmap, vcmap), all in one directory (default /dev/shm).
//
// Each repetition runs every engine in turn (so drift of the machine hits
// them alike): a fresh store, fillseq, overwrite, readrandom, readseq,
// deleterandom, then a fresh store for fillrandom. The table gives each
// engine's median ops/s and the median over repetitions of the
// per-repetition ratios engine/peer (above 1: kv faster). -json writes
// one JSON object per line instead.
//
// The durable engines' pools are mapped as forced pmem
// (PMEM_IS_PMEM_FORCE=1: CPU flushes, no msync) unless -force-pmem=false;
// on a page-cache file that is emulation: the data is as durable as the
// page cache, as bbolt's and pebble's fsync on tmpfs.
//
// Usage:
//
//	kvbench [-engines cmap,radix,stree,vsmap,vcmap,bbolt,pebble,gomap]
//	        [-benchmarks fillseq,...] [-num 50000] [-value_size 64]
//	        [-key_size 16] [-threads 1] [-reps 3] [-dir DIR] [-json]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"

	"github.com/gopmdk/pmdk/tools/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cfg := defaultConfig()
	engines := flag.String("engines", strings.Join(cfg.engines, ","), "engines and peers to run")
	benchmarks := flag.String("benchmarks", strings.Join(cfg.benchmarks, ","), "workloads to run")
	flag.IntVar(&cfg.num, "num", cfg.num, "keys per workload")
	values := flag.String("value_size", "64", "value sizes in bytes (list, K/M suffix)")
	flag.IntVar(&cfg.keySize, "key_size", cfg.keySize, "key size in bytes (at least 8)")
	threads := flag.String("threads", "1", "goroutine counts (list)")
	flag.IntVar(&cfg.reps, "reps", cfg.reps, "repetitions (engines alternating)")
	flag.StringVar(&cfg.dir, "dir", cfg.dir, "directory for the stores' files")
	flag.BoolVar(&cfg.json, "json", false, "write JSON lines")
	flag.BoolVar(&cfg.forcePmem, "force-pmem", true, "map kv's pool files as forced pmem (PMEM_IS_PMEM_FORCE=1)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	err := cfg.parse(*engines, *benchmarks, *values, *threads)
	if err == nil && *cpuProfile != "" {
		var stopProfile func() error
		if stopProfile, err = startCPUProfile(*cpuProfile); err == nil {
			defer func() {
				if perr := stopProfile(); perr != nil {
					fmt.Fprintln(os.Stderr, "kvbench:", perr)
				}
			}()
		}
	}
	if err == nil {
		err = run(ctx, cfg, os.Stdout)
	}
	stop()
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "kvbench: interrupted")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "kvbench:", err)
		os.Exit(1)
	}
}

// startCPUProfile starts a CPU profile into file path; the func it
// returns stops it and closes the file.
func startCPUProfile(path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}

type config struct {
	engines, benchmarks []string
	num, keySize        int
	values, threads     []int
	reps                int
	dir                 string
	json, forcePmem     bool
}

var allEngines = []string{"cmap", "radix", "stree", "vsmap", "vcmap", "blackhole", peerBolt, peerPebble, peerMap}

var allBenchmarks = []string{"fillseq", "fillrandom", "overwrite", "readrandom", "readseq", "deleterandom"}

func defaultConfig() config {
	dir := os.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		dir = "/dev/shm"
	}
	return config{
		engines:    []string{"cmap", "radix", "stree", "vsmap", "vcmap", peerBolt, peerPebble, peerMap},
		benchmarks: allBenchmarks, num: 50000, keySize: 16, values: []int{64}, threads: []int{1},
		reps: 3, dir: dir, forcePmem: true,
	}
}

func (c *config) parse(engines, benchmarks, values, threads string) error {
	c.engines = strings.Split(engines, ",")
	for _, e := range c.engines {
		if !slices.Contains(allEngines, e) {
			return fmt.Errorf("unknown engine %q (have %s)", e, strings.Join(allEngines, ","))
		}
	}
	c.benchmarks = strings.Split(benchmarks, ",")
	for _, b := range c.benchmarks {
		if !slices.Contains(allBenchmarks, b) {
			return fmt.Errorf("unknown benchmark %q (have %s)", b, strings.Join(allBenchmarks, ","))
		}
	}
	var err error
	if c.values, err = bench.ParseSizes(values); err != nil {
		return err
	}
	if c.threads, err = bench.ParseThreads(threads); err != nil {
		return err
	}
	if c.num < 1 || c.reps < 1 || c.keySize < 8 {
		return fmt.Errorf("-num and -reps must be positive, -key_size at least 8")
	}
	return nil
}
