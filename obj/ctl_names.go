package obj

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/layout"
)

// The ctl trees, C's names (the table in doc.go). The global tree is
// searched first, for pool queries too, as C does.

func dir(name string, kids ...*ctlNode) *ctlNode { return &ctlNode{name: name, kids: kids} }

func indexed(name string, kids ...*ctlNode) *ctlNode {
	return &ctlNode{name: name, indexed: true, kids: kids}
}

// flag is a leaf holding a C int set from a boolean in configurations.
// C's handlers store the int they are given; v returns the variable.
func flag(name string, v func(q *ctlQuery) *atomic.Int32) *ctlNode {
	return &ctlNode{name: name,
		get: func(q *ctlQuery, arg any) error { return putInt(arg, int64(v(q).Load())) },
		set: intArg(func(q *ctlQuery, x int64) error {
			v(q).Store(int32(x))
			return nil
		}),
		parse: boolParser,
	}
}

func global(v *atomic.Int32) func(*ctlQuery) *atomic.Int32 {
	return func(*ctlQuery) *atomic.Int32 { return v }
}

// noop is a leaf C 1.12.1 keeps for compatibility only: its get leaves
// the argument alone, its set ignores it.
func noop(name string, set bool, bits int) *ctlNode {
	n := &ctlNode{name: name, get: func(*ctlQuery, any) error { return nil }}
	if set {
		n.set = intArg(func(*ctlQuery, int64) error { return nil })
		n.parse = intParser(bits)
	}
	return n
}

// intArg is a set or exec handler of an integer argument (argInt).
func intArg(f func(q *ctlQuery, v int64) error) func(*ctlQuery, any) error {
	return func(q *ctlQuery, arg any) error {
		v, err := argInt(arg)
		if err != nil {
			return err
		}
		return f(q, v)
	}
}

// counter is a read-only leaf of a uint64 value.
func counter(name string, v func(q *ctlQuery) uint64) *ctlNode {
	return &ctlNode{name: name, get: func(q *ctlQuery, arg any) error { return putInt(arg, int64(v(q))) }}
}

var ctlGlobalTree = []*ctlNode{
	dir("prefault",
		flag("at_create", global(&ctlGlobals.prefaultAtCreate)),
		flag("at_open", global(&ctlGlobals.prefaultAtOpen))),
	dir("sds", flag("at_create", global(&ctlGlobals.sdsAtCreate))),
	dir("fallocate", flag("at_create", global(&ctlGlobals.fallocateAtCreate))),
	dir("copy_on_write", cowNode()),
	dir("heap",
		&ctlNode{name: "arenas_assignment_type",
			get: func(_ *ctlQuery, arg any) error {
				return putInt(arg, int64(ctlGlobals.arenasAssignment.Load()))
			},
			set: intArg(func(_ *ctlQuery, v int64) error {
				if v != int64(ArenasThreadKey) && v != int64(ArenasGlobal) {
					return fmt.Errorf("%w: arena assignment type %d", ErrCtlArg, v)
				}
				ctlGlobals.arenasAssignment.Store(int32(v))
				return nil
			}),
			parse: func(toks []string) (any, error) {
				t, err := oneToken(toks)
				switch {
				case err != nil:
					return nil, err
				case t == "global":
					return ArenasGlobal, nil
				case t == "thread":
					return ArenasThreadKey, nil
				}
				return nil, fmt.Errorf("invalid arena assignment type %q", t)
			},
		},
		&ctlNode{name: "arenas_default_max",
			get: func(_ *ctlQuery, arg any) error {
				v := ctlGlobals.arenasDefaultMax.Load()
				if v == 0 {
					v = int64(runtime.GOMAXPROCS(0))
				}
				return putInt(arg, v)
			},
			set: intArg(func(_ *ctlQuery, v int64) error {
				if uint32(v) == 0 {
					return fmt.Errorf("%w: the number of default arenas cannot be 0", ErrCtlArg)
				}
				ctlGlobals.arenasDefaultMax.Store(int64(uint32(v)))
				return nil
			}),
			parse: intParser(64),
		}),
}

