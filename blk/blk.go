package blk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/gopmdk/pmdk/blk/internal/btt"
	"github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/hal"
)

// Sizes of libpmemblk 1.12.1 (libpmemblk.h, blk.h).
const (
	// MinPoolSize is the smallest pool size in bytes (PMEMBLK_MIN_POOL).
	MinPoolSize = layout.MinPoolSize
	// MinBlockSize is the smallest internal block; smaller block sizes
	// are stored in blocks of this size (PMEMBLK_MIN_BLK).
	MinBlockSize = layout.MinBlockSize
	// DefaultBlockSize is the block size Create uses when
	// Options.BlockSize is 0.
	DefaultBlockSize = 512
	// descOff is where the pmemblk descriptor (bsize, is_zeroed) follows
	// the pool header; dataOff is where the BTT starts.
	descOff = layout.DescOffset
	dataOff = layout.BTTOffset
)

// Options tune Create, Open, CreateOnMap, OpenOnMap and Check; nil means
// C's defaults. The common options (ReadOnly, IgnoreSDS, IgnoreBadBlocks,
// Logger) are pool.Options', promoted.
type Options struct {
	// BlockSize is the block size in bytes (C's bsize). Create and
	// CreateOnMap: the size of every block of the new pool, 0 meaning
	// DefaultBlockSize. Open, OpenOnMap and Check: 0 accepts the pool's
	// block size; any other value must equal it, or they fail with
	// ErrBlockSize, as pmemblk_open fails with EINVAL (and Check reports
	// a problem, as pmemblk_check returns 0).
	BlockSize int
	// Zeroed, for CreateOnMap: the caller states that m is zero past its
	// first page, so the first write need not clear the BTT map (C's
	// is_zeroed, which pmemblk_create sets for a file it made). Create
	// knows it by itself; Open ignores it.
	Zeroed bool
	pool.Options
}

// value returns the options o points to, or the zero value for nil.
func (o *Options) value() Options {
	if o == nil {
		return Options{}
	}
	return *o
}

// createBSize is the block size a create asks for.
func (o *Options) createBSize() (uint32, error) {
	bsize := o.BlockSize
	if bsize == 0 {
		bsize = DefaultBlockSize
	}
	if bsize < 0 || uint64(bsize) > math.MaxUint32 {
		return 0, fmt.Errorf("%w: %d", ErrBlockSize, bsize)
	}
	return uint32(bsize), nil
}

// openBSize is the block size an open expects, 0 for any.
func (o *Options) openBSize() (uint32, error) {
	if o.BlockSize < 0 || uint64(o.BlockSize) > math.MaxUint32 {
		return 0, fmt.Errorf("%w: %d", ErrBlockSize, o.BlockSize)
	}
	return uint32(o.BlockSize), nil
}

// Pool is an open block pool. ReadBlock, WriteBlock, SetZero, SetError,
// ReadAt and WriteAt may be called from many goroutines at once; Check and
// Close wait for the calls in progress.
type Pool struct {
	p        *pool.Pool
	bsize    uint32
	t        *btt.BTT
	readOnly bool
	closed   atomic.Bool
	lanes    lanes
	// procSlots: a read on P i uses read slot i, one on a P past them a
	// lane and slot procSlots+lane (see ReadBlock).
	procSlots int
}

// Create creates a block pool at path of poolsize bytes, as
// pmemblk_create: poolsize 0 takes the existing file at path (whose header
// area must be zero) as the pool. opts.BlockSize is the block size (0:
// DefaultBlockSize); opts may be nil. The BTT layout is written by the
// first WriteBlock or SetError, as C does.
//
// With poolsize 0, path may name a poolset file (man 5 poolset): the pool
// is created on its parts and replicas, as C does (see package core/pool;
// local replicas are allowed here although C refuses them for blk pools).
func Create(path string, poolsize int64, perm os.FileMode, opts *Options) (*Pool, error) {
	o := opts.value()
	bsize, err := o.createBSize()
	if err != nil {
		return nil, err
	}
	// Refuse a block size the pool cannot hold before touching the file.
	size := poolsize
	if size == 0 {
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
	}
	if size >= MinPoolSize {
		mapped := uint64(size) &^ (4096 - 1) // core/pool maps whole pages
		if _, _, ok := layout.Geometry(mapped-dataOff, bsize); !ok {
			return nil, fmt.Errorf("blk: create %s: %w: %d-byte blocks do not fit %d bytes", path, ErrBlockSize, bsize, size)
		}
	}
	p, err := pool.Create(path, poolsize, perm, pool.Blk, &o.Options)
	if err != nil {
		return nil, fmt.Errorf("blk: %w", err)
	}
	// C counts a pool as zeroed only when it created the file.
	bp, err := create(p, bsize, poolsize > 0)
	if err != nil {
		p.Close()
		if poolsize > 0 {
			os.Remove(path) // only a file this call made
		}
		return nil, fmt.Errorf("blk: create %s: %w", path, err)
	}
	return bp, nil
}

