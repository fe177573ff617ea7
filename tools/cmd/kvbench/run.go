package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gopmdk/pmdk/kv"
)

// result is one engine's figures for one workload, value size and thread
// count: ops/s of each repetition.
type result struct {
	Engine    string    `json:"engine"`
	Benchmark string    `json:"benchmark"`
	ValueSize int       `json:"value_size"`
	Threads   int       `json:"threads"`
	Num       int       `json:"num"`
	OpsPerSec []float64 `json:"ops_per_sec"`
	Median    float64   `json:"median_ops_per_sec"`
	// Ratios to each peer: median over repetitions of engine/peer.
	Ratios map[string]float64 `json:"ratios,omitempty"`
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.forcePmem {
		os.Setenv("PMEM_IS_PMEM_FORCE", "1")
	}
	dir, err := os.MkdirTemp(cfg.dir, "kvbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, vs := range cfg.values {
		for _, th := range cfg.threads {
			if !cfg.json {
				fmt.Fprintf(w, "kvbench: %d keys of %d B, values of %d B, %d goroutine(s), %d reps; median kops/s, and median of per-rep ratios to the peers (above 1: kv faster)\n",
					cfg.num, cfg.keySize, vs, th, cfg.reps)
			}
			res, err := runOne(ctx, cfg, dir, vs, th)
			if err != nil {
				return err
			}
			if err := report(w, cfg, res); err != nil {
				return err
			}
		}
	}
	return nil
}

// runOne runs every engine's repetitions for one value size and thread
// count.
func runOne(ctx context.Context, cfg config, dir string, valueSize, threads int) ([]*result, error) {
	keys := make([][]byte, cfg.num)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "%0*d", cfg.keySize, i)
	}
	rng := rand.New(rand.NewPCG(uint64(valueSize), uint64(threads)))
	perm := rng.Perm(cfg.num)
	value := make([]byte, valueSize)
	for i := range value {
		value[i] = byte(rng.IntN(256))
	}
	poolSize := int64(cfg.num)*int64(cfg.keySize+valueSize+256)*3 + 64<<20
	byName := map[string]*result{}
	var out []*result
	for _, e := range cfg.engines {
		for _, b := range cfg.benchmarks {
			r := &result{Engine: e, Benchmark: b, ValueSize: valueSize, Threads: threads, Num: cfg.num}
			byName[e+"/"+b] = r
			out = append(out, r)
		}
	}
	for rep := range cfg.reps {
		for _, e := range cfg.engines {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			d := filepath.Join(dir, fmt.Sprintf("%s-%d", e, rep))
			figs, err := chain(cfg, e, d, poolSize, keys, perm, value, threads)
			os.RemoveAll(d)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e, err)
			}
			for b, ops := range figs {
				if r := byName[e+"/"+b]; r != nil {
					r.OpsPerSec = append(r.OpsPerSec, ops)
				}
			}
		}
	}
	for _, r := range out {
		r.Median = median(r.OpsPerSec)
		if isPeer(r.Engine) {
			continue
		}
		for _, p := range peersOf(r.Engine) {
			pr := byName[p+"/"+r.Benchmark]
			if pr == nil || len(pr.OpsPerSec) != len(r.OpsPerSec) {
				continue
			}
			ratios := make([]float64, len(r.OpsPerSec))
			for i := range ratios {
				ratios[i] = r.OpsPerSec[i] / pr.OpsPerSec[i]
			}
			if r.Ratios == nil {
				r.Ratios = map[string]float64{}
			}
			r.Ratios[p] = median(ratios)
		}
	}
	return out, nil
}

