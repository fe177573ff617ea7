package bench

import (
	"fmt"
	"path/filepath"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/tools/internal/cpeer"
)

// worker does about n operations numbered from first on one thread and
// returns how many it did (at least one).
type worker func(first, n uint64) (uint64, error)

// row is what one (scenario, size, threads) runs: the Go workers, the C
// peer's (nil without one) and the reference loops (nil where they do not
// apply), one worker per thread each.
type row struct {
	goW, cW      []worker
	limitW, cpyW []worker
	closers      []func() error
}

func (r *row) close() error {
	var first error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// env is what a scenario's setup gets.
type env struct {
	dir     string
	mode    Mode
	size    int
	threads int
	region  int // bytes per thread, a multiple of the stride
	slots   cpeer.Slots
	src     []byte // size bytes of pattern
	peer    bool
	name    string
}

// scenario is one benchmark of the pmembench family.
type scenario struct {
	name    string
	sizes   []int // default sizes
	what    string
	setup   func(e *env, r *row) error
	minSize int // sizes below it are skipped (blk: 512)
}

var copySizes = []int{64, 256, 4 << 10, 64 << 10, 2 << 20}

// scenarios lists every scenario in the order they run.
var scenarios = []scenario{
	{"memcpy-persist", copySizes, "pmem_memcpy_persist vs Map.Memcpy", memScenario(cpeer.OpMemcpyPersist), 1},
	{"memset-persist", copySizes, "pmem_memset_persist vs Map.Memset", memScenario(cpeer.OpMemsetPersist), 1},
	{"persist", []int{64, 4 << 10}, "dirty size bytes with memcpy, then pmem_persist vs Map.Persist", memScenario(cpeer.OpPersist), 1},
	{"log-append", logSizes, "appends of size bytes, rewinding when full: pmemlog_append vs log.Log.Append", logAppend, 1},
	{"log-walk", logSizes, "chunks of size bytes of a full log: pmemlog_walk vs log.Log.Walk", logWalk, 1},
	{"blk-write", blkSizes, "random block writes: pmemblk_write vs blk.Pool.WriteBlock", blkScenario(true), blk.MinBlockSize},
	{"blk-read", blkSizes, "random block reads of a filled pool: pmemblk_read vs blk.Pool.ReadBlock", blkScenario(false), blk.MinBlockSize},
}

// ScenarioInfo describes one scenario.
type ScenarioInfo struct {
	Name    string
	What    string // one line on what it measures
	Sizes   []int  // default sizes in bytes
	MinSize int    // smaller sizes given with Config.Sizes are skipped
}

// Scenarios lists the scenarios in the order they run.
func Scenarios() []ScenarioInfo {
	var s []ScenarioInfo
	for _, sc := range scenarios {
		s = append(s, ScenarioInfo{sc.name, sc.what, sc.sizes, sc.minSize})
	}
	return s
}

// memScenario builds the setup of the libpmem-style scenarios: each thread
// owns region bytes of the pool and walks its slots.
func memScenario(op cpeer.Op) func(e *env, r *row) error {
	return func(e *env, r *row) error {
		poolSize := int64(e.threads) * int64(e.region)
		m, err := core.MapFile(filepath.Join(e.dir, e.name+".go.pool"), poolSize, core.FileCreate|core.FileExcl, 0o600)
		if err != nil {
			return err
		}
		r.closers = append(r.closers, m.Close)
		mem := m.Bytes()
		prefault(mem)
		for t := range e.threads {
			part := mem[t*e.region : (t+1)*e.region]
			r.goW = append(r.goW, goWorker(op, m, part, e))
			if op != cpeer.OpPersist && haveNT {
				r.limitW = append(r.limitW, limitWorker(op, part, e))
				r.cpyW = append(r.cpyW, copyWorker(op, part, e))
			}
		}
		if !e.peer {
			return nil
		}
		cm, err := cpeer.MapFile(filepath.Join(e.dir, e.name+".c.pool"), poolSize, e.mode == ModeForcedPmem)
		if err != nil {
			return err
		}
		r.closers = append(r.closers, cm.Close)
		prefault(cm.Bytes())
		for t := range e.threads {
			base := t * e.region
			r.cW = append(r.cW, func(first, n uint64) (uint64, error) {
				return n, cm.Run(op, base, e.slots, e.src, e.size, first, n)
			})
		}
		return nil
	}
}

// prefault writes to every page of mem so neither side pays the first-touch
// page faults (much dearer than the stores in a VM) inside the measurement.
func prefault(mem []byte) {
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 0
	}
}

func goWorker(op cpeer.Op, m *core.Map, part []byte, e *env) worker {
	stride, count, size, src := uint64(e.slots.Stride), uint64(e.slots.Count), e.size, e.src
	switch op {
	case cpeer.OpMemcpyPersist:
		return func(first, n uint64) (uint64, error) {
			for i := first; i < first+n; i++ {
				off := (i % count) * stride
				m.Memcpy(part[off:off+uint64(size)], src, 0)
			}
			return n, nil
		}
	case cpeer.OpMemsetPersist:
		return func(first, n uint64) (uint64, error) {
			for i := first; i < first+n; i++ {
				off := (i % count) * stride
				m.Memset(part[off:off+uint64(size)], byte(i), 0)
			}
			return n, nil
		}
	case cpeer.OpPersist:
		return func(first, n uint64) (uint64, error) {
			for i := first; i < first+n; i++ {
				off := (i % count) * stride
				dst := part[off : off+uint64(size)]
				copy(dst, src)
				m.Persist(dst)
			}
			return n, nil
		}
	}
	panic(fmt.Sprintf("bench: unknown op %d", op))
}

// limitWorker stores with non-temporal stores and no flush: the memory
// write bandwidth. One fence per batch orders the stores before the clock.
func limitWorker(op cpeer.Op, part []byte, e *env) worker {
	stride, count, size, src := uint64(e.slots.Stride), uint64(e.slots.Count), e.size, e.src
	return func(first, n uint64) (uint64, error) {
		for i := first; i < first+n; i++ {
			off := (i % count) * stride
			if op == cpeer.OpMemsetPersist {
				ntFill(part[off:off+uint64(size)], byte(i))
			} else {
				ntCopy(part[off:off+uint64(size)], src)
			}
		}
		ntFence()
		return n, nil
	}
}

// copyWorker stores with the runtime's copy and clear, nothing persisted.
func copyWorker(op cpeer.Op, part []byte, e *env) worker {
	stride, count, size, src := uint64(e.slots.Stride), uint64(e.slots.Count), e.size, e.src
	return func(first, n uint64) (uint64, error) {
		for i := first; i < first+n; i++ {
			off := (i % count) * stride
			if op == cpeer.OpMemsetPersist {
				clear(part[off : off+uint64(size)])
			} else {
				copy(part[off:off+uint64(size)], src)
			}
		}
		return n, nil
	}
}
