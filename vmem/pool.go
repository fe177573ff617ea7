package vmem

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MinPoolSize is the smallest pool Create and CreateInRegion accept, in
// bytes: VMEM_MIN_POOL of libvmem.h (14 MiB).
const MinPoolSize = 14 << 20

// Options tune a pool; the zero value (or nil) is the default.
type Options struct {
	// RetainFree is how many bytes of freed pages the pool keeps backed
	// by the file before it releases free extents of 64 KiB and more
	// (punching holes in the file, so the file system or the page cache
	// gets the memory back). 0 means an eighth of the pool; negative
	// means release at every chance.
	RetainFree int64
}

// A Pool is a volatile memory pool: a mapped file (Create) or a caller's
// region (CreateInRegion) and the allocator that carves it. All methods
// may run concurrently, except Close, which must run alone.
type Pool struct {
	mem    []byte // the whole pool
	size   int64
	base   uintptr
	ptr    unsafe.Pointer // &mem[0]
	mapped bool           // mem came from Mmap (Create): Close unmaps it
	file   *os.File

	heap     pageHeap
	centrals []central
	caches   []pcache
	uncached counters      // small operations of Ps past the caches' count
	drainGen atomic.Uint32 // bumped when memory runs out: every cache drains

	closed atomic.Bool
	closeM sync.Mutex
}

// counters of operations that ran without a per-P cache.
type counters struct {
	mu     sync.Mutex
	allocs uint64
	frees  uint64
	bytes  int64
}

func (c *counters) add(allocs, frees uint64, bytes int64) {
	c.mu.Lock()
	c.allocs += allocs
	c.frees += frees
	c.bytes += bytes
	c.mu.Unlock()
}

// Create makes a pool of size bytes in directory dir, as vmem_create: a
// temporary file that never has a name there (O_TMPFILE, or a name
// unlinked at once where the file system lacks it), its space allocated
// up front (so a full file system fails here, not at a page fault later),
// then mapped shared. Close, or the end of the process, gives the space
// back. A size under MinPoolSize is ErrTooSmall.
func Create(dir string, size int64, opts *Options) (*Pool, error) {
	if size < MinPoolSize {
		return nil, fmt.Errorf("vmem: create %d bytes in %s: %w", size, dir, ErrTooSmall)
	}
	if size != int64(int(size)) {
		return nil, fmt.Errorf("vmem: create %d bytes: %w", size, ErrInvalid)
	}
	f, err := tmpFile(dir)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Pool, error) {
		f.Close()
		return nil, err
	}
	if err := unix.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		if err != unix.EOPNOTSUPP {
			return fail(&os.PathError{Op: "fallocate", Path: dir, Err: err})
		}
		if err := f.Truncate(size); err != nil {
			return fail(err)
		}
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail(&os.PathError{Op: "mmap", Path: dir, Err: err})
	}
	p := newPool(mem, opts)
	p.mapped = true
	p.file = f
	return p, nil
}

// tmpFile opens a file in dir that has no name.
func tmpFile(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), dir+"/(vmem)"), nil
	}
	if err != unix.EOPNOTSUPP && err != unix.EISDIR && err != unix.EINVAL {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	f, err := os.CreateTemp(dir, "vmem.*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CreateInRegion makes a pool in region, as vmem_create_in_region: the
// caller's memory (a mapping, such as a core.Map's bytes), which must start
// on a page boundary and hold at least MinPoolSize bytes. Its contents are
// lost; the pool's allocations are slices of it. The pool releases freed
// extents with madvise(MADV_REMOVE), which only shared file mappings
// honour; on other memory it stops trying after the first refusal. Close
// leaves the region mapped.
func CreateInRegion(region []byte, opts *Options) (*Pool, error) {
	if len(region) < MinPoolSize {
		return nil, fmt.Errorf("vmem: create in a region of %d bytes: %w", len(region), ErrTooSmall)
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(region)))%uintptr(os.Getpagesize()) != 0 {
		return nil, ErrUnaligned
	}
	return newPool(region, opts), nil
}

func newPool(mem []byte, opts *Options) *Pool {
	if opts == nil {
		opts = &Options{}
	}
	p := &Pool{mem: mem, ptr: unsafe.Pointer(unsafe.SliceData(mem))}
	p.base = uintptr(p.ptr)
	p.size = int64(len(mem))
	npages := uint32(len(mem) / pageSize)
	retain := uint64(len(mem) / retainDivisor)
	switch {
	case opts.RetainFree < 0:
		retain = 0
	case opts.RetainFree > 0:
		retain = uint64(opts.RetainFree)
	}
	p.heap.init(npages, retain/pageSize, p.release)
	p.heap.basePage = uint32(p.base >> pageShift)
	p.centrals = make([]central, nclass)
	p.initCaches(runtime.GOMAXPROCS(0))
	return p
}

// release gives n pages from page back to the file; false when the
// memory does not support it.
func (p *Pool) release(page, n uint32) bool {
	sys := uintptr(os.Getpagesize())
	lo := (uintptr(page)*pageSize + sys - 1) &^ (sys - 1)
	hi := (uintptr(page+n) * pageSize) &^ (sys - 1)
	if hi <= lo {
		return true
	}
	return unix.Madvise(p.mem[lo:hi], unix.MADV_REMOVE) == nil
}

// Close deletes the pool, as vmem_delete: a Create pool's mapping and file
// go away; a region pool's region stays mapped. Every allocation becomes
// invalid; Close must not run concurrently with other calls on the pool.
// A second Close returns nil.
func (p *Pool) Close() error {
	p.closeM.Lock()
	defer p.closeM.Unlock()
	if p.closed.Swap(true) {
		return nil
	}
	var err error
	if p.mapped {
		err = unix.Munmap(p.mem)
	}
	if p.file != nil {
		if cerr := p.file.Close(); err == nil {
			err = cerr
		}
	}
	p.mem = nil
	return err
}

// Size returns the pool's size in bytes, as given to Create or the
// region's length.
func (p *Pool) Size() int64 { return p.size }
