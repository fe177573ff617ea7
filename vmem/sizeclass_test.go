package vmem

import "testing"

func TestSizeClasses(t *testing.T) {
	for n := uintptr(1); n <= maxSmall; n++ {
		c := sizeClass(n)
		if c <= 0 || c >= nclass {
			t.Fatalf("size %d: class %d", n, c)
		}
		if uintptr(classSize[c]) < n || uintptr(classSize[c-1]) >= n {
			t.Fatalf("size %d: class %d of size %d, previous %d", n, c, classSize[c], classSize[c-1])
		}
	}
	for c := 1; c < nclass; c++ {
		size := classSize[c]
		if size%minAlign != 0 {
			t.Errorf("class %d: size %d not a multiple of %d", c, size, minAlign)
		}
		run := classPages[c] * pageSize
		// Every object start divides back to its index.
		for i := uint32(0); i*size < run; i++ {
			for _, off := range []uint32{i * size, i*size + size - 1} {
				if off >= run {
					continue
				}
				if got := uint32(uint64(off) * uint64(classDivMul[c]) >> 32); got != i {
					t.Fatalf("class %d: offset %d gives index %d, want %d", c, off, got, i)
				}
			}
		}
		if cacheCap(c) > maxCacheCap {
			t.Errorf("class %d: cache cap %d over %d", c, cacheCap(c), maxCacheCap)
		}
	}
	t.Logf("%d classes; pages per slab: %v", nclass-1, classPages[1:])
}