// CreateOnMap creates a block pool on m, whose first page must be zero: for
// the crash simulator and other callers that bring their own mapping.
// opts.Zeroed states whether the rest of m is zero. Close closes m.
func CreateOnMap(m *core.Map, opts *Options) (*Pool, error) {
	o := opts.value()
	bsize, err := o.createBSize()
	if err != nil {
		return nil, err
	}
	p, err := pool.CreateOnMap(m, pool.Blk, &o.Options)
	if err != nil {
		return nil, fmt.Errorf("blk: %w", err)
	}
	bp, err := create(p, bsize, o.Zeroed)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("blk: create on map: %w", err)
	}
	return bp, nil
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
	m.Memcpy(d[layout.RuntimeDataAt-descOff:][:8], rt[:], 0)
	if err := m.Err(); err != nil {
		return nil, err
	}
	return start(p, bsize, zeroed)
}

// Open opens the block pool at path, as pmemblk_open: opts.BlockSize 0
// accepts the pool's block size, any other value must match it
// (ErrBlockSize); opts may be nil. Interrupted writes are completed from
// the flog. With opts.ReadOnly the file is mapped privately and nothing is
// written to it: reads work, writes fail with ErrReadOnly.
//
// path may name a poolset file, as in C: every part and replica is opened
// and checked (see package core/pool).
func Open(path string, opts *Options) (*Pool, error) {
	o := opts.value()
	bsize, err := o.openBSize()
	if err != nil {
		return nil, err
	}
	p, err := pool.Open(path, pool.Blk, &o.Options)
	if err != nil {
		return nil, fmt.Errorf("blk: %w", err)
	}
	bp, err := open(p, bsize)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("blk: open %s: %w", path, err)
	}
	return bp, nil
}

// OpenOnMap opens the block pool on m, as Open. Close closes m.
func OpenOnMap(m *core.Map, opts *Options) (*Pool, error) {
	o := opts.value()
	bsize, err := o.openBSize()
	if err != nil {
		return nil, err
	}
	p, err := pool.OpenOnMap(m, pool.Blk, &o.Options)
	if err != nil {
		return nil, fmt.Errorf("blk: %w", err)
	}
	bp, err := open(p, bsize)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("blk: open on map: %w", err)
	}
	return bp, nil
}