// cowNode is copy_on_write.at_open. C maps the pool privately so that
// nothing an open changes reaches the file; core maps such pools
// read-only for obj, which then refuses every change, so Go refuses to
// turn it on.
func cowNode() *ctlNode {
	n := flag("at_open", global(&ctlGlobals.cowAtOpen))
	set := n.set
	n.set = intArg(func(q *ctlQuery, v int64) error {
		if int32(v) != 0 {
			return fmt.Errorf("%w: copy on write (a private writable mapping) is not available", ErrCtlNotSupported)
		}
		return set(q, v)
	})
	return n
}

var ctlPoolTree = []*ctlNode{
	dir("tx",
		dir("debug",
			flag("skip_expensive_checks", func(q *ctlQuery) *atomic.Int32 { return &q.p.ctlState.txSkipExpensive }),
			flag("verify_user_buffers", func(q *ctlQuery) *atomic.Int32 { return &q.p.ctlState.verifyUserBuffers })),
		dir("cache",
			&ctlNode{name: "size",
				get: func(q *ctlQuery, arg any) error { return putInt(arg, q.p.ctlState.txCacheSize.Load()) },
				set: intArg(func(q *ctlQuery, v int64) error {
					if v < 0 || uint64(v) > MaxAllocSize {
						return fmt.Errorf("%w: cache size %d, must be between 0 and %d", ErrCtlArg, v, uint64(MaxAllocSize))
					}
					q.p.ctlState.txCacheSize.Store(v)
					return nil
				}),
				parse: intParser(64),
			},
			noop("threshold", true, 64)),
		dir("post_commit",
			noop("queue_depth", true, 32),
			noop("worker", false, 0),
			noop("stop", false, 0))),
	dir("heap",
		dir("alloc_class",
			indexed("class_id", &ctlNode{name: "desc", get: getClassDesc, set: newClass, parse: parseClassDesc}),
			indexed("new", &ctlNode{name: "desc", set: newClass, parse: parseClassDesc})),
		dir("arena",
			indexed("arena_id",
				counterArena("size", func(h *heap.Heap, i int) int64 { return int64(h.ActiveSize(i)) }),
				&ctlNode{name: "automatic",
					get: func(q *ctlQuery, arg any) error {
						i, err := q.arena()
						if err != nil {
							return err
						}
						v := int64(0)
						if q.p.heap.Automatic(i) {
							v = 1
						}
						return putInt(arg, v)
					},
					set: intArg(func(q *ctlQuery, v int64) error {
						i, err := q.arena()
						if err != nil {
							return err
						}
						if int32(v) != 0 && int32(v) != 1 {
							return fmt.Errorf("%w: arena state %d, must be 0 or 1", ErrCtlArg, v)
						}
						if err := q.p.heap.SetAutomatic(i, v == 1); err != nil {
							return fmt.Errorf("%w: %w", ErrCtlArg, err)
						}
						return nil
					}),
					parse: boolParser,
				}),
			&ctlNode{name: "create", exec: func(q *ctlQuery, arg any) error {
				if arg == nil {
					return fmt.Errorf("%w: heap.arena.create needs a pointer for the id", ErrCtlArg)
				}
				if err := putInt(arg, 0); err != nil {
					return err
				}
				return putInt(arg, int64(q.p.heap.NewArena()+1))
			}}),
		dir("size",
			&ctlNode{name: "granularity",
				get: func(q *ctlQuery, arg any) error { return putInt(arg, q.p.ctlState.growSize.Load()) },
				set: intArg(func(q *ctlQuery, v int64) error {
					v = int64(int32(v)) // C reads an int
					if v != 0 && v < minPart {
						return fmt.Errorf("%w: grow size %d, must be 0 or at least %d", ErrCtlArg, v, minPart)
					}
					q.p.ctlState.growSize.Store(v)
					return nil
				}),
				parse: intParser(64),
			},
			&ctlNode{name: "extend", exec: intArg(func(q *ctlQuery, v int64) error {
				if v < minPart {
					return fmt.Errorf("%w: extend by %d, must be at least %d", ErrCtlArg, v, minPart)
				}
				if !q.p.heap.Growable() {
					return fmt.Errorf("%w: only a pool on a directory poolset can grow (as in C)", ErrCtlNotSupported)
				}
				return q.p.heap.Extend(uint64(v))
			})}),
		dir("thread",
			&ctlNode{name: "arena_id",
				get: func(q *ctlQuery, arg any) error {
					l, err := q.p.enter()
					if err != nil {
						return err
					}
					id := l.arena.ID()
					q.p.leave(l)
					return putInt(arg, int64(id))
				},
				set: intArg(func(q *ctlQuery, v int64) error {
					id := int64(uint32(v)) // C reads an unsigned
					if n := int64(q.p.heap.NArenas()); id < 1 || id > n {
						return fmt.Errorf("%w: arena id %d, must be in 1..%d", ErrCtlRange, id, n)
					}
					l, err := q.p.enter()
					if err != nil {
						return err
					}
					l.arena = q.p.heap.Arena(int(id) - 1)
					q.p.leave(l)
					return nil
				}),
				parse: intParser(64),
			}),
		dir("narenas",
			counter("automatic", func(q *ctlQuery) uint64 { return uint64(q.p.heap.NArenasAuto()) }),
			counter("total", func(q *ctlQuery) uint64 { return uint64(q.p.heap.NArenas()) }),
			&ctlNode{name: "max",
				get: func(q *ctlQuery, arg any) error { return putInt(arg, int64(q.p.heap.NArenasMax())) },
				set: intArg(func(q *ctlQuery, v int64) error {
					if err := q.p.heap.SetNArenasMax(int(uint32(v))); err != nil {
						return fmt.Errorf("%w: %w", ErrCtlArg, err)
					}
					return nil
				}),
				parse: intParser(64),
			})),
	dir("stats",
		dir("heap",
			counter("curr_allocated", func(q *ctlQuery) uint64 { c, _, _ := q.p.heap.Stats(); return c }),
			counter("run_allocated", func(q *ctlQuery) uint64 { _, r, _ := q.p.heap.Stats(); return r }),
			counter("run_active", func(q *ctlQuery) uint64 { _, _, a := q.p.heap.Stats(); return a })),
		&ctlNode{name: "enabled",
			get: func(q *ctlQuery, arg any) error { return putInt(arg, int64(q.p.heap.StatsMode())) },
			set: intArg(func(q *ctlQuery, v int64) error {
				if v < int64(StatsTransient) || v > int64(StatsDisabled) {
					return fmt.Errorf("%w: stats mode %d", ErrCtlArg, v)
				}
				q.p.heap.SetStatsMode(int32(v))
				return nil
			}),
			parse: parseStatsEnabled,
		}),
	dir("debug",
		dir("heap",
			&ctlNode{name: "alloc_pattern",
				get: func(q *ctlQuery, arg any) error { return putInt(arg, int64(q.p.heap.AllocPattern())) },
				set: intArg(func(q *ctlQuery, v int64) error {
					q.p.heap.SetAllocPattern(int32(v)) // C reads an int
					return nil
				}),
				parse: intParser(64),
			})),
}

