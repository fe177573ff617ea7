package conformance_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
	"github.com/gopmdk/pmdk/obj/objtest"
)

// The persistent containers' crash cases: every operation of a tree, a
// hash map (through a growth) and a queue (through a wrap) is, after a
// crash and reopen, wholly there or wholly absent, every one that returned
// is there, the container's invariants hold (Check: order, counts, no key
// twice), and the pool holds exactly the container's objects (no leak)
// with a clean heap check.
func init() {
	conformance.RegisterCrash("obj-containers",
		conformance.CrashCase{Name: "radix", Workload: radixCrash(), ShortPoints: 5},
		conformance.CrashCase{Name: "hashmap", Workload: hashMapCrash(), ShortPoints: 5},
		conformance.CrashCase{Name: "mpscqueue", Workload: queueCrash(), ShortPoints: 5},
	)
}

var ctrOpts = &obj.Options{Layout: "containers", Arenas: 1}

// ctrRoot is the root object: the container's OID.
type ctrRoot struct {
	C obj.OID
}

// ctrCrash describes a container workload: make creates the container in
// tx, open reattaches it, prepare fills it in Setup, steps change it (each
// with the state it leaves given the one before), and read returns the
// state of a reopened container, checking its invariants, with the
// objects it owns.
type ctrCrash[C, S any] struct {
	make    func(tx *obj.Tx, p *obj.Pool) (C, obj.OID, error)
	open    func(p *obj.Pool, oid obj.OID) (C, error)
	prepare func(c C) error
	steps   []ctrStep[C, S]
	initial S
	read    func(c C) (S, []obj.OID, error)
	equal   func(a, b S) bool
}

type ctrStep[C, S any] struct {
	name string
	do   func(p *obj.Pool, c C) error
	next func(s S) S
}

func rootOID(p *obj.Pool) (*obj.OID, error) {
	rp, err := obj.RootPtr[ctrRoot](p)
	if err != nil {
		return nil, err
	}
	r, err := rp.Get(p)
	if err != nil {
		return nil, err
	}
	return &r.C, nil
}

func (w ctrCrash[C, S]) workload() crashsim.Workload {
	states := []S{w.initial}
	for _, st := range w.steps {
		states = append(states, st.next(states[len(states)-1]))
	}
	acked := make([]int, len(w.steps))
	openC := func(m *core.Map) (*obj.Pool, C, error) {
		var c C
		p, err := obj.OpenOnMap(objtest.View(m), ctrOpts)
		if err != nil {
			return nil, c, err
		}
		root, err := rootOID(p)
		if err == nil {
			c, err = w.open(p, *root)
		}
		if err != nil {
			p.Close()
		}
		return p, c, err
	}
	return crashsim.Workload{
		Size: 8 << 20, // obj.MinPoolSize: the images are checked whole
		Setup: func(m *core.Map) error {
			p, err := obj.CreateOnMap(objtest.View(m), ctrOpts)
			if err != nil {
				return err
			}
			defer p.Close()
			root, err := rootOID(p)
			if err != nil {
				return err
			}
			var c C
			err = p.Tx(func(tx *obj.Tx) error {
				var oid obj.OID
				if c, oid, err = w.make(tx, p); err != nil {
					return err
				}
				return obj.TxSet(tx, root, oid)
			})
			if err != nil || w.prepare == nil {
				return err
			}
			return w.prepare(c)
		},
		Run: func(m *core.Map) error {
			dev, _ := m.Persister().(*crashsim.Device)
			p, c, err := openC(m)
			if err != nil {
				return err
			}
			for i, st := range w.steps {
				if err := st.do(p, c); err != nil {
					return fmt.Errorf("step %d (%s): %w", i, st.name, err)
				}
				if dev != nil {
					acked[i] = dev.Fences()
				}
			}
			return p.Close()
		},
		Recover: func(m *core.Map) error {
			p, err := obj.OpenOnMap(objtest.View(m), ctrOpts)
			if err != nil {
				return err
			}
			return p.Close()
		},
		Check: func(m *core.Map, cr crashsim.Crash) error {
			done := cr.Acknowledged(acked)
			p, c, err := openC(m)
			if err != nil {
				return fmt.Errorf("reopen after %d steps: %w", done, err)
			}
			defer p.Close()
			if probs := p.Check(); len(probs) > 0 {
				return fmt.Errorf("after %d steps: heap check: %w", done, errors.Join(probs...))
			}
			got, owned, err := w.read(c)
			if err != nil {
				return fmt.Errorf("after %d steps: %w", done, err)
			}
			if !w.equal(got, states[done]) && (done == len(w.steps) || !w.equal(got, states[done+1])) {
				return fmt.Errorf("after %d steps (%s next) the container holds %v: neither %v nor the next",
					done, stepName(w.steps, done), got, states[done])
			}
			// Every object of the pool is the container's, and the reverse.
			all := slices.SortedFunc(p.Objects(), cmpOIDs)
			slices.SortFunc(owned, cmpOIDs)
			if !slices.Equal(all, owned) {
				return fmt.Errorf("after %d steps: the pool holds %d objects, the container owns %d (a leak or a lost object)",
					done, len(all), len(owned))
			}
			return nil
		},
	}
}

