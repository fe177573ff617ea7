package blk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gopmdk/pmdk/blk/internal/btt"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
)

// Sizes of libpmemblk 1.12.1 (libpmemblk.h, blk.h).
const (
	// MinPool is the smallest pool size in bytes (PMEMBLK_MIN_POOL).
	MinPool = 16<<20 + 8<<10
	// MinBlock is the smallest internal block; smaller block sizes are
	// stored in blocks of this size (PMEMBLK_MIN_BLK).
	MinBlock = 512
	// descOff is where the pmemblk descriptor (bsize, is_zeroed) follows
	// the pool header; dataOff is where the BTT starts (the descriptor
	// and C's run-time fields rounded up to a page).
	descOff = pool.HeaderSize
	dataOff = 2 * pool.HeaderSize
	// rtDataOff is where, relative to descOff, C's run-time struct keeps
	// its data pointer (struct pmemblk: bsize, is_zeroed, addr, size,
	// is_pmem, rdonly, data).
	rtDataOff = 32
)

// Pool is an open block pool. Read, Write, SetZero and SetError may be
// called from many goroutines at once; Check and Close wait for the calls
// in progress.
type Pool struct {
	p        *pool.Pool
	bsize    uint32
	t        *btt.BTT
	readOnly bool
	lanes    []lane
	closed   atomic.Bool
	// next picks lanes round robin; every call bumps it, so it has a
	// cache line of its own instead of invalidating the fields above.
	_    [64]byte
	next atomic.Uint32
	_    [60]byte
}

type lane struct {
	sync.Mutex
	_ [56]byte
}

// Create creates a block pool at path of poolsize bytes with blocks of
// bsize bytes, as pmemblk_create: poolsize 0 takes the existing file at
// path (whose header area must be zero) as the pool. The BTT layout is
// written by the first Write or SetError, as C does.
func Create(path string, bsize int, poolsize int64, perm os.FileMode) (*Pool, error) {
	if err := checkBSize(bsize); err != nil {
		return nil, err
	}
	// Refuse a block size the pool cannot hold before touching the file.
	size := poolsize
	if size == 0 {
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
	}
	if size >= MinPool {
		mapped := uint64(size) &^ (4096 - 1) // core/pool maps whole pages
		if _, _, ok := btt.Geometry(mapped-dataOff, uint32(bsize)); !ok {
			return nil, fmt.Errorf("blk: create %s: %w: %d-byte blocks do not fit %d bytes", path, ErrBlockSize, bsize, size)
		}
	}
	p, err := pool.Create(path, poolsize, perm, pool.Blk)
	if err != nil {
		return nil, fmt.Errorf("blk: create: %w", err)
	}
	// C counts a pool as zeroed only when it created the file.
	bp, err := create(p, uint32(bsize), poolsize > 0)
	if err != nil {
		p.Close()
		if poolsize > 0 {
			os.Remove(path) // only a file this call made
		}
		return nil, fmt.Errorf("blk: create %s: %w", path, err)
	}
	return bp, nil
}

// CreateOnMap creates a block pool on m, whose first page must be zero and
// whose other bytes the caller states to be zero or not: for the crash
// simulator.
func CreateOnMap(m *core.Map, bsize int, zeroed bool) (*Pool, error) {
	if err := checkBSize(bsize); err != nil {
		return nil, err
	}
	p, err := pool.CreateOnMap(m, pool.Blk)
	if err != nil {
		return nil, fmt.Errorf("blk: create: %w", err)
	}
	return create(p, uint32(bsize), zeroed)
}

func checkBSize(bsize int) error {
	if bsize <= 0 || uint64(bsize) > math.MaxUint32 {
		return fmt.Errorf("%w: %d", ErrBlockSize, bsize)
	}
	return nil
}

