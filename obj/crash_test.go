package obj

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/layout"
)

// view returns a Map over m's memory and persist path whose Close leaves m
// open: a Pool on it can be closed without closing the simulated device.
func view(m *core.Map) *core.Map {
	return core.NewMemoryMap(m.Bytes(), m.Granularity(), m.Persister(), nil)
}

const crashPoolSize = 16 << 20

// crashRoot is the root object of the crash workloads: slots that name
// the objects the workload owns.
type crashRoot struct {
	Slots [6]OID
	Gen   uint64
}

// slotState is what a slot should hold: nothing, or an object of at least
// size bytes, of type typ, whose first byte is head, and whose last byte is
// too when tail is set.
type slotState struct {
	size int
	typ  uint64
	head byte
	tail bool
}

// crashOp is one step of a crash workload: do runs it on the pool; next
// returns the slot states it leaves, given those before it.
type crashOp struct {
	name string
	do   func(p *Pool, r *crashRoot) error
	next func(s [6]slotState) [6]slotState
}

// mark fills the first and last 64 bytes of an object with c, as a
// constructor: enough to tell objects apart without flushing megabytes on
// the simulated device.
func mark(c byte) func([]byte) error {
	return func(b []byte) error {
		n := min(64, len(b))
		for i := range n {
			b[i], b[len(b)-1-i] = c, c
		}
		return nil
	}
}

func setSlot(s [6]slotState, i int, v slotState) [6]slotState { s[i] = v; return s }

// crashOps covers every atomic operation: root creation and growth, run
// and huge allocations into pool-resident OIDs, resize to another class,
// frees of run and huge objects, a publication of reservations with the
// values that link them, and a deferred free.
func crashOps() []crashOp {
	return []crashOp{
		{"alloc-run", func(p *Pool, r *crashRoot) error {
			return p.AllocTo(&r.Slots[0], 100, 1, mark('a'))
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 0, slotState{100, 1, 'a', true}) }},
		{"alloc-huge", func(p *Pool, r *crashRoot) error {
			return p.AllocTo(&r.Slots[1], 2_100_000, 2, mark('b'))
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 1, slotState{2_100_000, 2, 'b', true}) }},
		{"zalloc", func(p *Pool, r *crashRoot) error {
			return p.ZallocTo(&r.Slots[2], 5000, 3)
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 2, slotState{5000, 3, 0, true}) }},
		{"realloc", func(p *Pool, r *crashRoot) error {
			return p.ReallocTo(&r.Slots[0], 1000, 4)
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 0, slotState{1000, 4, 'a', false}) }},
		{"free-huge", func(p *Pool, r *crashRoot) error {
			return p.FreeOID(&r.Slots[1])
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 1, slotState{}) }},
		{"publish", func(p *Pool, r *crashRoot) error {
			o3, a3, err := p.Reserve(64, 5)
			if err != nil {
				return err
			}
			mark('c')(a3.Bytes())
			o4, a4, err := p.Reserve(300_000, 6)
			if err != nil {
				return err
			}
			mark('d')(a4.Bytes())
			p.Flush(a3.Bytes()[:64])
			p.Flush(a3.Bytes()[len(a3.Bytes())-64:])
			p.Flush(a4.Bytes()[:64])
			p.Flush(a4.Bytes()[len(a4.Bytes())-64:])
			return p.Publish(a3, a4,
				p.SetValue(&r.Slots[3].PoolUUIDLo, o3.PoolUUIDLo), p.SetValue(&r.Slots[3].Off, o3.Off),
				p.SetValue(&r.Slots[4].PoolUUIDLo, o4.PoolUUIDLo), p.SetValue(&r.Slots[4].Off, o4.Off),
				p.SetValue(&r.Gen, 1))
		}, func(s [6]slotState) [6]slotState {
			s[3] = slotState{64, 5, 'c', true}
			s[4] = slotState{300_000, 6, 'd', true}
			return s
		}},
		{"defer-free", func(p *Pool, r *crashRoot) error {
			a, err := p.DeferFree(r.Slots[2])
			if err != nil {
				return err
			}
			return p.Publish(a, p.SetValue(&r.Slots[2].Off, 0), p.SetValue(&r.Slots[2].PoolUUIDLo, 0))
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 2, slotState{}) }},
		{"realloc-huge", func(p *Pool, r *crashRoot) error {
			return p.ReallocTo(&r.Slots[4], 2_200_000, 7)
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 4, slotState{2_200_000, 7, 'd', false}) }},
		{"free-run", func(p *Pool, r *crashRoot) error {
			return p.FreeOID(&r.Slots[3])
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 3, slotState{}) }},
		{"strdup", func(p *Pool, r *crashRoot) error {
			return p.StrdupTo(&r.Slots[5], "eeee", 8)
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 5, slotState{5, 8, 'e', false}) }},
	}
}

