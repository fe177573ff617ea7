package bench

import (
	"fmt"
	"path/filepath"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/cobj"
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

// scenario is one benchmark of the pmembench family. To add one, append
// to scenarios: a setup that fills row.goW (and row.cW with the C peer) with
// one worker per thread, and the default sizes.
type scenario struct {
	name    string
	what    string  // one line for -list
	sizes   []int   // default sizes
	minSize int     // sizes below it are skipped (blk: its smallest block)
	goal    float64 // the Go/C ratio aimed at; 0: none (parity is always drawn)
	// noBytes: an operation moves no bytes (a walk hands out pointers
	// into the pool), so the row has no MB/s.
	noBytes bool
	setup   func(e *env, r *row) error
}

var copySizes = []int{64, 256, 4 << 10, 64 << 10, 2 << 20}

// blkGoal is issue 11's aim for blk: 1.2x C for reads and writes at 512 B
// and 4 KiB, with one goroutine and with two.
const blkGoal = 1.2

// objGoal is issue 13's aim for obj's atomic allocation: 1.5x C.
const objGoal = 1.5

// scenarios lists every scenario in the order they run.
var scenarios = []scenario{
	{name: "memcpy-persist", what: "pmem_memcpy_persist vs Map.Memcpy",
		sizes: copySizes, minSize: 1, setup: memScenario(cpeer.OpMemcpyPersist)},
	{name: "memset-persist", what: "pmem_memset_persist vs Map.Memset",
		sizes: copySizes, minSize: 1, setup: memScenario(cpeer.OpMemsetPersist)},
	{name: "persist", what: "dirty size bytes with memcpy, then pmem_persist vs Map.Persist",
		sizes: []int{64, 4 << 10}, minSize: 1, setup: memScenario(cpeer.OpPersist)},
	{name: "log-append", what: "appends of size bytes, rewinding when full: pmemlog_append vs log.Log.Append",
		sizes: logSizes, minSize: 1, setup: logAppend},
	{name: "log-walk", what: "chunks of size bytes of a full log: pmemlog_walk vs log.Log.Walk",
		sizes: logSizes, minSize: 1, noBytes: true, setup: logWalk},
	{name: "blk-write", what: "random block writes: pmemblk_write vs blk.Pool.WriteBlock",
		sizes: blkSizes, minSize: blk.MinBlockSize, goal: blkGoal, setup: blkScenario(true)},
	{name: "blk-read", what: "random block reads of a filled pool: pmemblk_read vs blk.Pool.ReadBlock",
		sizes: blkSizes, minSize: blk.MinBlockSize, goal: blkGoal, setup: blkScenario(false)},
	{name: "obj-alloc-free", what: "atomic alloc and free of size bytes: pmemobj_alloc+pmemobj_free vs obj.Pool.AllocTo+FreeOID",
		sizes: objSizes, minSize: 1, goal: objGoal, setup: objAllocFree},
	{name: "obj-root", what: "root object lookup: pmemobj_root vs obj.Pool.Root",
		sizes: []int{64}, minSize: 1, setup: objRoot},
	{name: "obj-tx-empty", what: "an empty transaction: TX_BEGIN {} TX_END vs obj.Pool.Tx",
		sizes: []int{64}, minSize: 1, goal: 2, setup: objTx(cobj.TxEmpty)},
	{name: "obj-tx-alloc-free", what: "a transaction allocating and freeing size bytes: pmemobj_tx_alloc+tx_free vs Tx.Alloc+Free",
		sizes: []int{64}, minSize: 1, goal: objGoal, setup: objTx(cobj.TxAllocFree)},
	{name: "obj-tx-add-range", what: "a transaction snapshotting size bytes and writing them: pmemobj_tx_add_range vs Tx.AddRangeDirect",
		sizes: []int{64, 4 << 10}, minSize: 1, goal: objGoal, setup: objTx(cobj.TxAddRange)},
}

// ScenarioInfo describes one scenario.
type ScenarioInfo struct {
	Name    string
	What    string  // one line on what it measures
	Sizes   []int   // default sizes in bytes
	MinSize int     // smaller sizes given with Config.Sizes are skipped
	Goal    float64 // the Go/C ratio aimed at; 0: none
}

// Scenarios lists the scenarios in the order they run.
func Scenarios() []ScenarioInfo {
	var s []ScenarioInfo
	for _, sc := range scenarios {
		s = append(s, ScenarioInfo{sc.name, sc.what, sc.sizes, sc.minSize, sc.goal})
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
