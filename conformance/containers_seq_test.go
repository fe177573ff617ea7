package conformance_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
	"github.com/gopmdk/pmdk/obj/objtest"
)

// The sequence containers of obj/containers (Vector, String, Array,
// SegmentVector) at every crash point: each workload is a list of
// changes, some in a transaction of their own, some several in a caller's
// transaction, some aborted. After a reopen every change that returned is
// there, the one cut off is wholly there or wholly absent, the container
// opens and holds what it should (its length, its elements), the heap
// checker passes, and the pool holds no object the container does not
// own (nothing leaks from a reallocation or a freed segment).
func init() {
	conformance.RegisterCrash("obj-containers",
		conformance.CrashCase{Name: "vector", Workload: vectorWorkload(), ShortPoints: 10},
		conformance.CrashCase{Name: "string", Workload: stringWorkload(), ShortPoints: 10},
		conformance.CrashCase{Name: "array", Workload: arrayWorkload(), ShortPoints: 10},
		conformance.CrashCase{Name: "segment-vector", Workload: segmentWorkload(), ShortPoints: 10},
	)
}

// seqRoot is the root object of the container workloads.
type seqRoot struct {
	Vec containers.VectorHead[uint64]
	Str containers.StringHead
	Arr [24]uint64
	Seg containers.SegmentVectorHead[uint32]
}

var seqOpts = &obj.Options{Layout: "containers", Arenas: 1}

// seqStep is one change of a workload and what it does to the model S.
type seqStep[S any] struct {
	name string
	do   func(p *obj.Pool, r *seqRoot) error
	next func(S) S
}

// seqRead opens the container after a reopen and returns what it holds
// and how many objects it owns.
type seqRead[S any] func(p *obj.Pool, r *seqRoot) (S, int, error)

var errSeqAbort = errors.New("abort on purpose")

// aborted runs fn in a transaction it aborts: nothing may remain of it.
func aborted[S any](name string, fn func(tx *obj.Tx, p *obj.Pool, r *seqRoot) error) seqStep[S] {
	return seqStep[S]{
		name: name,
		do: func(p *obj.Pool, r *seqRoot) error {
			err := p.Tx(func(tx *obj.Tx) error {
				if err := fn(tx, p, r); err != nil {
					return err
				}
				return errSeqAbort
			})
			if !errors.Is(err, errSeqAbort) {
				return fmt.Errorf("aborted transaction: %v", err)
			}
			return nil
		},
		next: func(s S) S { return s },
	}
}

// seqImage is a new pool with its root, made once in memory: each
// workload's Setup copies its pages that are not zero (the pool's
// creation, persisted store by store on the simulated device, would cost
// more than the workload).
var seqImage = sync.OnceValues(func() (seqPool, error) {
	img := make([]byte, obj.MinPoolSize)
	p, err := obj.CreateOnMap(core.NewMemoryMap(img, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil), seqOpts)
	if err != nil {
		return seqPool{}, err
	}
	if _, err := seqRootOf(p); err != nil {
		return seqPool{}, err
	}
	if err := p.Close(); err != nil {
		return seqPool{}, err
	}
	sp := seqPool{b: img}
	for pg := 0; pg < len(img); pg += seqPage {
		if slices.ContainsFunc(img[pg:pg+seqPage], func(c byte) bool { return c != 0 }) {
			sp.pages = append(sp.pages, pg)
		}
	}
	return sp, nil
})

const seqPage = 4096

// seqPool is a pool image and the offsets of its pages that are not zero.
type seqPool struct {
	b     []byte
	pages []int
}

// stepOn returns a maker of steps on the container open returns; clone,
// if not nil, copies the model before a step's next changes it.
func stepOn[C, S any](open func(*obj.Pool, *seqRoot) (C, error), clone func(S) S) func(string, func(C) error, func(S) S) seqStep[S] {
	return func(name string, fn func(C) error, next func(S) S) seqStep[S] {
		return seqStep[S]{name: name,
			do: func(p *obj.Pool, r *seqRoot) error {
				c, err := open(p, r)
				if err != nil {
					return err
				}
				return fn(c)
			},
			next: func(s S) S {
				if clone != nil {
					s = clone(s)
				}
				return next(s)
			},
		}
	}
}