func peersOf(engine string) []string {
	if durable(engine) {
		return []string{peerBolt, peerPebble}
	}
	return []string{peerMap}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// chain runs the workloads on fresh stores of engine in dir: fillseq,
// overwrite, readrandom, readseq, deleterandom on one, fillrandom on
// another. It returns ops/s by workload.
func chain(cfg config, engine, dir string, poolSize int64, keys [][]byte, perm []int, value []byte, threads int) (map[string]float64, error) {
	figs := map[string]float64{}
	want := func(b string) bool { return slices.Contains(cfg.benchmarks, b) }
	n := len(keys)
	timed := func(name string, ops int, fn func(i int) error) error {
		start := time.Now()
		if err := parallel(n, threads, fn); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		figs[name] = float64(ops) / time.Since(start).Seconds()
		return nil
	}
	if want("fillseq") || want("overwrite") || want("readrandom") || want("readseq") || want("deleterandom") {
		if err := os.MkdirAll(filepath.Join(dir, "a"), 0o700); err != nil {
			return nil, err
		}
		s, err := openStore(engine, filepath.Join(dir, "a"), poolSize)
		if err != nil {
			return nil, err
		}
		err = runChain(s, engine != kv.Blackhole, timed, want, keys, perm, value, threads)
		if cerr := s.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	if want("fillrandom") {
		if err := os.MkdirAll(filepath.Join(dir, "b"), 0o700); err != nil {
			return nil, err
		}
		s, err := openStore(engine, filepath.Join(dir, "b"), poolSize)
		if err != nil {
			return nil, err
		}
		err = timed("fillrandom", n, func(i int) error { return s.put(keys[perm[i]], value) })
		if cerr := s.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// runChain runs the workloads after fillseq on s; keeps is false for
// blackhole, whose reads find nothing.
func runChain(s store, keeps bool, timed func(string, int, func(int) error) error, want func(string) bool,
	keys [][]byte, perm []int, value []byte, threads int) error {
	n := len(keys)
	if err := timed("fillseq", n, func(i int) error { return s.put(keys[i], value) }); err != nil {
		return err
	}
	if want("overwrite") {
		if err := timed("overwrite", n, func(i int) error { return s.put(keys[perm[i]], value) }); err != nil {
			return err
		}
	}
	if want("readrandom") {
		bufs := make([][]byte, threads)
		for i := range bufs {
			bufs[i] = make([]byte, len(value))
		}
		if err := timed("readrandom", n, func(i int) error {
			m, err := s.get(keys[perm[i]], bufs[i%threads])
			if !keeps && errors.Is(err, kv.ErrNotFound) {
				return nil
			}
			if err == nil && m != len(value) {
				err = fmt.Errorf("value of %d bytes, want %d", m, len(value))
			}
			return err
		}); err != nil {
			return err
		}
	}
	if want("readseq") {
		seen := 0
		if err := timed("readseq", n, func(i int) error {
			if i != 0 {
				return nil // one scan, by the first goroutine
			}
			return s.scan(func(k, v []byte) { seen += len(v) / len(value) })
		}); err != nil {
			return err
		}
		if keeps && seen != n {
			return fmt.Errorf("readseq saw %d pairs, want %d", seen, n)
		}
	}
	if want("deleterandom") {
		if err := timed("deleterandom", n, func(i int) error { return s.del(keys[perm[i]]) }); err != nil {
			return err
		}
	}
	return nil
}

// parallel runs fn(i) for i in [0, n) on g goroutines, i going to
// goroutine i%g, and returns the first error.
func parallel(n, g int, fn func(i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, g)
	for t := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := t; i < n; i += g {
				if err := fn(i); err != nil {
					errs[t] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func report(w io.Writer, cfg config, res []*result) error {
	if cfg.json {
		enc := json.NewEncoder(w)
		for _, r := range res {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(res) == 0 {
		return nil
	}
	fmt.Fprintf(w, "%-13s %-10s %10s  %s\n", "benchmark", "engine", "kops/s", "ratios")
	for _, b := range cfg.benchmarks {
		for _, r := range res {
			if r.Benchmark != b {
				continue
			}
			ratios := ""
			for _, p := range peersOf(r.Engine) {
				if x, ok := r.Ratios[p]; ok {
					ratios += fmt.Sprintf("  /%s %.2f", p, x)
				}
			}
			fmt.Fprintf(w, "%-13s %-10s %10.1f%s\n", b, r.Engine, r.Median/1e3, ratios)
		}
	}
	return nil
}