func open(p *pool.Pool, bsize uint32) (*Pool, error) {
	d := p.Map().Bytes()[descOff:dataOff]
	hb := binary.LittleEndian.Uint32(d[0:4])
	if hb == 0 {
		return nil, core.Corrupt(descOff, "blk descriptor: bsize", "> 0", 0)
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
	procs := runtime.GOMAXPROCS(0)
	t, err := btt.Open(btt.Config{
		Map: m, Off: dataOff, Size: int64(m.Size()) - dataOff, LBASize: bsize,
		ParentUUID: h.PoolsetUUID, Zeroed: zeroed, ReadOnly: p.ReadOnly(),
		ReadSlots: procs + layout.DefaultNFree,
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
	bp := &Pool{p: p, bsize: bsize, t: t, readOnly: p.ReadOnly(), procSlots: procs}
	bp.lanes.init(min(t.NLane(), t.NReadSlot()-procs))
	return bp, nil
}

// Close closes the pool (pmemblk_close). It is idempotent. Calls running
// meanwhile finish before the pool is unmapped; later ones fail with
// ErrClosed. It returns the pool's persist failure (core.ErrPersist), if a
// write-back failed.
func (p *Pool) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	// Every call but a read holds a lane while it touches the mapping and
	// looks at closed once it has it: with all lanes held, none is inside.
	// A read looks at closed once it has started (see ReadBlock): once
	// the reads in progress end, none is inside.
	p.lanes.lockAll()
	defer p.lanes.unlockAll()
	p.t.WaitReads()
	if !p.readOnly {
		p.t.Sync()
	}
	return p.p.Close()
}

// BSize returns the block size in bytes (pmemblk_bsize). After Close it
// returns 0, as every accessor of a closed pool returns its zero value (the
// methods that can fail return ErrClosed).
func (p *Pool) BSize() int {
	if p.closed.Load() {
		return 0
	}
	return int(p.bsize)
}

// NBlock returns the number of usable blocks: valid block numbers are
// 0..NBlock-1 (pmemblk_nblock). After Close it returns 0.
func (p *Pool) NBlock() int64 {
	if p.closed.Load() {
		return 0
	}
	return int64(p.t.NLBA())
}

// enter takes a lane (see lanes) and its lock; it fails once the pool is
// closed (checked under the lock, so Close cannot unmap underneath).
func (p *Pool) enter() (int, error) {
	l := p.lanes.lock()
	if p.closed.Load() {
		p.lanes.unlock(l)
		return 0, ErrClosed
	}
	return l, nil
}

func (p *Pool) exit(l int) { p.lanes.unlock(l) }

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

// ReadBlock copies block blockno into buf, which must hold BSize bytes
// (else ErrBlockSize; only the first BSize are written) (pmemblk_read). A block never written, or set to zero, reads as zeros;
// one set to the error state fails with ErrBlockError.
func (p *Pool) ReadBlock(buf []byte, blockno int64) error {
	if err := p.checkBlock(blockno, false); err != nil {
		return err
	}
	if len(buf) < int(p.bsize) {
		return fmt.Errorf("blk: read: buffer of %d bytes for %d-byte blocks: %w", len(buf), p.bsize, ErrBlockSize)
	}
	// Pinned to its P, the goroutine runs alone there until it unpins:
	// the P's read slot is its own, with no lock.
	if slot := hal.ProcPin(); slot < p.procSlots {
		err := p.read(slot, blockno, buf)
		hal.ProcUnpin()
		return err
	}
	hal.ProcUnpin()
	l := p.lanes.lock()
	err := p.read(p.procSlots+l, blockno, buf)
	p.lanes.unlock(l)
	return err
}

// read reads through a read slot the caller holds. Starting the read
// fences (StartRead), so Close, which sets closed and then waits for the
// reads in progress, either sees this one or is seen by it.
func (p *Pool) read(slot int, blockno int64, buf []byte) error {
	p.t.StartRead(slot)
	err := ErrClosed
	if !p.closed.Load() {
		err = p.t.ReadStarted(uint64(blockno), buf)
	}
	p.t.EndRead(slot)
	return err
}

// WriteBlock stores buf, exactly BSize bytes (else ErrBlockSize: a longer
// buffer is refused rather than cut), as block blockno, atomically: after
// a crash the block holds either its old or its new content
// (pmemblk_write). It persists before returning; a failed write-back is an
// error wrapping core.ErrPersist (see the package doc).
func (p *Pool) WriteBlock(buf []byte, blockno int64) error {
	if err := p.checkBlock(blockno, true); err != nil {
		return err
	}
	if len(buf) != int(p.bsize) {
		return fmt.Errorf("blk: write: buffer of %d bytes for %d-byte blocks: %w", len(buf), p.bsize, ErrBlockSize)
	}
	l, err := p.enter()
	if err != nil {
		return err
	}
	err = p.t.Write(l, uint64(blockno), buf)
	p.exit(l)
	return err
}

// SetZero makes block blockno read as zeros, atomically (pmemblk_set_zero).
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
// ErrBlockError until the block is written again (pmemblk_set_error).
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
// calls but reads wait until it is done. On a closed pool it returns
// ErrClosed as its only problem.
func (p *Pool) Check() []error {
	p.lanes.lockAll()
	defer p.lanes.unlockAll()
	if p.closed.Load() {
		return []error{ErrClosed}
	}
	return p.t.Check()
}

// Check opens the pool at path read-only, whatever opts says (nothing is
// written to the file, not even flog recovery), and checks it, as
// pmemblk_check: opts.BlockSize 0 takes the pool's block size, another
// value must match it. As every package's Check: problems lists what is
// wrong with the pool (empty: consistent), damage that keeps the pool from
// opening and a block size mismatch included; err says that the file
// could not be checked as a blk pool at all: missing, a directory, locked
// (ErrLocked), too small (ErrPoolTooSmall), a pool of another type or
// version (ErrWrongType, ErrVersion).
func Check(path string, opts *Options) (problems []error, err error) {
	o := opts.value()
	o.ReadOnly = true
	p, err := Open(path, &o)
	if err != nil {
		if errors.Is(err, core.ErrCorrupt) || errors.Is(err, ErrBlockSize) {
			return []error{err}, nil
		}
		return nil, err
	}
	defer p.Close()
	return p.Check(), nil
}
