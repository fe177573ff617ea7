package layout

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Allocation classes (alloc_class.c). C builds the same table at every
// heap boot from a few constants; a pool does not store it. Runs record
// only their unit size, flags and size, so a Go heap that builds the same
// table creates runs C recognizes and reuses, and picks the same class
// (hence the same usable size) for every request.
const (
	// MaxClasses is MAX_ALLOCATION_CLASSES: class ids are 0..254.
	MaxClasses = 255
	// DefaultClassID is the huge class: whole chunks.
	DefaultClassID = 0
	// RunUnitMaxAlloc is the most units one default allocation takes in a
	// run (RUN_UNIT_MAX_ALLOC).
	RunUnitMaxAlloc = 8
	// RunUnitMax is the most units any allocation takes in a run: one
	// bitmap word (RUN_UNIT_MAX).
	RunUnitMax = RunBitsPerValue

	classGranularity  = 16 // ALLOC_BLOCK_SIZE
	classGenBlock     = 64 // ALLOC_BLOCK_SIZE_GEN
	maxRunSize        = 10 * ChunkSize
	maxRunWastedBytes = 1024
	runMinNAllocs     = 200
	runSizeIdxCap     = 16
	minUnitSize       = 128
	firstGenerated    = 128
)

// ClassType tells runs from huge (chunk) allocations.
type ClassType uint8

const (
	ClassHuge ClassType = iota
	ClassRun
)

// Class is one allocation class.
type Class struct {
	ID         uint8
	Type       ClassType
	UnitSize   uint64
	HeaderType HeaderType
	Flags      uint16 // chunk flags of its runs
	Alignment  uint64 // of user data in its runs; 0: none
	SizeIdx    uint32 // chunks per run
	Bitmap     RunBitmap
	// Custom: made by WithClass (heap.alloc_class.new.desc), not one of
	// the default classes.
	Custom bool
}

// NAllocs is the number of units in one of the class's runs.
func (c *Class) NAllocs() uint32 { return c.Bitmap.NBits }

// Units returns how many units an object of size user bytes takes in
// class c, or 0 if c cannot hold it (alloc_class_calc_size_idx).
func (c *Class) Units(size uint64) uint64 {
	u := CalcSizeIdx(c.UnitSize, size+c.HeaderType.Size())
	if c.Type == ClassRun {
		if c.HeaderType == HeaderNone && u != 1 || u > RunUnitMax || u > uint64(c.NAllocs()) {
			return 0
		}
	}
	return u
}

// Classes is a set of allocation classes and the map from request size to
// class (struct alloc_class_collection).
type Classes struct {
	byID []*Class // MaxClasses entries
	// bySize maps 1+(size-1)/16 to 1 + the class id for sizes below
	// lastRunMax; 0 is not computed yet (it is, on first use, as C does).
	bySize     []atomic.Uint32
	lastRunMax uint64
	// byRun maps a run's (unit size, flags, size) to its class.
	byRun map[runKey]*Class
}

type runKey struct {
	unit    uint64
	flags   uint16
	sizeIdx uint32
}

var defaultClasses = sync.OnceValue(buildDefault)

// DefaultClasses returns the allocation classes C creates at heap boot.
// The result is shared (safe for concurrent use) and must not be
// modified.
func DefaultClasses() *Classes { return defaultClasses() }

// ByID returns class id, or nil.
func (cs *Classes) ByID(id uint8) *Class {
	if int(id) >= len(cs.byID) {
		return nil
	}
	return cs.byID[id]
}