func seqRootOf(p *obj.Pool) (*seqRoot, error) {
	rp, err := obj.RootPtr[seqRoot](p)
	if err != nil {
		return nil, err
	}
	return rp.Get(p)
}

// seqWorkload runs steps from the model state initial; read and equal
// tell what a post-crash pool holds.
// After the check, use changes the container again: it keeps working.
func seqWorkload[S any](initial S, steps []seqStep[S], read seqRead[S], equal func(a, b S) bool, use func(p *obj.Pool, r *seqRoot) error) crashsim.Workload {
	states := []S{initial}
	for _, st := range steps {
		states = append(states, st.next(states[len(states)-1]))
	}
	acked := make([]int, len(steps))
	return crashsim.Workload{
		Size: obj.MinPoolSize,
		Setup: func(m *core.Map) error {
			img, err := seqImage()
			if err != nil {
				return err
			}
			_, sim := m.Persister().(*crashsim.Device)
			for _, pg := range img.pages {
				b := m.Bytes()[pg : pg+seqPage]
				copy(b, img.b[pg:pg+seqPage])
				if !sim { // the simulator makes what Setup leaves durable
					m.Persister().Persist(b)
				}
			}
			return nil
		},
		Run: func(m *core.Map) error {
			dev, _ := m.Persister().(*crashsim.Device)
			p, err := obj.OpenOnMap(objtest.View(m), seqOpts)
			if err != nil {
				return err
			}
			r, err := seqRootOf(p)
			if err != nil {
				return err
			}
			for i, st := range steps {
				if err := st.do(p, r); err != nil {
					return fmt.Errorf("step %d (%s): %w", i, st.name, err)
				}
				if dev != nil {
					acked[i] = dev.Fences()
				}
			}
			return p.Close()
		},
		Recover: func(m *core.Map) error {
			p, err := obj.OpenOnMap(objtest.View(m), seqOpts)
			if err != nil {
				return err
			}
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			done := c.Acknowledged(acked)
			p, err := obj.OpenOnMap(objtest.View(m), seqOpts)
			if err != nil {
				return fmt.Errorf("reopen after %d steps: %w", done, err)
			}
			defer p.Close()
			if probs := p.Check(); len(probs) > 0 {
				return fmt.Errorf("after %d steps: heap check: %w", done, errors.Join(probs...))
			}
			r, err := seqRootOf(p)
			if err != nil {
				return err
			}
			got, owned, err := read(p, r)
			if err != nil {
				return fmt.Errorf("after %d steps: %w", done, err)
			}
			if !equal(got, states[done]) && (done == len(steps) || !equal(got, states[done+1])) {
				next := "none"
				if done < len(steps) {
					next = fmt.Sprint(states[done+1])
				}
				return fmt.Errorf("after %d steps the container holds %v: neither %v nor the next (%s)", done, got, states[done], next)
			}
			n := 0
			for range p.Objects() {
				n++
			}
			if n != owned {
				return fmt.Errorf("after %d steps: %d objects, the container owns %d (a leak or a lost object)", done, n, owned)
			}
			if err := use(p, r); err != nil {
				return fmt.Errorf("after %d steps: the container: %w", done, err)
			}
			return nil
		},
	}
}

