package vmem

// Size classes. Small requests (up to maxSmall bytes) are rounded up to one
// of nclass sizes and carved out of slabs: runs of pages holding objects of
// one size. Classes are 16 bytes apart up to 128, then four per doubling,
// so internal waste stays under 25% (12.5% on average) and every power of
// two is a class, which serves aligned allocations from slabs.

const (
	pageShift = 12
	pageSize  = 1 << pageShift // the allocator's page: the unit of extents
	minAlign  = 16             // malloc's alignment, as glibc's on 64-bit
	maxSmall  = 32 << 10       // largest size served from slabs
)

// classSize lists the object size of each class; class 0 is unused so a
// zero class means "large".
var classSize = func() []uint32 {
	s := []uint32{0}
	for n := uint32(16); n <= 128; n += 16 {
		s = append(s, n)
	}
	for base := uint32(128); base < maxSmall; base *= 2 {
		for i := uint32(1); i <= 4; i++ {
			s = append(s, base+i*base/4)
		}
	}
	return s
}()

var nclass = len(classSize)

// classPages is the slab size of each class in pages: the smallest run
// holding at least 8 objects (4 above 8 KiB) that wastes at most 1/16 of
// the run at its tail.
var classPages = func() []uint32 {
	p := make([]uint32, nclass)
	for c := 1; c < nclass; c++ {
		size := classSize[c]
		minObjs := uint32(8)
		if size > 8<<10 {
			minObjs = 4
		}
		for n := uint32(1); ; n++ {
			run := n * pageSize
			objs := run / size
			if objs >= minObjs && (run-objs*size)*16 <= run {
				p[c] = n
				break
			}
		}
	}
	return p
}()

// classDivMul holds, per class, the multiplier that turns a byte offset
// inside a slab into an object index without a division:
// idx = off * divMul >> 32, exact for offsets below 2^32 / size... and
// for every offset a slab of at most 64 pages holds (checked by a test).
var classDivMul = func() []uint32 {
	d := make([]uint32, nclass)
	for c := 1; c < nclass; c++ {
		d[c] = ^uint32(0)/classSize[c] + 1
	}
	return d
}()

// Lookup tables from size to class: by 16-byte steps up to 1 KiB, by
// 128-byte steps above.
var (
	classBy16  [1024/16 + 1]uint8
	classBy128 [(maxSmall-1024)/128 + 1]uint8
)

func init() {
	c := 1
	for i := range classBy16 {
		for uint32(i*16) > classSize[c] {
			c++
		}
		classBy16[i] = uint8(c)
	}
	for i := range classBy128 {
		for uint32(1024+i*128) > classSize[c] {
			c++
		}
		classBy128[i] = uint8(c)
	}
}

// sizeClass returns the class of a request of n bytes, 0 < n <= maxSmall.
func sizeClass(n uintptr) int {
	if n <= 1024 {
		return int(classBy16[(n+15)>>4])
	}
	return int(classBy128[(n-1024+127)>>7])
}

// cacheCap is how many free objects of class c a per-P cache holds: about
// 16 KiB worth, between 4 and 128.
func cacheCap(c int) int {
	n := int(16<<10) / int(classSize[c])
	return min(max(n, 4), 128)
}
