// Command pmembench measures gopmdk against C PMDK on the scenarios of
// PMDK's pmembench: memcpy-persist and memset-persist at sizes from 64 B to
// 2 MiB, persist latency of dirtied ranges, log appends and walks, and
// random block reads and writes of a blk pool. With the build tag cpeer
// (and Debian's libpmem, libpmemlog, libpmemblk installed) each scenario
// also runs against C PMDK in the same process, alternating Go and C
// repetitions, and the table shows the Go/C ratios; copy scenarios also
// show the memory write bandwidth (hal's non-temporal stores with no
// flush), the physical limit.
//
// Every repetition is timed by two clocks, and both ratios are shown side
// by side, first the steadier one for the row: the CPU clock with one
// thread, the wall clock where threads contend. A ratio whose repetitions
// spread beyond ±20% is marked ~ (inside the noise). Each scenario shows
// only the columns that mean something for it (no MB/s for a walk, the
// memory limit only for copies). SIGINT and SIGTERM stop the run and
// remove its pool directory; a -run pattern that selects nothing is an
// error. The two clocks are the wall clock (elapsed time: what a user waits, including time
// threads spend parked on each other's locks) and the CPU clock (the worker
// threads' CPU time: steady on a busy machine, blind to that waiting). With
// -threads above 1 the gap between the two shows the contention, and the
// parked columns measure it: the share of elapsed time a worker thread was
// neither on a CPU nor waiting for one (Linux's per-thread runqueue time),
// that is, parked on a lock, whatever else loads the machine.
//
// -svg FILE also draws the Go/C ratios of the run as an SVG chart: per
// scenario, size and thread count the median of the per-repetition ratios
// of each clock with a whisker from their smallest to their largest, parity
// and the goals.
//
// Usage:
//
//	pmembench [-run REGEXP] [-sizes 64,4K,2M] [-threads 1,2] [-reps N]
//	          [-duration D] [-dir DIR] [-mode forced-pmem|page-cache] [-json] [-list]
//	          [-no-c] [-svg FILE] [-cpuprofile FILE]
//
// For example: go run -tags cpeer ./tools/cmd/pmembench -threads 1,2 -svg docs/pmembench.svg
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/gopmdk/pmdk/tools/internal/bench"
	"github.com/gopmdk/pmdk/tools/internal/cpeer"
)

func main() {
	// SIGINT and SIGTERM stop the run, which removes its pool directory
	// (in /dev/shm, that is RAM) before the exit.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil // before stop, which cancels ctx
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pmembench:", err)
		if interrupted {
			os.Exit(130) // as a shell reports a SIGINT
		}
		os.Exit(1)
	}
}

// run parses args and runs the benchmark, the table or JSON lines to
// stdout; in JSON mode the machine description goes to stderr. It stops
// when ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pmembench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		runRE    = fs.String("run", "", "run only the scenarios matching this regular expression")
		sizes    = fs.String("sizes", "", "operation sizes, comma-separated, K/M/G suffixes (default: each scenario's)")
		threads  = fs.String("threads", "1", "thread counts, comma-separated")
		reps     = fs.Int("reps", 5, "repetitions per side")
		duration = fs.Duration("duration", 200*time.Millisecond, "duration of one repetition of one side")
		dir      = fs.String("dir", "", "directory for pool files (default /dev/shm, else the temp dir)")
		mode     = fs.String("mode", string(bench.ModeForcedPmem), "forced-pmem (PMEM_IS_PMEM_FORCE=1: CPU flushes) or page-cache (msync)")
		asJSON   = fs.Bool("json", false, "one JSON object per row on stdout; the machine description on stderr")
		list     = fs.Bool("list", false, "list the scenarios and exit")
		noPeer   = fs.Bool("no-c", false, "skip the C peer even when it is built in")
		svg      = fs.String("svg", "", "also write an SVG chart of the Go/C ratios to this file (needs the C peer)")
		cpuProf  = fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *list {
		for _, s := range bench.Scenarios() {
			var sizes []string
			for _, n := range s.Sizes {
				sizes = append(sizes, bench.FormatSize(n))
			}
			fmt.Fprintf(stdout, "%-15s %-16s %s\n", s.Name, strings.Join(sizes, ","), s.What)
		}
		return nil
	}
	cfg := bench.Config{Reps: *reps, Duration: *duration, Dir: *dir, NoPeer: *noPeer}
	var err error
	if *runRE != "" {
		if cfg.Run, err = regexp.Compile(*runRE); err != nil {
			return fmt.Errorf("-run: %w", err)
		}
	}
	if *sizes != "" {
		if cfg.Sizes, err = bench.ParseSizes(*sizes); err != nil {
			return err
		}
	}
	if cfg.Threads, err = bench.ParseThreads(*threads); err != nil {
		return err
	}
	if cfg.Mode, err = bench.ParseMode(*mode); err != nil {
		return err
	}
	if *reps <= 0 || *duration <= 0 {
		return fmt.Errorf("-reps and -duration must be positive")
	}
	if *svg != "" && (*noPeer || !cpeer.Available()) {
		return fmt.Errorf("-svg charts Go/C ratios: it needs the C peer (build with -tags cpeer, without -no-c)")
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep := bench.NewTable(stdout)
	if *asJSON {
		rep = bench.NewJSON(stdout, stderr)
	}
	if *svg == "" {
		return bench.Run(ctx, cfg, rep)
	}
	rec := &recorder{Reporter: rep}
	if err := bench.Run(ctx, cfg, rec); err != nil {
		return err
	}
	return writeSVG(*svg, rec.machine, rec.rows)
}

// recorder passes the report on and keeps it for the chart.
type recorder struct {
	bench.Reporter
	machine bench.Machine
	rows    []bench.Result
}

func (r *recorder) Machine(m bench.Machine) error {
	r.machine = m
	return r.Reporter.Machine(m)
}

func (r *recorder) Row(res bench.Result) error {
	r.rows = append(r.rows, res)
	return r.Reporter.Row(res)
}

func writeSVG(path string, m bench.Machine, rows []bench.Result) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return bench.WriteSVG(f, m, rows)
}