// create writes the pmemblk descriptor after the header, bsize first, then
// is_zeroed, each persisted, and zeros where C keeps its run-time fields.
func create(p *pool.Pool, bsize uint32, zeroed bool) (*Pool, error) {
	m := p.Map()
	d := m.Bytes()[descOff:dataOff]
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], bsize)
	m.Memcpy(d[0:4], b[:], 0)
	z := uint32(0)
	if zeroed {
		z = 1
	}
	binary.LittleEndian.PutUint32(b[:], z)
	m.Memcpy(d[4:8], b[:], 0)
	// C keeps run-time fields after the descriptor, pointers among them,
	// and pmempool info finds the BTT at data - addr. Store the offsets
	// themselves (addr 0, data dataOff) so that difference is right.
	var rt [8]byte
	binary.LittleEndian.PutUint64(rt[:], dataOff)
	m.Memcpy(d[rtDataOff:rtDataOff+8], rt[:], 0)
	if err := m.Err(); err != nil {
		return nil, err
	}
	return start(p, bsize, zeroed)
}

// Open opens the block pool at path. bsize 0 takes the pool's block size;
// any other value must match it. Interrupted writes are completed from the
// flog.
func Open(path string, bsize int) (*Pool, error) {
	return openPath(path, bsize, pool.Options{})
}

func openPath(path string, bsize int, o pool.Options) (*Pool, error) {
	if bsize < 0 || uint64(bsize) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d", ErrBlockSize, bsize)
	}
	p, err := pool.Open(path, pool.Blk, o)
	if err != nil {
		return nil, fmt.Errorf("blk: open: %w", err)
	}
	bp, err := open(p, uint32(bsize))
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("blk: open %s: %w", path, err)
	}
	return bp, nil
}

// OpenOnMap opens the block pool on m, as Open.
func OpenOnMap(m *core.Map, bsize int) (*Pool, error) {
	if bsize < 0 || uint64(bsize) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d", ErrBlockSize, bsize)
	}
	p, err := pool.OpenOnMap(m, pool.Blk, pool.Options{})
	if err != nil {
		return nil, fmt.Errorf("blk: open: %w", err)
	}
	return open(p, uint32(bsize))
}

func open(p *pool.Pool, bsize uint32) (*Pool, error) {
	d := p.Map().Bytes()[descOff:dataOff]
	hb := binary.LittleEndian.Uint32(d[0:4])
	if hb == 0 {
		return nil, core.Corrupt(descOff, "blk: bsize", "> 0", 0)
	}
	if bsize != 0 && bsize != hb {
		return nil, fmt.Errorf("%w: %d, pool created with %d", ErrBlockSize, bsize, hb)
	}
	zeroed := binary.LittleEndian.Uint32(d[4:8]) != 0
	return start(p, hb, zeroed)
}

// start sets up the BTT over the pool's data area and the lanes.
func start(p *pool.Pool, bsize uint32, zeroed bool) (*Pool, error) {
	m := p.Map()
	h := p.Header()
	t, err := btt.Open(btt.Config{
		Map: m, Off: dataOff, Size: int64(m.Size()) - dataOff, LBASize: bsize,
		ParentUUID: h.PoolsetUUID, MaxLane: 2 * runtime.NumCPU(), Zeroed: zeroed, ReadOnly: p.ReadOnly(),
	})
	if err != nil {
		if errors.Is(err, btt.ErrBlockSize) {
			err = fmt.Errorf("%w: %w", ErrBlockSize, err)
		}
		return nil, err
	}
	if err := m.Err(); err != nil { // what recovery wrote did not persist
		return nil, err
	}
	bp := &Pool{p: p, bsize: bsize, t: t, readOnly: p.ReadOnly()}
	bp.lanes = make([]lane, t.NLane())
	return bp, nil
}

// Close closes the pool. It is idempotent. Calls running meanwhile finish
// before the pool is unmapped; later ones fail with ErrClosed. It returns
// the pool's persist failure (core.ErrPersist), if a write-back failed.
func (p *Pool) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	// Every call holds a lane while it touches the mapping and looks at
	// closed once it has it: with all lanes held, none is inside.
	p.lockAll()
	defer p.unlockAll()
	return p.p.Close()
}

func (p *Pool) lockAll() {
	for i := range p.lanes {
		p.lanes[i].Lock()
	}
}

func (p *Pool) unlockAll() {
	for i := range p.lanes {
		p.lanes[i].Unlock()
	}
}

// BSize returns the block size in bytes.
func (p *Pool) BSize() int { return int(p.bsize) }

// NBlock returns the number of usable blocks: valid block numbers are
// 0..NBlock-1.
func (p *Pool) NBlock() int64 { return int64(p.t.NLBA()) }

