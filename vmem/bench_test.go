package vmem

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
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
	p, err := Create(pmemtest.Dir(tb), benchPool, nil)
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
	// memkind gets more room than vmem's pool: its jemalloc keeps freed
	// extents per arena, one per thread, and Go runs cgo calls on several
	// threads. (Its file grows only as it is used.) memkind has crashed,
	// intermittently, in this process (SIGSEGV inside memkind_arena_malloc,
	// with 64 and 256 MiB kinds, mostly in the mixed workload on two
	// goroutines); a C program running the same loops on two threads has
	// not. Under gdb it crashed once in the mixed workload on ONE
	// goroutine (inside memkind_malloc, called from gopmdk_mixed_n; 2 of 5
	// runs of all workloads, 0 of 11 runs of the mixed or 1 MiB and mixed
	// workloads alone): the kind is broken by the earlier workloads on two
	// threads. No misuse on our side was found: one kind for the process,
	// each loop one C call (so on one thread from start to end; locking
	// the goroutine to its thread would change nothing), no memkind call
	// outside those loops, malloc and free of an allocation on the same
	// thread.
	k, err := cmemkind.Create(pmemtest.Dir(tb), 4*benchPool)
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
// and 2 goroutines. One pool and one kind serve every sub-benchmark.
func BenchmarkMallocFree(b *testing.B) {
	impls := []benchImpl{vmemImpl(b), goImpl(b)}
	if mk, ok := memkindImpl(b); ok {
		impls = append(impls, mk)
	}
	defer func() {
		for _, im := range impls {
			im.done()
		}
	}()
	for _, ws := range benchSizes {
		for _, g := range []int{1, 2} {
			for _, name := range []string{"vmem", "go", "memkind"} {
				b.Run(fmt.Sprintf("%s/goroutines=%d/%s", ws.name, g, name), func(b *testing.B) {
					i := slices.IndexFunc(impls, func(im benchImpl) bool { return im.name == name })
					if i < 0 {
						b.Skip("memkind peer not built (-tags cpeer)")
					}
					if name == "memkind" && ws.size == 0 && g == 2 && os.Getenv("VMEM_MEMKIND_MIXED2") == "" {
						// It crashes the process now and then (see
						// memkindImpl); TestPeerRatios measures it in a
						// process of its own.
						b.Skip("memkind crashes at times on this workload: set VMEM_MEMKIND_MIXED2=1 to run it")
					}
					if err := runSplit(impls[i], ws.size, b.N, g); err != nil {
						b.Fatal(err)
					}
				})
			}
		}
	}
}