func vectorWorkload() crashsim.Workload {
	vec := func(p *obj.Pool, r *seqRoot) (*containers.Vector[uint64], error) {
		return containers.OpenVector(p, &r.Vec)
	}
	step := stepOn[*containers.Vector[uint64], []uint64](vec, slices.Clone)
	steps := []seqStep[[]uint64]{
		step("push", func(v *containers.Vector[uint64]) error { return v.PushBack(1) }, func(s []uint64) []uint64 { return append(s, 1) }),
		step("pop", func(v *containers.Vector[uint64]) error { _, err := v.PopBack(); return err }, func(s []uint64) []uint64 { return s[:len(s)-1] }),
		step("append (grows)", func(v *containers.Vector[uint64]) error { return v.Append(3, 4, 5, 6, 7, 8, 9, 10, 11) },
			func(s []uint64) []uint64 { return append(s, 3, 4, 5, 6, 7, 8, 9, 10, 11) }),
		{}, // several in a transaction, below
		step("insert", func(v *containers.Vector[uint64]) error { return v.Insert(3, 70, 71) }, func(s []uint64) []uint64 { return slices.Insert(s, 3, 70, 71) }),
		step("erase", func(v *containers.Vector[uint64]) error { return v.Erase(0, 4) }, func(s []uint64) []uint64 { return slices.Delete(s, 0, 4) }),
		step("resize (grows)", func(v *containers.Vector[uint64]) error { return v.Resize(40) }, func(s []uint64) []uint64 { return append(s, make([]uint64, 40-len(s))...) }),
		step("shrink", func(v *containers.Vector[uint64]) error { return v.ShrinkToFit() }, func(s []uint64) []uint64 { return s }),
		step("free", func(v *containers.Vector[uint64]) error { return v.Free() }, func([]uint64) []uint64 { return nil }),
		step("push", func(v *containers.Vector[uint64]) error { return v.PushBack(42) }, func(s []uint64) []uint64 { return append(s, 42) }),
	}
	// Several changes in the caller's transaction, with two reallocations.
	steps[3] = seqStep[[]uint64]{name: "several in a transaction",
		do: func(p *obj.Pool, r *seqRoot) error {
			v, err := vec(p, r)
			if err != nil {
				return err
			}
			return p.Tx(func(tx *obj.Tx) error {
				vt := v.In(tx)
				for i := range uint64(20) {
					if err := vt.PushBack(100 + i); err != nil {
						return err
					}
				}
				return vt.Erase(1, 19)
			})
		},
		next: func(s []uint64) []uint64 {
			s = slices.Clone(s)
			for i := range uint64(20) {
				s = append(s, 100+i)
			}
			return slices.Delete(s, 1, 19)
		},
	}
	steps = slices.Insert(steps, 5, aborted[[]uint64]("aborted", func(tx *obj.Tx, p *obj.Pool, r *seqRoot) error {
		v, err := vec(p, r)
		if err != nil {
			return err
		}
		vt := v.In(tx)
		if err := vt.Set(0, 1000); err != nil {
			return err
		}
		return vt.Resize(100)
	}))
	return seqWorkload([]uint64(nil), steps, func(p *obj.Pool, r *seqRoot) ([]uint64, int, error) {
		v, err := vec(p, r)
		if err != nil {
			return nil, 0, err
		}
		var got []uint64
		for _, x := range v.All() {
			got = append(got, x)
		}
		owned := 0
		if v.Cap() > 0 {
			owned = 1
		}
		return got, owned, nil
	}, slices.Equal, func(p *obj.Pool, r *seqRoot) error {
		v, err := vec(p, r)
		if err != nil {
			return err
		}
		if err := v.Append(make([]uint64, 50)...); err != nil {
			return err
		}
		return v.Free()
	})
}