func rootOf(p *Pool) (*crashRoot, error) {
	oid, err := p.Root(int(unsafe.Sizeof(crashRoot{})))
	if err != nil {
		return nil, err
	}
	return PtrTo[crashRoot](oid).Get(p)
}

var crashOpts = &Options{Layout: "crash", arenas: 1}

// objWorkload is the crash workload of ops: Setup creates the pool and its
// root, Run applies ops, Check reopens each post-crash image (recovery),
// runs the heap checker, and demands the slot states of exactly the
// acknowledged ops, or those plus the one in flight, with no object
// allocated that no slot names (nothing leaked, nothing half-done).
func objWorkload(ops []crashOp) crashsim.Workload {
	states := [][6]slotState{{}}
	for _, o := range ops {
		states = append(states, o.next(states[len(states)-1]))
	}
	acked := make([]int, len(ops))
	return crashsim.Workload{
		Size: crashPoolSize,
		Setup: func(m *core.Map) error {
			p, err := CreateOnMap(view(m), crashOpts)
			if err != nil {
				return err
			}
			if _, err := rootOf(p); err != nil {
				return err
			}
			return p.Close()
		},
		Run: func(m *core.Map) error {
			dev := m.Persister().(*crashsim.Device)
			p, err := OpenOnMap(view(m), crashOpts)
			if err != nil {
				return err
			}
			r, err := rootOf(p)
			if err != nil {
				return err
			}
			for i, o := range ops {
				if err := o.do(p, r); err != nil {
					return fmt.Errorf("op %d (%s): %w", i, o.name, err)
				}
				acked[i] = dev.Fences()
			}
			return p.Close()
		},
		Recover: func(m *core.Map) error {
			p, err := OpenOnMap(view(m), crashOpts)
			if err != nil {
				return err
			}
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			done := 0
			for done < len(ops) && acked[done] < c.Point {
				done++
			}
			p, err := OpenOnMap(view(m), crashOpts)
			if err != nil {
				return fmt.Errorf("reopen after %d acknowledged ops: %w", done, err)
			}
			defer p.Close()
			if probs := p.Check(); len(probs) > 0 {
				return fmt.Errorf("after %d acknowledged ops: heap check: %w", done, errors.Join(probs...))
			}
			r, err := rootOf(p)
			if err != nil {
				return err
			}
			err = matchSlots(p, r, states[done])
			if err != nil && done < len(ops) {
				if err2 := matchSlots(p, r, states[done+1]); err2 == nil {
					err = nil
				} else {
					err = fmt.Errorf("neither before (%v) nor after (%v) op %d (%s)", err, err2, done, ops[done].name)
				}
			}
			if err != nil {
				return fmt.Errorf("after %d acknowledged ops: %w", done, err)
			}
			// The pool keeps working.
			oid, err := p.Alloc(200, 99, nil)
			if err != nil {
				return fmt.Errorf("alloc after recovery: %w", err)
			}
			return p.Free(oid)
		},
	}
}

// matchSlots checks that the slots hold exactly the objects of want, that
// those are the only objects of the pool, and that their contents are
// whole.
func matchSlots(p *Pool, r *crashRoot, want [6]slotState) error {
	var named []OID
	for i, s := range want {
		oid := r.Slots[i]
		if s.size == 0 {
			if !oid.IsNull() {
				return fmt.Errorf("slot %d holds %v, want null", i, oid)
			}
			continue
		}
		if oid.IsNull() || oid.PoolUUIDLo != p.UUIDLo() {
			return fmt.Errorf("slot %d holds %v, want an object", i, oid)
		}
		b := p.Bytes(oid)
		if len(b) < s.size {
			return fmt.Errorf("slot %d: object of %d bytes, want %d", i, len(b), s.size)
		}
		if tn, _ := p.TypeNum(oid); tn != s.typ {
			return fmt.Errorf("slot %d: type %d, want %d", i, tn, s.typ)
		}
		if b[0] != s.head || s.tail && b[len(b)-1] != s.head {
			return fmt.Errorf("slot %d: contents %q...%q, want %q (tail %v)", i, b[0], b[len(b)-1], s.head, s.tail)
		}
		named = append(named, oid)
	}
	all := slices.Collect(p.Objects())
	slices.SortFunc(all, cmpOID)
	slices.SortFunc(named, cmpOID)
	if !slices.Equal(all, named) {
		return fmt.Errorf("pool objects %v, slots name %v", all, named)
	}
	return nil
}

func cmpOID(a, b OID) int {
	switch {
	case a.Off < b.Off:
		return -1
	case a.Off > b.Off:
		return 1
	}
	return 0
}

var crashStrategies = []crashsim.Strategy{
	crashsim.Pessimistic, crashsim.Optimistic,
	crashsim.Random(1), crashsim.Random(2), crashsim.Exhaustive,
}