func stepName[C, S any](steps []ctrStep[C, S], i int) string {
	if i < len(steps) {
		return steps[i].name
	}
	return "none"
}

func cmpOIDs(a, b obj.OID) int {
	switch {
	case a.Off < b.Off:
		return -1
	case a.Off > b.Off:
		return 1
	}
	return 0
}

// kvState is a map's contents.
type kvState map[string]string

func (s kvState) with(k, v string) kvState {
	s = maps.Clone(s)
	s[k] = v
	return s
}

func (s kvState) without(k string) kvState {
	s = maps.Clone(s)
	delete(s, k)
	return s
}

func (s kvState) String() string {
	keys := slices.Sorted(maps.Keys(s))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q:%d ", k, len(s[k]))
	}
	return b.String()
}

func kvEqual(a, b kvState) bool { return maps.Equal(a, b) }

var errAbortOnPurpose = errors.New("abort on purpose")

// radixCrash: inserts (the first key, its extension), a replacement, a
// delete, two puts in the caller's transaction (one overwriting a value
// in place) and an aborted one (the tests of package containers cover
// the rest of the tree's shapes without crashes).
func radixCrash() crashsim.Workload {
	type C = *containers.BytesRadix
	type step = ctrStep[C, kvState]
	put := func(k, v string) step {
		return step{
			name: "put " + k,
			do:   func(_ *obj.Pool, t C) error { return t.Put(nil, []byte(k), []byte(v)) },
			next: func(s kvState) kvState { return s.with(k, v) },
		}
	}
	del := func(k string) step {
		return step{
			name: "delete " + k,
			do: func(_ *obj.Pool, t C) error {
				_, err := t.Delete(nil, []byte(k))
				return err
			},
			next: func(s kvState) kvState { return s.without(k) },
		}
	}
	w := ctrCrash[C, kvState]{
		make: func(tx *obj.Tx, p *obj.Pool) (C, obj.OID, error) {
			t, err := containers.NewBytesRadix(tx, p)
			if err != nil {
				return nil, obj.OID{}, err
			}
			return t, t.OID(), nil
		},
		open: containers.OpenBytesRadix,
		steps: []step{
			put("m", "first value 0123"),
			put("ma", "extension"), // an inner node above the first leaf
			put("m", "short"),      // a new leaf in the old one's place
			del("ma"),
			{
				name: "two puts in one transaction",
				do: func(p *obj.Pool, t C) error {
					return p.Tx(func(tx *obj.Tx) error {
						if err := t.Put(tx, []byte("c"), []byte("c1")); err != nil {
							return err
						}
						return t.Put(tx, []byte("m"), []byte("SHORT")) // in place, under a snapshot
					})
				},
				next: func(s kvState) kvState { return s.with("c", "c1").with("m", "SHORT") },
			},
			{
				name: "aborted",
				do: func(p *obj.Pool, t C) error {
					err := p.Tx(func(tx *obj.Tx) error {
						if err := t.Put(tx, []byte("e"), []byte("e1")); err != nil {
							return err
						}
						if _, err := t.Delete(tx, []byte("m")); err != nil {
							return err
						}
						return errAbortOnPurpose
					})
					if !errors.Is(err, errAbortOnPurpose) {
						return fmt.Errorf("aborted transaction: %v", err)
					}
					return nil
				},
				next: func(s kvState) kvState { return s },
			},
		},
		initial: kvState{},
		read: func(t C) (kvState, []obj.OID, error) {
			if err := t.Check(); err != nil {
				return nil, nil, err
			}
			s := kvState{}
			for k, v := range t.All() {
				s[string(k)] = string(v)
			}
			return s, slices.Collect(t.Objects()), nil
		},
		equal: kvEqual,
	}
	return w.workload()
}