func stringWorkload() crashsim.Workload {
	str := func(p *obj.Pool, r *seqRoot) (*containers.String, error) { return containers.OpenString(p, &r.Str) }
	step := stepOn[*containers.String, string](str, nil)
	long := strings.Repeat("0123456789", 7)
	steps := []seqStep[string]{
		step("assign inline", func(s *containers.String) error { return s.Assign("hello") }, func(string) string { return "hello" }),
		step("append out of line", func(s *containers.String) error { return s.Append(long) }, func(w string) string { return w + long }),
		step("insert", func(s *containers.String) error { return s.Insert(5, "!!") }, func(w string) string { return w[:5] + "!!" + w[5:] }),
		aborted[string]("aborted", func(tx *obj.Tx, p *obj.Pool, r *seqRoot) error {
			s, err := str(p, r)
			if err != nil {
				return err
			}
			st := s.In(tx)
			if err := st.Assign("x"); err != nil {
				return err
			}
			return st.Append(strings.Repeat("y", 300))
		}),
		step("erase", func(s *containers.String) error { return s.Erase(0, 60) }, func(w string) string { return w[60:] }),
		step("shrink inline", func(s *containers.String) error { return s.ShrinkToFit() }, func(w string) string { return w }),
		step("assign long", func(s *containers.String) error { return s.Assign(long + long) }, func(string) string { return long + long }),
		{name: "several in a transaction",
			do: func(p *obj.Pool, r *seqRoot) error {
				s, err := str(p, r)
				if err != nil {
					return err
				}
				return p.Tx(func(tx *obj.Tx) error {
					st := s.In(tx)
					for range 10 {
						if err := st.Append(long); err != nil {
							return err
						}
					}
					return st.Erase(0, 5)
				})
			},
			next: func(w string) string { return (w + strings.Repeat(long, 10))[5:] },
		},
		step("free", func(s *containers.String) error { return s.Free() }, func(string) string { return "" }),
	}
	return seqWorkload("", steps, func(p *obj.Pool, r *seqRoot) (string, int, error) {
		s, err := str(p, r)
		if err != nil {
			return "", 0, err
		}
		if _, err := s.Bytes(); err != nil {
			return "", 0, err
		}
		owned := 0
		if s.Cap() > containers.StringInline {
			owned = 1
		}
		return s.String(), owned, nil
	}, func(a, b string) bool { return a == b }, func(p *obj.Pool, r *seqRoot) error {
		s, err := str(p, r)
		if err != nil {
			return err
		}
		if err := s.Append(long); err != nil {
			return err
		}
		return s.Free()
	})
}

type arrayState [24]uint64

func arrayWorkload() crashsim.Workload {
	arr := func(p *obj.Pool, r *seqRoot) (*containers.Array[uint64], error) {
		return containers.ArrayOf(p, r.Arr[:])
	}
	step := stepOn[*containers.Array[uint64], arrayState](arr, nil)
	steps := []seqStep[arrayState]{
		step("fill", func(a *containers.Array[uint64]) error { return a.Fill(3) }, func(s arrayState) arrayState {
			for i := range s {
				s[i] = 3
			}
			return s
		}),
		step("set", func(a *containers.Array[uint64]) error { return a.Set(5, 50) }, func(s arrayState) arrayState { s[5] = 50; return s }),
		step("swap", func(a *containers.Array[uint64]) error { return a.Swap(5, 23) }, func(s arrayState) arrayState { s[5], s[23] = s[23], s[5]; return s }),
		aborted[arrayState]("aborted", func(tx *obj.Tx, p *obj.Pool, r *seqRoot) error {
			a, err := arr(p, r)
			if err != nil {
				return err
			}
			return a.In(tx).Fill(9)
		}),
		step("update", func(a *containers.Array[uint64]) error {
			return a.Update(10, 14, func(s []uint64) {
				for i := range s {
					s[i] = uint64(100 + i)
				}
			})
		}, func(s arrayState) arrayState {
			for i := range 4 {
				s[10+i] = uint64(100 + i)
			}
			return s
		}),
		{name: "several in a transaction",
			do: func(p *obj.Pool, r *seqRoot) error {
				a, err := arr(p, r)
				if err != nil {
					return err
				}
				return p.Tx(func(tx *obj.Tx) error {
					at := a.In(tx)
					for i := range 24 {
						if err := at.Set(i, uint64(i*i)); err != nil {
							return err
						}
					}
					return at.Swap(0, 1)
				})
			},
			next: func(s arrayState) arrayState {
				for i := range s {
					s[i] = uint64(i * i)
				}
				s[0], s[1] = s[1], s[0]
				return s
			},
		},
	}
	return seqWorkload(arrayState{}, steps, func(p *obj.Pool, r *seqRoot) (arrayState, int, error) {
		a, err := arr(p, r)
		if err != nil {
			return arrayState{}, 0, err
		}
		return arrayState(a.View()), 0, nil
	}, func(a, b arrayState) bool { return a == b }, func(p *obj.Pool, r *seqRoot) error {
		a, err := arr(p, r)
		if err != nil {
			return err
		}
		return a.Set(0, 1)
	})
}

