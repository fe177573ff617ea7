package vmem

// The allocator's layout and policy, exported for allocators that must
// follow it outside Go: vmmalloc's C shim (the LD_PRELOAD library) is
// generated from Policy, and its test checks that the two agree.

const (
	retainDivisor  = 8 // Options.RetainFree's default: the pool's size over this
	keepEmptySlabs = 1 // empty slabs a class keeps instead of returning them
)

// Policy describes vmem's allocator: page size, size classes, slab sizes,
// cache sizes and the page heap's thresholds.
type Policy struct {
	PageSize      int // the unit of extents, bytes
	MinAlign      int // alignment of every allocation, bytes
	MaxSmall      int // largest size served from slabs, bytes
	ExactBins     int // free extents under this many pages sit in exact-size lists
	MinRelease    int // free extents under this many pages are never released to the file
	RetainDivisor int // free bytes kept backed by default: the pool's size / RetainDivisor
	KeepEmpty     int // empty slabs a class keeps against thrashing
	MinPoolSize   int
	// Classes lists the small size classes, smallest first.
	Classes []SizeClass
}

// A SizeClass is one small size class.
type SizeClass struct {
	Size      int // object size, bytes
	SlabPages int // pages per slab
	CacheCap  int // free objects a per-P cache holds
}

// AllocatorPolicy returns the allocator's policy.
func AllocatorPolicy() Policy {
	p := Policy{
		PageSize:      pageSize,
		MinAlign:      minAlign,
		MaxSmall:      maxSmall,
		ExactBins:     nbins,
		MinRelease:    minRelease,
		RetainDivisor: retainDivisor,
		KeepEmpty:     keepEmptySlabs,
		MinPoolSize:   MinPoolSize,
	}
	for c := 1; c < nclass; c++ {
		p.Classes = append(p.Classes, SizeClass{Size: int(classSize[c]), SlabPages: int(classPages[c]), CacheCap: cacheCap(c)})
	}
	return p
}
