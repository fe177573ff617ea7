package containers_test

import (
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/cobj"
	"github.com/gopmdk/pmdk/obj/containers"
)

// pushRound is how many push_backs a vector takes before the benchmarks
// free it (in a transaction of the loop): growth from empty included.
const pushRound = 4096

// BenchmarkVector measures a Vector[uint64]'s PushBack (one transaction
// each, reallocations included) and Get, beside the C peer: the same
// vector layout driven by C libpmemobj as libpmemobj-cpp's vector drives
// it (cobj.VectorPushN, VectorGetN; with -tags cpeer). Bytes are the
// elements' 8 bytes.
func BenchmarkVector(b *testing.B) {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1") // CPU flushes, as on pmem: not msync
	goVector := func(b *testing.B) (*obj.Pool, *containers.Vector[uint64]) {
		p, err := obj.Create(pmemtest.Path(b, "pool"), 64<<20, 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { p.Close() })
		rp, err := obj.RootPtr[containers.VectorHead[uint64]](p)
		if err != nil {
			b.Fatal(err)
		}
		h, _ := rp.Get(p)
		v, err := containers.OpenVector(p, h)
		if err != nil {
			b.Fatal(err)
		}
		return p, v
	}
	cVector := func(b *testing.B) (*cobj.Pool, cobj.OID) {
		if !cobj.Available {
			b.Skip(cobj.ErrUnavailable)
		}
		p, err := cobj.Create(pmemtest.Path(b, "cpool"), "", 64<<20, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { p.Close() })
		head, err := p.Root(32)
		if err != nil {
			b.Fatal(err)
		}
		return p, head
	}
	b.Run("push-back/go", func(b *testing.B) {
		_, v := goVector(b)
		benchPush(b, v)
	})
	b.Run("push-back/c", func(b *testing.B) {
		p, head := cVector(b)
		b.SetBytes(8)
		b.ResetTimer()
		if err := p.VectorPushN(head, b.N, pushRound); err != nil {
			b.Fatal(err)
		}
	})
	const getLen = 1 << 16
	b.Run("get/go", func(b *testing.B) {
		_, v := goVector(b)
		benchGet(b, v, getLen)
	})
	b.Run("get/c", func(b *testing.B) {
		p, head := cVector(b)
		if err := p.VectorPushN(head, getLen+1, getLen+2); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(8)
		b.ResetTimer()
		p.VectorGetN(head, b.N)
	})
}

// BenchmarkSegmentVector measures SegmentVector[uint64]'s PushBack and
// Get (no C peer: C libpmemobj has no segment vector; libpmemobj-cpp is
// not installed).
func BenchmarkSegmentVector(b *testing.B) {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1")
	open := func(b *testing.B) *containers.SegmentVector[uint64] {
		p, err := obj.Create(pmemtest.Path(b, "pool"), 64<<20, 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { p.Close() })
		rp, err := obj.RootPtr[containers.SegmentVectorHead[uint64]](p)
		if err != nil {
			b.Fatal(err)
		}
		h, _ := rp.Get(p)
		v, err := containers.OpenSegmentVector(p, h)
		if err != nil {
			b.Fatal(err)
		}
		return v
	}
	b.Run("push-back", func(b *testing.B) { benchPush(b, open(b)) })
	b.Run("get", func(b *testing.B) { benchGet(b, open(b), 1<<16) })
}

// benchVector is what the benchmarks ask of a vector.
type benchVector interface {
	PushBack(uint64) error
	Get(int) (uint64, error)
	Resize(int) error
	Free() error
}

// benchPush pushes (a transaction each), freeing the vector every
// pushRound.
func benchPush(b *testing.B, v benchVector) {
	b.SetBytes(8)
	i := 0
	for b.Loop() {
		var err error
		if i%pushRound == pushRound-1 {
			err = v.Free()
		} else {
			err = v.PushBack(uint64(i))
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// benchGet reads the n elements of v in turn.
func benchGet(b *testing.B, v benchVector, n int) {
	if err := v.Resize(n); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(8)
	var sum uint64
	i := 0
	for b.Loop() {
		if i == n {
			i = 0
		}
		x, err := v.Get(i)
		if err != nil {
			b.Fatal(err)
		}
		sum += x
		i++
	}
	_ = sum
}