func segmentWorkload() crashsim.Workload {
	seg := func(p *obj.Pool, r *seqRoot) (*containers.SegmentVector[uint32], error) {
		return containers.OpenSegmentVector(p, &r.Seg)
	}
	step := stepOn[*containers.SegmentVector[uint32], []uint32](seg, slices.Clone)
	var steps []seqStep[[]uint32]
	for i := range uint32(2) {
		steps = append(steps, step("push", func(v *containers.SegmentVector[uint32]) error { return v.PushBack(i) },
			func(s []uint32) []uint32 { return append(s, i) }))
	}
	steps = append(steps,
		step("append (three segments)", func(v *containers.SegmentVector[uint32]) error {
			return v.Append(20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39)
		}, func(s []uint32) []uint32 {
			for i := range uint32(20) {
				s = append(s, 20+i)
			}
			return s
		}),
		step("insert (moves across segments)", func(v *containers.SegmentVector[uint32]) error { return v.Insert(1, 300, 301, 302) },
			func(s []uint32) []uint32 { return slices.Insert(s, 1, 300, 301, 302) }),
		aborted[[]uint32]("aborted", func(tx *obj.Tx, p *obj.Pool, r *seqRoot) error {
			v, err := seg(p, r)
			if err != nil {
				return err
			}
			vt := v.In(tx)
			if err := vt.Free(); err != nil {
				return err
			}
			return vt.Resize(100)
		}),
		step("resize up", func(v *containers.SegmentVector[uint32]) error { return v.Resize(70) },
			func(s []uint32) []uint32 { return append(s, make([]uint32, 70-len(s))...) }),
		step("resize down", func(v *containers.SegmentVector[uint32]) error { return v.Resize(9) }, func(s []uint32) []uint32 { return s[:9] }),
		step("shrink", func(v *containers.SegmentVector[uint32]) error { return v.ShrinkToFit() }, func(s []uint32) []uint32 { return s }),
		seqStep[[]uint32]{name: "several in a transaction",
			do: func(p *obj.Pool, r *seqRoot) error {
				v, err := seg(p, r)
				if err != nil {
					return err
				}
				return p.Tx(func(tx *obj.Tx) error {
					vt := v.In(tx)
					for i := range uint32(10) {
						if err := vt.PushBack(500 + i); err != nil {
							return err
						}
					}
					if err := vt.Set(0, 5); err != nil {
						return err
					}
					return vt.Erase(2, 6)
				})
			},
			next: func(s []uint32) []uint32 {
				s = slices.Clone(s)
				for i := range uint32(10) {
					s = append(s, 500+i)
				}
				s[0] = 5
				return slices.Delete(s, 2, 6)
			},
		},
		step("free", func(v *containers.SegmentVector[uint32]) error { return v.Free() }, func([]uint32) []uint32 { return nil }),
	)
	return seqWorkload([]uint32(nil), steps, func(p *obj.Pool, r *seqRoot) ([]uint32, int, error) {
		v, err := seg(p, r)
		if err != nil {
			return nil, 0, err
		}
		var got []uint32
		for _, x := range v.All() {
			got = append(got, x)
		}
		if len(got) != v.Len() {
			return nil, 0, fmt.Errorf("%d elements iterated, length %d", len(got), v.Len())
		}
		return got, v.Segments(), nil
	}, slices.Equal, func(p *obj.Pool, r *seqRoot) error {
		v, err := seg(p, r)
		if err != nil {
			return err
		}
		if err := v.Resize(200); err != nil {
			return err
		}
		return v.Free()
	})
}