// All returns the classes in id order.
func (cs *Classes) All() []*Class {
	var out []*Class
	for _, c := range cs.byID {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// ForSize returns the class C picks for an object of size user bytes
// (heap_get_best_class): a run class below the largest run size, the huge
// class above.
func (cs *Classes) ForSize(size uint64) *Class {
	if size < cs.lastRunMax {
		idx := 1 + (size-1)/classGranularity
		if id := cs.bySize[idx].Load(); id != 0 {
			return cs.byID[id-1]
		}
		c := cs.minFrag(idx * classGranularity)
		cs.bySize[idx].Store(uint32(c.ID) + 1)
		return c
	}
	return cs.byID[DefaultClassID]
}

// ByRun returns the class of a run with this unit size, flags and size in
// chunks (alloc_class_by_run), or nil for a run no class describes (a
// custom class of another process, say).
func (cs *Classes) ByRun(unitSize uint64, flags uint16, sizeIdx uint32) *Class {
	return cs.byRun[runKey{unitSize, flags, sizeIdx}]
}

func buildDefault() *Classes {
	cs := &Classes{
		byID:       make([]*Class, MaxClasses),
		bySize:     make([]atomic.Uint32, maxRunSize/classGranularity+1),
		lastRunMax: maxRunSize,
		byRun:      make(map[runKey]*Class),
	}
	cs.add(&Class{ID: DefaultClassID, Type: ClassHuge, UnitSize: ChunkSize, HeaderType: HeaderCompact,
		Flags: FlagCompactHeader | FlagFlexBitmap, SizeIdx: 1})
	first := cs.newRun(minUnitSize, 1)
	for i := range firstGenerated / classGranularity {
		cs.bySize[i].Store(uint32(first.ID) + 1)
	}
	// Categories of sizes, each generated in steps of 5% rounded up to 64
	// bytes, computed in single-precision float as C does.
	categories := [...]uint64{firstGenerated, 1024, 2048, 4096, 8192, 16384, 32768, 131072, 393216}
	const step = float32(0.05)
	const fltEpsilon = float32(1.1920929e-07)
	for c := 1; c < len(categories); c++ {
		n := categories[c-1] + classGenBlock
		for {
			cs.findOrCreate(n)
			stepf := float32(n) * step
			stepi := uint64(stepf)
			if stepf-float32(stepi) >= fltEpsilon {
				stepi++
			}
			n += (stepi + classGenBlock - 1) &^ (classGenBlock - 1)
			if n > categories[c] {
				break
			}
		}
	}
	largest := cs.byID[0]
	for id := MaxClasses - 1; id > 0; id-- {
		if cs.byID[id] != nil {
			largest = cs.byID[id]
			break
		}
	}
	unitMax := min(uint64(largest.NAllocs()), RunUnitMaxAlloc)
	cs.lastRunMax = min(maxRunSize, largest.UnitSize*unitMax)
	return cs
}

func (cs *Classes) add(c *Class) {
	cs.byID[c.ID] = c
	if c.Type == ClassRun {
		cs.byRun[runKey{c.UnitSize, c.Flags, c.SizeIdx}] = c
	}
}

// newRun adds a default run class (compact headers, flexible bitmap) in
// the first free id.
func (cs *Classes) newRun(unit uint64, sizeIdx uint32) *Class {
	id := -1
	for i, c := range cs.byID {
		if c == nil {
			id = i
			break
		}
	}
	if id < 0 {
		panic("layout: no free allocation class id")
	}
	c := &Class{ID: uint8(id), Type: ClassRun, UnitSize: unit, HeaderType: HeaderCompact,
		Flags: FlagCompactHeader | FlagFlexBitmap}
	c.Bitmap, c.SizeIdx = RunBitmapOf(sizeIdx, c.Flags, unit, 0)
	cs.add(c)
	return c
}

// findOrCreate returns a class for objects of n bytes (headers included),
// creating one whose runs waste little (alloc_class_find_or_create).
func (cs *Classes) findOrCreate(n uint64) *Class {
	required := uint32(1)
	if bytes := n * runMinNAllocs; bytes > runDefaultSize {
		required += uint32(CalcSizeIdx(ChunkSize, bytes-runDefaultSize))
		required = min(required, runSizeIdxCap)
	}
	for id := MaxClasses - 1; id >= 0; id-- {
		c := cs.byID[id]
		if c == nil || c.Type == ClassHuge || c.SizeIdx < required {
			continue
		}
		if n%c.UnitSize == 0 && n/c.UnitSize <= RunUnitMaxAlloc {
			return c
		}
	}
	for first := true; ; first = false {
		if !first {
			n += classGenBlock
		}
		b, sizeIdx := RunBitmapOf(required, FlagFlexBitmap, n, 0)
		if (RunContentBytes(sizeIdx)-uint64(b.Size))%n <= maxRunWastedBytes {
			break
		}
	}
	for id := 1; id < MaxClasses; id++ {
		c := cs.byID[id]
		if c == nil || c.Type == ClassHuge {
			continue
		}
		if n/c.UnitSize <= RunUnitMaxAlloc && n%c.UnitSize == 0 || c.UnitSize == n {
			return c
		}
	}
	return cs.newRun(n, required)
}

// minFrag returns the class that wastes least on objects of n user bytes
// (alloc_class_find_min_frag).
func (cs *Classes) minFrag(n uint64) *Class {
	var best *Class
	var lowest uint64
	for id := MaxClasses - 1; id >= 0; id-- {
		c := cs.byID[id]
		if c == nil || c.HeaderType == HeaderNone || c.Custom {
			continue
		}
		real := n + c.HeaderType.Size()
		units := CalcSizeIdx(c.UnitSize, real)
		if c.Type == ClassRun && units > RunUnitMaxAlloc {
			continue
		}
		if c.UnitSize*units == real {
			return c
		}
		waste := c.UnitSize*units - real
		if c.Type == ClassRun {
			nallocs := uint64(c.NAllocs())
			waste += nallocs % units * c.UnitSize / nallocs
		}
		if best == nil || lowest > waste {
			best, lowest = c, waste
		}
	}
	return best
}

// Errors of WithClass.
var (
	// ErrClassIDTaken: the id asked for names a class already (EEXIST).
	ErrClassIDTaken = errors.New("allocation class id in use")
	// ErrNoClassID: every class id is in use.
	ErrNoClassID = errors.New("no free allocation class id")
	// ErrClassDuplicate: a class with the same run key exists (C's
	// critnib refuses a second class whose runs would look the same).
	ErrClassDuplicate = errors.New("an allocation class with the same runs exists")
)

// WithClass returns a copy of cs with one more run class, as C's
// heap.alloc_class.new.desc builds it (alloc_class_new of a CLASS_RUN):
// chunk flags from the header type, FlagAligned if alignment is not 0,
// and FlagFlexBitmap; a run of enough chunks for unitsPerBlock units and
// the run header (plus alignment), at most 65535 chunks; the bitmap from
// that run. id < 0 takes the first free id. The caller validates the
// arguments (unit size, alignment) as ctl does. Custom classes never
// serve allocations that name no class: the size-to-class map keeps the
// default classes (C may pick a custom class for a size it had not looked
// up before the class was made).
func (cs *Classes) WithClass(id int, ht HeaderType, unit, alignment uint64, unitsPerBlock uint32) (*Classes, *Class, error) {
	if id < 0 {
		for i, c := range cs.byID {
			if c == nil {
				id = i
				break
			}
		}
		if id < 0 {
			return nil, nil, ErrNoClassID
		}
	} else if id >= MaxClasses || cs.byID[id] != nil {
		return nil, nil, ErrClassIDTaken
	}
	flags := ht.Flag() | FlagFlexBitmap
	if alignment != 0 {
		flags |= FlagAligned
	}
	bytes := uint64(unitsPerBlock)*unit + RunHeaderSize
	runBytes := (bytes + ChunkSize - 1) &^ (ChunkSize - 1)
	if alignment != 0 {
		runBytes += alignment
	}
	sizeIdx := uint32(min(runBytes/ChunkSize, 0xFFFF))
	c := &Class{ID: uint8(id), Type: ClassRun, UnitSize: unit, HeaderType: ht, Flags: flags,
		Alignment: alignment, Custom: true}
	c.Bitmap, c.SizeIdx = RunBitmapOf(sizeIdx, flags, unit, alignment)
	mapIdx := 1 + (unit-1)/classGranularity
	for k := range cs.byRun {
		if k.flags == flags && k.sizeIdx == c.SizeIdx && 1+(k.unit-1)/classGranularity == mapIdx {
			return nil, nil, ErrClassDuplicate
		}
	}
	n := &Classes{byID: slices.Clone(cs.byID), bySize: cs.bySize, lastRunMax: cs.lastRunMax,
		byRun: maps.Clone(cs.byRun)}
	n.add(c)
	return n, c, nil
}