// enter takes a lane (round robin) and its lock; it fails once the pool is
// closed (checked under the lock, so Close cannot unmap underneath).
func (p *Pool) enter() (int, error) {
	// Modulo in uint32: int of a uint32 is negative on 32-bit platforms.
	l := int((p.next.Add(1) - 1) % uint32(len(p.lanes)))
	p.lanes[l].Lock()
	if p.closed.Load() {
		p.lanes[l].Unlock()
		return 0, ErrClosed
	}
	return l, nil
}

func (p *Pool) exit(l int) { p.lanes[l].Unlock() }

func (p *Pool) checkBlock(blockno int64, write bool) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if write && p.readOnly {
		return ErrReadOnly
	}
	if write {
		if err := p.p.Map().Err(); err != nil {
			return fmt.Errorf("blk: %w", err) // a write-back failed: trust no more writes
		}
	}
	if blockno < 0 {
		return fmt.Errorf("%w: %d", ErrRange, blockno)
	}
	return nil
}

// Read copies block blockno into buf, which must hold BSize bytes. A block
// never written, or set to zero, reads as zeros; one set to the error
// state fails with ErrBlockError.
func (p *Pool) Read(buf []byte, blockno int64) error {
	if err := p.checkBlock(blockno, false); err != nil {
		return err
	}
	if len(buf) < int(p.bsize) {
		return fmt.Errorf("blk: read: buffer of %d bytes for %d-byte blocks", len(buf), p.bsize)
	}
	l, err := p.enter()
	if err != nil {
		return err
	}
	err = p.t.Read(l, uint64(blockno), buf)
	p.exit(l)
	return err
}

// Write stores buf (BSize bytes) as block blockno, atomically: after a
// crash the block holds either its old or its new content. It persists
// before returning; a failed write-back is an error wrapping
// core.ErrPersist (see the package doc).
func (p *Pool) Write(buf []byte, blockno int64) error {
	if err := p.checkBlock(blockno, true); err != nil {
		return err
	}
	if len(buf) < int(p.bsize) {
		return fmt.Errorf("blk: write: buffer of %d bytes for %d-byte blocks", len(buf), p.bsize)
	}
	l, err := p.enter()
	if err != nil {
		return err
	}
	err = p.t.Write(l, uint64(blockno), buf)
	p.exit(l)
	return err
}

// SetZero makes block blockno read as zeros, atomically.
func (p *Pool) SetZero(blockno int64) error {
	if err := p.checkBlock(blockno, true); err != nil {
		return err
	}
	l, err := p.enter()
	if err != nil {
		return err
	}
	err = p.t.SetZero(l, uint64(blockno))
	p.exit(l)
	return err
}

// SetError puts block blockno in the error state: reads fail with
// ErrBlockError until the block is written again.
func (p *Pool) SetError(blockno int64) error {
	if err := p.checkBlock(blockno, true); err != nil {
		return err
	}
	l, err := p.enter()
	if err != nil {
		return err
	}
	err = p.t.SetError(l, uint64(blockno))
	p.exit(l)
	return err
}

// Check verifies the BTT of the open pool: every data block is used by
// exactly one block number or is one arena's free block, and no flog pair
// is broken. It returns the problems found, each a *core.CorruptError
// naming the offset; none means consistent. It holds every lane, so other
// calls wait until it is done.
func (p *Pool) Check() []error {
	p.lockAll()
	defer p.unlockAll()
	if p.closed.Load() {
		return []error{ErrClosed}
	}
	return p.t.Check()
}

// Check opens the pool at path read-only (nothing is written to the file,
// not even flog recovery) and checks it, as pmemblk_check. bsize 0 takes
// the pool's block size. problems is empty for a consistent pool;
// corruption that keeps the pool from opening is reported as a problem
// too. err is set when the check could not run at all.
func Check(path string, bsize int) (problems []error, err error) {
	p, err := openPath(path, bsize, pool.Options{ReadOnly: true})
	if err != nil {
		if errors.Is(err, core.ErrCorrupt) || errors.Is(err, ErrBlockSize) {
			return []error{err}, nil
		}
		return nil, err
	}
	defer p.Close()
	return p.Check(), nil
}
