// Package objtest holds crash workloads of package obj for the crash
// simulator: obj's own tests explore them, and the conformance suite runs
// them on its backends. Like net/http/httptest, it is test support, not
// API for applications.
package objtest

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/obj"
)

// View returns a Map over m's memory and persist path whose Close leaves m
// open: a Pool on it can be closed without closing the simulated device.
func View(m *core.Map) *core.Map {
	return core.NewMemoryMap(m.Bytes(), m.Granularity(), m.Persister(), nil)
}

const crashPoolSize = 16 << 20

// crashRoot is the root object of the crash workloads: slots that name
// the objects the workload owns.
type crashRoot struct {
	Slots [6]obj.OID
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
	do   func(p *obj.Pool, r *crashRoot) error
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

// AtomicOps is the crash workload of every atomic operation (see ops):
// Setup creates the pool and its root, Run applies the operations, Check
// reopens each post-crash image (recovery), runs the heap checker and
// demands the slot states of exactly the acknowledged operations, or those
// plus the one in flight, with no other object allocated (nothing leaked,
// nothing half-done), then allocates and frees to show the pool works.
func AtomicOps() crashsim.Workload { return workload(ops()) }

// UnloggedPublish is AtomicOps' first operation done wrong: the new
// object's OID is stored into its slot one half at a time, outside the
// allocation's redo log. Its check must fail: it proves the check can.
func UnloggedPublish() crashsim.Workload {
	broken := ops()[:1]
	broken[0].do = func(p *obj.Pool, r *crashRoot) error {
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
	return workload(broken)
}

// ops covers every atomic operation: root creation and growth, run
// and huge allocations into pool-resident OIDs, resize to another class,
// frees of run and huge objects, a publication of reservations with the
// values that link them, and a deferred free.
func ops() []crashOp {
	return []crashOp{
		{"alloc-run", func(p *obj.Pool, r *crashRoot) error {
			return p.AllocTo(&r.Slots[0], 100, 1, mark('a'))
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 0, slotState{100, 1, 'a', true}) }},
		{"alloc-huge", func(p *obj.Pool, r *crashRoot) error {
			return p.AllocTo(&r.Slots[1], 2_100_000, 2, mark('b'))
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 1, slotState{2_100_000, 2, 'b', true}) }},
		{"zalloc", func(p *obj.Pool, r *crashRoot) error {
			return p.ZallocTo(&r.Slots[2], 5000, 3)
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 2, slotState{5000, 3, 0, true}) }},
		{"realloc", func(p *obj.Pool, r *crashRoot) error {
			return p.ReallocTo(&r.Slots[0], 1000, 4)
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 0, slotState{1000, 4, 'a', false}) }},
		{"free-huge", func(p *obj.Pool, r *crashRoot) error {
			return p.FreeOID(&r.Slots[1])
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 1, slotState{}) }},
		{"publish", func(p *obj.Pool, r *crashRoot) error {
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
		{"defer-free", func(p *obj.Pool, r *crashRoot) error {
			a, err := p.DeferFree(r.Slots[2])
			if err != nil {
				return err
			}
			return p.Publish(a, p.SetValue(&r.Slots[2].Off, 0), p.SetValue(&r.Slots[2].PoolUUIDLo, 0))
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 2, slotState{}) }},
		{"realloc-huge", func(p *obj.Pool, r *crashRoot) error {
			return p.ReallocTo(&r.Slots[4], 2_200_000, 7)
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 4, slotState{2_200_000, 7, 'd', false}) }},
		{"free-run", func(p *obj.Pool, r *crashRoot) error {
			return p.FreeOID(&r.Slots[3])
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 3, slotState{}) }},
		{"strdup", func(p *obj.Pool, r *crashRoot) error {
			return p.StrdupTo(&r.Slots[5], "eeee", 8)
		}, func(s [6]slotState) [6]slotState { return setSlot(s, 5, slotState{5, 8, 'e', false}) }},
	}
}