// arena returns the 0-based arena the query's index names (1-based).
func (q *ctlQuery) arena() (int, error) {
	id, err := q.index()
	if err != nil {
		return 0, err
	}
	id = int64(uint32(id)) // C takes the index as an unsigned
	if n := int64(q.p.heap.NArenas()); id < 1 || id > n {
		return 0, fmt.Errorf("%w: arena id %d, must be in 1..%d", ErrCtlRange, id, n)
	}
	return int(id) - 1, nil
}

func counterArena(name string, v func(h *heap.Heap, i int) int64) *ctlNode {
	return &ctlNode{name: name, get: func(q *ctlQuery, arg any) error {
		i, err := q.arena()
		if err != nil {
			return err
		}
		return putInt(arg, v(q.p.heap, i))
	}}
}

func parseStatsEnabled(toks []string) (any, error) {
	t, err := oneToken(toks)
	if err != nil {
		return nil, err
	}
	if b, err := parseBool(t); err == nil {
		if b == 1 {
			return StatsBoth, nil
		}
		return StatsDisabled, nil
	}
	switch t {
	case "disabled":
		return StatsDisabled, nil
	case "both":
		return StatsBoth, nil
	case "persistent":
		return StatsPersistent, nil
	case "transient":
		return StatsTransient, nil
	}
	return nil, fmt.Errorf("invalid stats type %q", t)
}

