package vmem

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/vmem/cmemkind"
)

// The workloads of BenchmarkMallocFree: a fixed size allocated, touched
// and freed at once, or the mixed workload (a ring of mixedWindow live
// allocations, each operation replacing one by the next size of
// mixedSizes).
var benchSizes = []struct {
	name string
	size int // 0: mixed
}{{"64B", 64}, {"4KiB", 4 << 10}, {"1MiB", 1 << 20}, {"mixed", 0}}

const (
	benchPool   = 64 << 20
	mixedWindow = 256
)

// mixedSizes: 70% 16–256 bytes, 25% up to 8 KiB, 5% up to 256 KiB, in a
// fixed pseudo-random order.
var mixedSizes = func() []uint32 {
	r := rand.New(rand.NewPCG(1, 2))
	s := make([]uint32, 4096)
	for i := range s {
		switch x := r.IntN(100); {
		case x < 70:
			s[i] = uint32(16 + r.IntN(241))
		case x < 95:
			s[i] = uint32(256 + r.IntN(8<<10-256))
		default:
			s[i] = uint32(8<<10 + r.IntN(248<<10))
		}
	}
	return s
}()

// An allocator under benchmark: run does n operations of a workload on
// the calling goroutine.
type benchImpl struct {
	name string
	run  func(size, n int) error
	done func()
}

func vmemImpl(tb testing.TB) benchImpl {
	p, err := Create(testDir(tb), benchPool, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return benchImpl{"vmem", func(size, n int) error {
		if size > 0 {
			for range n {
				b, err := p.Malloc(size)
				if err != nil {
					return err
				}
				b[0] = 1
				p.Free(b)
			}
			return nil
		}
		var ring [mixedWindow][]byte
		for i := range n {
			s := i % mixedWindow
			p.Free(ring[s])
			b, err := p.Malloc(int(mixedSizes[i%len(mixedSizes)]))
			if err != nil {
				return err
			}
			b[0] = byte(i)
			ring[s] = b
		}
		for _, b := range ring {
			p.Free(b)
		}
		return nil
	}, func() { p.Close() }}
}

var sink [2][]byte

func goImpl(testing.TB) benchImpl {
	var mu sync.Mutex
	next := 0
	return benchImpl{"go", func(size, n int) error {
		mu.Lock()
		g := next % 2
		next++
		mu.Unlock()
		if size > 0 {
			for range n {
				b := make([]byte, size)
				b[0] = 1
				sink[g] = b
			}
			return nil
		}
		var ring [mixedWindow][]byte
		for i := range n {
			b := make([]byte, mixedSizes[i%len(mixedSizes)])
			b[0] = byte(i)
			ring[i%mixedWindow] = b
		}
		sink[g] = ring[0]
		return nil
	}, func() {}}
}

func memkindImpl(tb testing.TB) (benchImpl, bool) {
	k, err := cmemkind.Create(testDir(tb), benchPool)
	if err != nil {
		return benchImpl{}, false
	}
	return benchImpl{"memkind", func(size, n int) error {
		if size > 0 {
			return k.MallocFreeN(size, n)
		}
		return k.MixedN(mixedSizes, mixedWindow, n)
	}, k.Destroy}, true
}

// runSplit runs n operations split over g goroutines.
func runSplit(impl benchImpl, size, n, g int) error {
	var wg sync.WaitGroup
	errs := make([]error, g)
	for i := range g {
		wg.Go(func() { errs[i] = impl.run(size, n/g) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkMallocFree: vmem beside Go's allocator (make, dropped to the
// GC) and memkind's PMEM kind (the C peer, built with -tags cpeer), on 1
// and 2 goroutines.
func BenchmarkMallocFree(b *testing.B) {
	for _, ws := range benchSizes {
		for _, g := range []int{1, 2} {
			impls := []func(testing.TB) (benchImpl, bool){
				func(tb testing.TB) (benchImpl, bool) { return vmemImpl(tb), true },
				func(tb testing.TB) (benchImpl, bool) { return goImpl(tb), true },
				memkindImpl,
			}
			for k, mk := range impls {
				name := []string{"vmem", "go", "memkind"}[k]
				b.Run(fmt.Sprintf("%s/goroutines=%d/%s", ws.name, g, name), func(b *testing.B) {
					impl, ok := mk(b)
					if !ok {
						b.Skip("memkind peer not built (-tags cpeer)")
					}
					defer impl.done()
					b.ResetTimer()
					if err := runSplit(impl, ws.size, b.N, g); err != nil {
						b.Fatal(err)
					}
				})
			}
		}
	}
}
