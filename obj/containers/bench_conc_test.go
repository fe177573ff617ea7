package containers_test

import (
	"encoding/binary"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

// benchPool creates a 256 MiB pool with CPU flushes (as on pmem).
func benchPool(b *testing.B) (*obj.Pool, *concRoot) {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1")
	p, err := obj.Create(pmemtest.Path(b, "pool"), 256<<20, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p, concRootOf(b, p)
}

// benchKey is the 16-byte key of i: a scrambled counter, as random keys.
func benchKey(buf []byte, i uint64) []byte {
	binary.BigEndian.PutUint64(buf, i*0x9e3779b97f4a7c15)
	binary.BigEndian.PutUint64(buf[8:], i)
	return buf[:16]
}

const benchKeys = 100_000

// BenchmarkRadix measures durable 64-byte puts of new keys (a
// transaction each) and gets of present ones, on a BytesRadix.
func BenchmarkRadix(b *testing.B) {
	val := make([]byte, 64)
	newTree := func(b *testing.B) (*obj.Pool, *containers.BytesRadix) {
		p, root := benchPool(b)
		return p, makeIn(b, p, &root.Tree, func(tx *obj.Tx) (*containers.BytesRadix, error) {
			return containers.NewBytesRadix(tx, p)
		})
	}
	b.Run("put", func(b *testing.B) {
		_, t := newTree(b)
		var kb [16]byte
		b.SetBytes(int64(len(val)))
		i := uint64(0)
		for b.Loop() {
			if err := t.Put(nil, benchKey(kb[:], i%benchKeys), val); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e3, "kput/s")
	})
	b.Run("put-in-tx", func(b *testing.B) { // the caller's transaction, one put each
		p, t := newTree(b)
		var kb [16]byte
		b.SetBytes(int64(len(val)))
		i := uint64(0)
		for b.Loop() {
			if err := p.Tx(func(tx *obj.Tx) error { return t.Put(tx, benchKey(kb[:], i%benchKeys), val) }); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e3, "kput/s")
	})
	b.Run("get", func(b *testing.B) {
		_, t := newTree(b)
		var kb [16]byte
		for i := range uint64(benchKeys) {
			if err := t.Put(nil, benchKey(kb[:], i), val); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(val)))
		i := uint64(0)
		var dst []byte
		for b.Loop() {
			var err error
			if dst, err = t.Get(dst[:0], benchKey(kb[:], i%benchKeys)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mget/s")
	})
}

// BenchmarkHashMap measures durable 64-byte puts and gets on a
// BytesHashMap from GOMAXPROCS goroutines.
func BenchmarkHashMap(b *testing.B) {
	val := make([]byte, 64)
	newMap := func(b *testing.B) *containers.BytesHashMap {
		p, root := benchPool(b)
		return newConcHashMap(b, p, root)
	}
	b.Run("put", func(b *testing.B) {
		m := newMap(b)
		b.SetBytes(int64(len(val)))
		var next atomicCounter
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var kb [16]byte
			for pb.Next() {
				if err := m.Put(benchKey(kb[:], next.add()%benchKeys), val); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e3, "kput/s")
	})
	b.Run("get", func(b *testing.B) {
		m := newMap(b)
		var kb [16]byte
		for i := range uint64(benchKeys) {
			if err := m.Put(benchKey(kb[:], i), val); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(val)))
		var next atomicCounter
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var kb [16]byte
			var dst []byte
			for pb.Next() {
				var err error
				if dst, err = m.Get(dst[:0], benchKey(kb[:], next.add()%benchKeys)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mget/s")
	})
}

// BenchmarkQueue measures durable 64-byte produces from GOMAXPROCS
// goroutines while one consumer drains the ring.
func BenchmarkQueue(b *testing.B) {
	p, root := benchPool(b)
	q := newConcQueue(b, p, root, 1<<20)
	rec := make([]byte, 64)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := q.Consume(func([]byte) error { return nil }); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	b.SetBytes(int64(len(rec)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for {
				err := q.Produce(rec)
				if err == nil {
					break
				}
				if err != containers.ErrQueueFull {
					b.Error(err)
					return
				}
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
	close(stop)
	<-done
}