func rootOf(p *obj.Pool) (*crashRoot, error) {
	oid, err := p.Root(int(unsafe.Sizeof(crashRoot{})))
	if err != nil {
		return nil, err
	}
	return obj.PtrTo[crashRoot](oid).Get(p)
}

var crashOpts = &obj.Options{Layout: "crash", Arenas: 1}

// workload is the crash workload of ops: Setup creates the pool and its
// root, Run applies ops, Check reopens each post-crash image (recovery),
// runs the heap checker, and demands the slot states of exactly the
// acknowledged ops, or those plus the one in flight, with no object
// allocated that no slot names (nothing leaked, nothing half-done).
func workload(ops []crashOp) crashsim.Workload {
	states := [][6]slotState{{}}
	for _, o := range ops {
		states = append(states, o.next(states[len(states)-1]))
	}
	acked := make([]int, len(ops))
	return crashsim.Workload{
		Size: crashPoolSize,
		Setup: func(m *core.Map) error {
			p, err := obj.CreateOnMap(View(m), crashOpts)
			if err != nil {
				return err
			}
			if _, err := rootOf(p); err != nil {
				return err
			}
			return p.Close()
		},
		Run: func(m *core.Map) error {
			dev, _ := m.Persister().(*crashsim.Device) // nil off the simulator
			p, err := obj.OpenOnMap(View(m), crashOpts)
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
				if dev != nil {
					acked[i] = dev.Fences()
				}
			}
			return p.Close()
		},
		Recover: func(m *core.Map) error {
			p, err := obj.OpenOnMap(View(m), crashOpts)
			if err != nil {
				return err
			}
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			done := c.Acknowledged(acked)
			p, err := obj.OpenOnMap(View(m), crashOpts)
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
func matchSlots(p *obj.Pool, r *crashRoot, want [6]slotState) error {
	var named []obj.OID
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

func cmpOID(a, b obj.OID) int {
	switch {
	case a.Off < b.Off:
		return -1
	case a.Off > b.Off:
		return 1
	}
	return 0
}

// extRoot is the root of the extended-publication workload.
type extRoot struct {
	Obj  obj.OID
	Vals [60]uint64
}

// PublishExtended is the crash workload of a publication of more updates
// than the lane's log holds (a reservation and 62 values), so the redo log
// continues in an extension allocated from the heap and freed after: at
// every crash point the values and the object are all there or none, and
// the heap checker (which reports a leaked extension) passes.
func PublishExtended() crashsim.Workload {
	size := int(unsafe.Sizeof(extRoot{}))
	acked := 0
	return crashsim.Workload{
		Size: crashPoolSize,
		Setup: func(m *core.Map) error {
			p, err := obj.CreateOnMap(View(m), crashOpts)
			if err != nil {
				return err
			}
			if _, err := p.Root(size); err != nil {
				return err
			}
			return p.Close()
		},
		Run: func(m *core.Map) error {
			p, err := obj.OpenOnMap(View(m), crashOpts)
			if err != nil {
				return err
			}
			oid, _ := p.Root(size)
			r, _ := obj.PtrTo[extRoot](oid).Get(p)
			o, a, err := p.Reserve(100, 1)
			if err != nil {
				return err
			}
			acts := []obj.Action{a, p.SetValue(&r.Obj.PoolUUIDLo, o.PoolUUIDLo), p.SetValue(&r.Obj.Off, o.Off)}
			for i := range r.Vals {
				acts = append(acts, p.SetValue(&r.Vals[i], uint64(i+1)))
			}
			if err := p.Publish(acts...); err != nil {
				return err
			}
			if dev, ok := m.Persister().(*crashsim.Device); ok {
				acked = dev.Fences()
			}
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			p, err := obj.OpenOnMap(View(m), crashOpts)
			if err != nil {
				return err
			}
			defer p.Close()
			if probs := p.Check(); len(probs) > 0 {
				return errors.Join(probs...)
			}
			oid, _ := p.Root(0)
			r, _ := obj.PtrTo[extRoot](oid).Get(p)
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
			return nil
		},
	}
}