// parseClassDesc parses "unit_size,alignment,units_per_block,header" as
// C's parsers of struct pobj_alloc_class_desc.
func parseClassDesc(toks []string) (any, error) {
	if len(toks) < 4 {
		return nil, fmt.Errorf("an allocation class needs 4 values, got %d", len(toks))
	}
	unit, err := parseInt(toks[0], 64)
	if err != nil {
		return nil, err
	}
	align, err := parseInt(toks[1], 64)
	if err != nil {
		return nil, err
	}
	upb, err := parseInt(toks[2], 32)
	if err != nil {
		return nil, err
	}
	d := &AllocClassDesc{UnitSize: uint64(unit), Alignment: uint64(align), UnitsPerBlock: uint32(upb)}
	switch toks[3] {
	case "none":
		d.HeaderType = HeaderNone
	case "compact":
		d.HeaderType = HeaderCompact
	case "legacy":
		d.HeaderType = HeaderLegacy
	default:
		return nil, fmt.Errorf("invalid header type %q", toks[3])
	}
	return d, nil
}

// classDesc returns the *AllocClassDesc a query was given (or a value,
// whose results are then not returned).
func classDesc(arg any) (*AllocClassDesc, error) {
	switch d := arg.(type) {
	case *AllocClassDesc:
		if d != nil {
			return d, nil
		}
	case AllocClassDesc:
		return &d, nil
	}
	return nil, fmt.Errorf("%w: %T is not an *AllocClassDesc", ErrCtlArg, arg)
}

// classID returns the class id the query's index names.
func (q *ctlQuery) classID() (int, error) {
	id, err := q.index()
	if err != nil {
		return 0, err
	}
	if id < 0 || id >= layout.MaxClasses {
		return 0, fmt.Errorf("%w: class id %d, must be in 0..%d", ErrCtlRange, id, layout.MaxClasses-1)
	}
	return int(id), nil
}

func getClassDesc(q *ctlQuery, arg any) error {
	d, ok := arg.(*AllocClassDesc)
	if !ok || d == nil {
		return fmt.Errorf("%w: %T is not an *AllocClassDesc", ErrCtlArg, arg)
	}
	id, err := q.classID()
	if err != nil {
		return err
	}
	c := q.p.heap.Classes().ByID(uint8(id))
	if c == nil {
		return fmt.Errorf("%w: %d", ErrClass, id)
	}
	*d = AllocClassDesc{UnitSize: c.UnitSize, HeaderType: HeaderType(c.HeaderType), ClassID: uint32(c.ID)}
	if c.Type == layout.ClassRun {
		d.UnitsPerBlock = c.NAllocs()
	}
	if c.Flags&layout.FlagAligned != 0 {
		d.Alignment = c.Alignment
	}
	return nil
}

// newClass registers an allocation class (heap.alloc_class.new.desc, or
// heap.alloc_class.[id].desc with the id), with C's checks in C's order,
// and writes the id and units per run into the argument.
func newClass(q *ctlQuery, arg any) error {
	d, err := classDesc(arg)
	if err != nil {
		return err
	}
	switch {
	case d.UnitSize == 0 || d.UnitSize > MaxAllocSize || d.UnitsPerBlock == 0:
		return fmt.Errorf("%w: unit size %d, %d units per block", ErrCtlArg, d.UnitSize, d.UnitsPerBlock)
	case d.Alignment != 0 && d.UnitSize%d.Alignment != 0:
		return fmt.Errorf("%w: unit size %d not a multiple of the alignment %d", ErrCtlArg, d.UnitSize, d.Alignment)
	case d.Alignment > 2<<20:
		return fmt.Errorf("%w: alignment %d above 2 MiB", ErrCtlArg, d.Alignment)
	case d.Alignment&(d.Alignment-1) != 0:
		// C takes it, and writes runs that its own heap check and
		// Go's refuse.
		return fmt.Errorf("%w: alignment %d not a power of two", ErrCtlArg, d.Alignment)
	case d.HeaderType < HeaderLegacy || d.HeaderType > HeaderNone:
		return fmt.Errorf("%w: header type %d", ErrCtlArg, d.HeaderType)
	}
	id := -1
	if len(q.idx) > 0 {
		if id, err = q.classID(); err != nil {
			return err
		}
	}
	c, err := q.p.heap.AddClass(id, layout.HeaderType(d.HeaderType), d.UnitSize, d.Alignment, d.UnitsPerBlock)
	switch {
	case errors.Is(err, layout.ErrClassIDTaken):
		return fmt.Errorf("%w: %d", ErrCtlExists, id)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrCtlArg, err)
	}
	d.ClassID = uint32(c.ID)
	d.UnitsPerBlock = c.NAllocs()
	return nil
}