// TestCrashAtomicOps explores every crash point of the atomic API with
// every strategy, and crashes during the recovery of some images: the
// reopened pool always holds the objects of the acknowledged operations,
// possibly of the one in flight, never half of one, and passes the heap
// checker.
func TestCrashAtomicOps(t *testing.T) {
	o := crashsim.Options{Strategies: crashStrategies, ExhaustiveLimit: 16, RecoveryPoints: 2}
	if testing.Short() {
		o.MaxPoints = 12
	}
	rep := crashsim.Explore(t, objWorkload(crashOps()), o)
	if rep.Fences <= len(crashOps()) {
		t.Fatalf("%d fences for %d ops", rep.Fences, len(crashOps()))
	}
}

// TestCrashCheckerCatchesUnloggedPublish proves the crash check can fail:
// a publication that applies its updates in place one by one, without the
// redo log, must be reported (the destination and the bitmap can tear).
func TestCrashCheckerCatchesUnloggedPublish(t *testing.T) {
	broken := crashOps()[:1]
	broken[0].do = func(p *Pool, r *crashRoot) error {
		oid, err := p.Alloc(100, 1, mark('a'))
		if err != nil {
			return err
		}
		r.Slots[0].PoolUUIDLo = oid.PoolUUIDLo
		p.Persist(unsafe.Slice((*byte)(unsafe.Pointer(&r.Slots[0].PoolUUIDLo)), 8))
		r.Slots[0].Off = oid.Off
		p.Persist(unsafe.Slice((*byte)(unsafe.Pointer(&r.Slots[0].Off)), 8))
		return nil
	}
	rep, err := crashsim.Run(objWorkload(broken), crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Fatalf("an allocation durable before its link went unnoticed: %v", rep)
	}
}

// extRoot is the root of the extended-publication workload.
type extRoot struct {
	Obj  OID
	Vals [60]uint64
}

// internalObjects counts the library's objects (root included), to find
// leaked log extensions.
func internalObjects(p *Pool) int {
	n := 0
	first := true
	var pos heap.Pos
	for {
		b, np, ok := p.heap.Next(pos, first)
		if !ok {
			return n
		}
		if p.heap.Header(&b).Flags&layout.ObjInternal != 0 {
			n++
		}
		pos, first = np, false
	}
}

// TestCrashPublishExtended publishes more updates than the lane's log
// holds (a reservation and 61 values), so the redo log continues in an
// extension allocated from the heap and freed after: at every crash point
// the values and the object are all there or none, and no extension is
// left allocated after recovery.
func TestCrashPublishExtended(t *testing.T) {
	size := int(unsafe.Sizeof(extRoot{}))
	acked := 0
	w := crashsim.Workload{
		Size: crashPoolSize,
		Setup: func(m *core.Map) error {
			p, err := CreateOnMap(view(m), crashOpts)
			if err != nil {
				return err
			}
			if _, err := p.Root(size); err != nil {
				return err
			}
			return p.Close()
		},
		Run: func(m *core.Map) error {
			p, err := OpenOnMap(view(m), crashOpts)
			if err != nil {
				return err
			}
			oid, _ := p.Root(size)
			r, _ := PtrTo[extRoot](oid).Get(p)
			o, a, err := p.Reserve(100, 1)
			if err != nil {
				return err
			}
			acts := []Action{a, p.SetValue(&r.Obj.PoolUUIDLo, o.PoolUUIDLo), p.SetValue(&r.Obj.Off, o.Off)}
			for i := range r.Vals {
				acts = append(acts, p.SetValue(&r.Vals[i], uint64(i+1)))
			}
			if err := p.Publish(acts...); err != nil {
				return err
			}
			acked = m.Persister().(*crashsim.Device).Fences()
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			p, err := OpenOnMap(view(m), crashOpts)
			if err != nil {
				return err
			}
			defer p.Close()
			if probs := p.Check(); len(probs) > 0 {
				return errors.Join(probs...)
			}
			oid, _ := p.Root(0)
			r, _ := PtrTo[extRoot](oid).Get(p)
			set := 0
			for i, v := range r.Vals {
				if v == uint64(i+1) {
					set++
				} else if v != 0 {
					return fmt.Errorf("value %d is %d", i, v)
				}
			}
			objs := slices.Collect(p.Objects())
			switch {
			case set == 0 && r.Obj.IsNull() && len(objs) == 0 && c.Point <= acked:
			case set == len(r.Vals) && len(objs) == 1 && objs[0] == r.Obj:
			default:
				return fmt.Errorf("%d of %d values set, object %v, objects %v (acked at %d)", set, len(r.Vals), r.Obj, objs, acked)
			}
			if n := internalObjects(p); n != 1 {
				return fmt.Errorf("%d internal objects, want the root only", n)
			}
			return nil
		},
	}
	o := crashsim.Options{Strategies: crashStrategies, ExhaustiveLimit: 16, RecoveryPoints: 2}
	if testing.Short() {
		o.MaxPoints = 10
	}
	rep := crashsim.Explore(t, w, o)
	if rep.Fences < 6 {
		t.Fatalf("only %d fences: the extension path was not taken", rep.Fences)
	}
}