// hashMapCrash: Setup fills a map to just below its growth; Run inserts
// the key that splits a batch of buckets, replaces a value by a longer
// one and deletes.
func hashMapCrash() crashsim.Workload {
	type C = *containers.BytesHashMap
	type step = ctrStep[C, kvState]
	const prefilled = 40 // 2 per bucket of 16+4: the 41st insert grows the map
	initial := kvState{}
	for i := range prefilled {
		initial[fmt.Sprint("k", i)] = fmt.Sprint("v", i)
	}
	put := func(k, v string) step {
		return step{
			name: "put " + k,
			do:   func(_ *obj.Pool, m C) error { return m.Put([]byte(k), []byte(v)) },
			next: func(s kvState) kvState { return s.with(k, v) },
		}
	}
	del := func(k string) step {
		return step{
			name: "delete " + k,
			do: func(_ *obj.Pool, m C) error {
				_, err := m.Delete([]byte(k))
				return err
			},
			next: func(s kvState) kvState { return s.without(k) },
		}
	}
	w := ctrCrash[C, kvState]{
		make: func(tx *obj.Tx, p *obj.Pool) (C, obj.OID, error) {
			m, err := containers.NewBytesHashMap(tx, p)
			if err != nil {
				return nil, obj.OID{}, err
			}
			return m, m.OID(), nil
		},
		open: containers.OpenBytesHashMap,
		prepare: func(m C) error {
			for _, k := range slices.Sorted(maps.Keys(initial)) { // the same layout every run
				if err := m.Put([]byte(k), []byte(initial[k])); err != nil {
					return err
				}
			}
			return nil
		},
		steps: []step{
			put("grow", "the insert that splits buckets"),
			put("k2", "a longer value"),
			del("k3"),
		},
		initial: initial,
		read: func(m C) (kvState, []obj.OID, error) {
			if err := m.Check(); err != nil {
				return nil, nil, err
			}
			s := kvState{}
			for k, v := range m.All() {
				s[string(k)] = string(v)
			}
			return s, slices.Collect(m.Objects()), nil
		},
		equal: kvEqual,
	}
	return w.workload()
}

// queueCrash: records produced into a 256-byte ring until it wraps,
// consumed whole and in part (the consumer refusing one); the ring is
// 256 bytes, so the fourth record wraps.
func queueCrash() crashsim.Workload {
	type C = *containers.MPSCQueue
	type step = ctrStep[C, []string]
	produce := func(rec string) step {
		return step{
			name: "produce " + rec,
			do:   func(_ *obj.Pool, q C) error { return q.Produce([]byte(rec)) },
			next: func(s []string) []string { return append(slices.Clip(s), rec) },
		}
	}
	consume := func(n int) step {
		return step{
			name: fmt.Sprint("consume ", n),
			do: func(_ *obj.Pool, q C) error {
				i := 0
				got, err := q.Consume(func([]byte) error {
					if i == n {
						return errAbortOnPurpose
					}
					i++
					return nil
				})
				if got != n || (err != nil && !errors.Is(err, errAbortOnPurpose)) {
					return fmt.Errorf("consumed %d, want %d: %v", got, n, err)
				}
				return nil
			},
			next: func(s []string) []string { return s[n:] },
		}
	}
	rec := func(i int) string { return fmt.Sprintf("record %02d %s", i, strings.Repeat("x", 40+i*3)) }
	var steps []step
	for i := range 3 {
		steps = append(steps, produce(rec(i)))
	}
	steps = append(steps, consume(3))
	for i := 3; i < 5; i++ {
		steps = append(steps, produce(rec(i))) // the first wraps
	}
	steps = append(steps, consume(1))
	w := ctrCrash[C, []string]{
		make: func(tx *obj.Tx, p *obj.Pool) (C, obj.OID, error) {
			q, err := containers.NewMPSCQueue(tx, p, 256)
			if err != nil {
				return nil, obj.OID{}, err
			}
			return q, q.OID(), nil
		},
		open:    containers.OpenMPSCQueue,
		steps:   steps,
		initial: nil,
		read: func(q C) ([]string, []obj.OID, error) {
			n := q.Len()
			var s []string
			if _, err := q.Consume(func(rec []byte) error {
				s = append(s, string(rec))
				return nil
			}); err != nil {
				return nil, nil, err
			}
			if len(s) != n {
				return nil, nil, fmt.Errorf("Len %d, %d records consumed", n, len(s))
			}
			return s, slices.Collect(q.Objects()), nil
		},
		equal: func(a, b []string) bool { return slices.Equal(a, b) },
	}
	return w.workload()
}
