package containers_test

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

// rawVec is VectorHead's layout, to damage heads as a media error would.
type rawVec struct {
	Data   obj.OID
	N, Cap uint64
}

// Damaged heads are errors wrapping core.ErrCorrupt, never panics: the
// offsets and lengths read from the pool are checked.
func TestDamagedHeads(t *testing.T) {
	p, _, r := newPool(t)
	v := vectorOf(t, p, &r.Vec)
	if err := v.Append(1, 2, 3); err != nil {
		t.Fatal(err)
	}
	good := *(*rawVec)(unsafe.Pointer(&r.Vec))
	small, err := p.Zalloc(16, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []rawVec{
		{good.Data, good.Cap + 1, good.Cap}, // length beyond capacity
		{obj.OID{}, 0, 8},                   // capacity without an object
		{obj.OID{PoolUUIDLo: good.Data.PoolUUIDLo, Off: good.Data.Off + 16}, 1, 8}, // inside an object, not its start
		{small, 1, 1000},        // 8000 bytes in a small object
		{good.Data, 1, 1 << 62}, // a capacity that overflows
	} {
		*(*rawVec)(unsafe.Pointer(&r.Vec)) = bad
		if _, err := containers.OpenVector(p, &r.Vec); !errors.Is(err, core.ErrCorrupt) {
			t.Errorf("vector head %+v: %v, want ErrCorrupt", bad, err)
		}
	}
	*(*rawVec)(unsafe.Pointer(&r.Vec)) = good

	// A string whose inline length is beyond its head.
	(*rawVec)(unsafe.Pointer(&r.Str)).N = containers.StringInline + 1
	if _, err := containers.OpenString(p, &r.Str); !errors.Is(err, core.ErrCorrupt) {
		t.Errorf("string: %v, want ErrCorrupt", err)
	}
	(*rawVec)(unsafe.Pointer(&r.Str)).N = 0

	// Segment vectors: more segments than the head holds, a length beyond
	// the segments, a segment that is not an object.
	seg := (*[2 + 2*containers.SegmentCount]uint64)(unsafe.Pointer(&r.Seg))
	for _, damage := range []func(){
		func() { seg[1] = containers.SegmentCount + 1 },
		func() { seg[0] = 9 },
		func() { // segment 4 (64 elements) in a small object
			seg[1] = 5
			for k := range 5 {
				seg[2+2*k], seg[3+2*k] = small.PoolUUIDLo, small.Off
			}
		},
		func() { seg[1], seg[2], seg[3] = 1, small.PoolUUIDLo, small.Off+8 },
	} {
		*seg = [2 + 2*containers.SegmentCount]uint64{}
		damage()
		if _, err := containers.OpenSegmentVector(p, &r.Seg); !errors.Is(err, core.ErrCorrupt) {
			t.Errorf("segment vector head %v: %v, want ErrCorrupt", seg[:4], err)
		}
	}
	*seg = [2 + 2*containers.SegmentCount]uint64{}
}
