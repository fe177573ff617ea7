// Package btt implements the Block Translation Table of PMDK 1.12.1 over a
// byte range (the namespace) of a core.Map: arenas with their info blocks,
// map, flog and data area; atomic block writes through the flog; flog
// recovery when the namespace is opened; and the consistency check.
package btt

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/hal"
)

// Errors of the BTT. Corruption found on media wraps core.ErrCorrupt.
var (
	// ErrBlockError: the block was marked with SetError; reads fail.
	ErrBlockError = errors.New("blk: block is in the error state")
	// ErrArenaError: the arena is in the error state; writes fail.
	ErrArenaError = errors.New("blk: arena is in the error state")
	// ErrLBARange: the block number is not below NLBA.
	ErrLBARange = errors.New("blk: block number out of range")
	// ErrBlockSize: the layout was written with another block size.
	ErrBlockSize = errors.New("blk: block size does not match the BTT layout")
	// ErrTooSmall: the namespace cannot hold a BTT.
	ErrTooSmall = errors.New("blk: pool too small for a BTT")
)

// mapLockAlign is BTT_MAP_LOCK_ALIGN: map entries within one such span
// share a map lock.
const mapLockAlign = 64

// mapLocks is the number of map locks per arena. C has nfree (256), but a
// write holds its map lock longer here (from before the data copy to the
// map update, see Write): with two writers on random blocks one write in
// 128 would wait on the other, and a wait that parks costs tens of
// microseconds. With 4096 (32 KiB of mutexes, eight to a cache line) it is
// one in 2048.
const mapLocks = 4096

func entryIsError(e uint32) bool   { return e&layout.MapFlagMask == layout.MapError }
func entryIsInitial(e uint32) bool { return e&layout.MapFlagMask == 0 }
func entryIsZeroOrInitial(e uint32) bool {
	f := e & layout.MapFlagMask
	return f == 0 || f == layout.MapZero
}

// BTT is an open BTT namespace. Write, SetZero and SetError may run
// concurrently as long as each caller holds a distinct lane in [0, NLane);
// reads run beside them, each caller holding a distinct read slot in [0,
// NReadSlot) (see StartRead).
type BTT struct {
	m       *core.Map
	ns      []byte // the namespace, a part of m
	nsOff   int64  // offset of ns within m, for error reports
	rawSize uint64
	lbasize uint32
	zeroed  bool // the namespace was zero when the pool was created
	rdonly  bool // opened for checking: repair nothing
	// deferMap: a write leaves its map entry to be flushed by the lane's
	// next write (see Write); false on page-cache mappings.
	deferMap bool
	// k copies blocks out to readers (hal.Kernels.Copy: the widest vector
	// loads and stores, where the builtin copy spends a quarter more).
	k      *hal.Kernels
	parent [16]byte

	nfree  uint32
	nlane  int
	nlba   uint64
	narena int
	// slots tell writers which reads are in progress (see StartRead);
	// used is one more than the highest slot a read has used, the slots
	// a writer looks at.
	slots []readSlot
	used  atomic.Int32
	// waitHook, if set (by tests), is called when a writer finds the read
	// through a slot in progress, before it waits for it to end.
	waitHook func(slot int)

	layoutMu sync.Mutex
	laidout  atomic.Bool
	arenas   []*arena
}

type arena struct {
	flags        atomic.Uint32
	externalNLBA uint32
	internalLBA  uint32 // internal block size
	internalNLBA uint32
	// Offsets within the namespace (on media they are arena-relative).
	startOff, dataOff, mapOff, flogOff, infoOff uint64

	flogs    []flogRuntime // per lane
	flogErr  error         // why the arena is in the error state, if a bad flog put it there
	mapLocks []sync.Mutex  // by premap block, see mapLock
	infoMu   sync.Mutex
}

// flogRuntime is a lane's view of its flog pair. Each write updates it,
// so it fills a cache line to keep lanes from sharing one.
type flogRuntime struct {
	cur       layout.Flog
	entries   [2]uint64 // namespace offsets of the pair
	next      int       // entry the next update goes to
	unflushed uint64    // map entry the last write stored but did not flush, or noMapEntry
	_         [16]byte
}

// noMapEntry: no map entry awaits its flush.
const noMapEntry = ^uint64(0)

// readSlot is a reader's generation: odd while a read is in progress.
// Loaded atomically; stored atomically when a read starts and with a
// release store when it ends (see EndRead). Padded so readers do not
// share a cache line.
type readSlot struct {
	gen uint64
	_   [56]byte
}

// Config describes the namespace a BTT lives in.
type Config struct {
	Map        *core.Map
	Off, Size  int64    // the namespace within Map
	LBASize    uint32   // external block size
	ParentUUID [16]byte // the pool's poolset UUID, stored in every info block
	MaxLane    int      // upper bound on lanes, 0 = nfree
	ReadSlots  int      // read slots, 0 = as many as lanes
	Zeroed     bool     // namespace known to be zero (map need not be cleared)
	ReadOnly   bool     // a check: do not restore a damaged backup info block
}

// Open loads the BTT of a namespace, running flog recovery, or notes that no
// layout is written yet (reads then return zeros and the first write lays
// it out).
func Open(c Config) (*BTT, error) {
	if c.Size < layout.MinSize {
		return nil, fmt.Errorf("%w: %d bytes, need %d", ErrTooSmall, c.Size, layout.MinSize)
	}
	if c.Off < 0 || c.Off+c.Size > int64(c.Map.Size()) || c.Off+c.Size < c.Off {
		return nil, fmt.Errorf("btt: namespace [%d, +%d) outside a %d-byte mapping", c.Off, c.Size, c.Map.Size())
	}
	if c.LBASize == 0 {
		return nil, errors.New("btt: block size 0")
	}
	b := &BTT{
		m: c.Map, ns: c.Map.Bytes()[c.Off : c.Off+c.Size], nsOff: c.Off, rawSize: uint64(c.Size),
		lbasize: c.LBASize, zeroed: c.Zeroed, rdonly: c.ReadOnly, parent: c.ParentUUID,
		deferMap: c.Map.Granularity() != core.GranularityPage, k: hal.Selected(),
	}
	if err := b.readLayout(); err != nil {
		return nil, err
	}
	b.nlane = int(b.nfree)
	if c.MaxLane > 0 && b.nlane > c.MaxLane {
		b.nlane = c.MaxLane
	}
	n := c.ReadSlots
	if n <= 0 {
		n = b.nlane
	}
	b.slots = make([]readSlot, n)
	return b, nil
}

// NLBA is the number of blocks; valid block numbers are 0..NLBA-1.
func (b *BTT) NLBA() uint64 { return b.nlba }

// NLane is the number of lanes: callers running at once. It is the number
// of free blocks per arena, or Config.MaxLane if lower.
func (b *BTT) NLane() int { return b.nlane }

// NReadSlot is the number of read slots: reads running at once.
func (b *BTT) NReadSlot() int { return len(b.slots) }

// LBASize is the external block size.
func (b *BTT) LBASize() uint32 { return b.lbasize }

// LaidOut reports whether the layout is written.
func (b *BTT) LaidOut() bool { return b.laidout.Load() }

// NArena is the number of arenas.
func (b *BTT) NArena() int { return b.narena }

// NFree is the number of free blocks (and flog pairs) per arena.
func (b *BTT) NFree() uint32 { return b.nfree }

func (b *BTT) corrupt(nsOff uint64, field string, want, got any) error {
	return core.Corrupt(b.nsOff+int64(nsOff), "btt: "+field, want, got)
}

// readLayout finds the arenas' info blocks and loads them, or computes the
// geometry the first write will lay out when there is none.
func (b *BTT) readLayout() error {
	b.nfree = layout.DefaultNFree
	var infos []layout.Info
	var offs []uint64
	left, off := b.rawSize, uint64(0)
	smallest := uint32(layout.DefaultNFree)
	var total uint64
	for left >= layout.MinSize {
		raw := b.ns[off : off+layout.InfoSize]
		in := layout.DecodeInfo(raw)
		if err := b.checkInfo(raw, &in, off, len(infos) > 0); err != nil {
			if errors.Is(err, errNoLayout) {
				return b.noLayout()
			}
			// The layout is written arena by arena, each info block
			// before its backup at the arena's end. A bad info block
			// whose backup is not valid either is a layout write that
			// never finished (no block was written through it): C sees
			// no layout then, and so do we. With a valid backup the
			// primary was damaged later: report it.
			backOff := off + min(left, layout.MaxArena) - layout.InfoSize
			backRaw := b.ns[backOff : backOff+layout.InfoSize]
			back := layout.DecodeInfo(backRaw)
			if b.checkInfo(backRaw, &back, backOff, true) != nil {
				if !b.rdonly && pool.IsZero(backRaw) {
					b.clearTornLayout(infos, offs, off)
				}
				// Whatever the old layout left in the map must not
				// survive the next one.
				b.zeroed = false
				return b.noLayout()
			}
			return fmt.Errorf("%w (the backup info block at %#x is intact: pmempool check -r restores it)", err, b.nsOff+int64(backOff))
		}
		if in.ExternalLBASize != b.lbasize {
			return fmt.Errorf("%w: layout has %d, want %d", ErrBlockSize, in.ExternalLBASize, b.lbasize)
		}
		if in.NextOff != 0 && in.NextOff != layout.MaxArena {
			return b.corrupt(off+layout.NextOffAt, "info nextoff", fmt.Sprintf("0 or %#x", uint64(layout.MaxArena)), in.NextOff)
		}
		arenaSize := min(left, layout.MaxArena)
		if in.NextOff != 0 {
			arenaSize = in.NextOff
		}
		// Every area must lie inside the arena and the namespace.
		if err := in.ValidateGeometry(min(arenaSize, b.rawSize-off), b.nsOff+int64(off)); err != nil {
			return err
		}
		infos = append(infos, in)
		offs = append(offs, off)
		smallest = min(smallest, in.NFree)
		total += uint64(in.ExternalNLBA)
		if in.NextOff == 0 {
			break
		}
		if in.NextOff > left || left-in.NextOff < layout.MinSize {
			return b.corrupt(off+layout.NextOffAt, "info nextoff past the namespace end", nil, in.NextOff)
		}
		left -= in.NextOff
		off += in.NextOff
	}
	b.narena = len(infos)
	b.nlba = total
	b.nfree = smallest
	return b.loadArenas(infos, offs)
}

var errNoLayout = errors.New("no layout")

// checkInfo validates one info block as read_info does, with clear errors:
// a blank first block means no layout yet; anything else that fails is
// corruption.
func (b *BTT) checkInfo(raw []byte, in *layout.Info, off uint64, later bool) error {
	if !later && in.Sig == [16]byte{} {
		return errNoLayout
	}
	return in.Validate(raw, b.parent, b.nsOff+int64(off))
}

// clearTornLayout erases the info blocks of a layout write that a crash
// cut short (arenas at offs complete, the one at torn not), so that C tools
// see no layout rather than a damaged one; the next write lays it out
// again. See tornClearOrder for the order.
func (b *BTT) clearTornLayout(infos []layout.Info, offs []uint64, torn uint64) {
	for _, o := range tornClearOrder(infos, offs, torn) {
		b.m.Memset(b.ns[o:o+layout.InfoSize], 0, 0)
	}
}

// tornClearOrder lists the info blocks clearTornLayout erases, in an order
// that a crash at any point (one block half erased) leaves a torn layout
// again: the backups first (a complete arena's primary restores its
// backup), then the primaries from the torn arena back to arena 0, so the
// block being erased is always the first bad primary and its backup is
// already blank. Erasing a primary while its backup is intact would leave
// a damaged primary with a good backup, which open reports as corruption.
func tornClearOrder(infos []layout.Info, offs []uint64, torn uint64) []uint64 {
	order := make([]uint64, 0, 2*len(offs)+1)
	for i, o := range offs {
		order = append(order, o+infos[i].InfoOff)
	}
	order = append(order, torn)
	for i := len(offs) - 1; i >= 0; i-- {
		order = append(order, offs[i])
	}
	return order
}

// noLayout records the geometry the first write will lay out.
func (b *BTT) noLayout() error {
	n, nlba, ok := layout.Geometry(b.rawSize, b.lbasize)
	if !ok {
		return fmt.Errorf("%w: %d bytes for block size %d", ErrTooSmall, b.rawSize, b.lbasize)
	}
	b.narena, b.nlba, b.nfree = n, nlba, layout.DefaultNFree
	b.laidout.Store(false)
	return nil
}

// loadArenas builds the run-time state of every arena and recovers
// interrupted writes from the flog.
func (b *BTT) loadArenas(infos []layout.Info, offs []uint64) error {
	arenas := make([]*arena, len(infos))
	for i, in := range infos {
		off := offs[i]
		a := &arena{
			externalNLBA: in.ExternalNLBA, internalLBA: in.InternalLBASize, internalNLBA: in.InternalNLBA,
			startOff: off, dataOff: off + in.DataOff, mapOff: off + in.MapOff,
			flogOff: off + in.FlogOff, infoOff: off + in.InfoOff,
		}
		a.flags.Store(in.Flags)
		if err := b.readFlogs(a); err != nil {
			return err
		}
		// A crash between the two info block writes of the layout leaves
		// the backup unwritten or torn (C leaves it so, and pmempool
		// check then calls the pool inconsistent): restore it from the
		// validated primary.
		primary := b.ns[a.startOff : a.startOff+layout.InfoSize]
		backup := b.ns[a.infoOff : a.infoOff+layout.InfoSize]
		if !b.rdonly && !bytes.Equal(primary, backup) {
			b.m.Memcpy(backup, primary, 0)
		}
		a.mapLocks = make([]sync.Mutex, mapLocks)
		arenas[i] = a
	}
	b.arenas = arenas
	b.laidout.Store(true)
	return nil
}

// readFlogs loads the flog pairs of an arena (the first nfree of them) and
// completes any write whose map update did not happen, as read_flog_pair
// does. A pair with no current entry puts the arena in the error state, as
// in C, and so does one whose free block is mapped (beyond C, see
// freeInUse); an entry naming blocks outside the arena fails the open.
func (b *BTT) readFlogs(a *arena) error {
	a.flogs = make([]flogRuntime, b.nfree)
	for i := range a.flogs {
		off := a.flogOff + uint64(i)*layout.FlogPairSize
		fr := &a.flogs[i]
		fr.entries = [2]uint64{off, off + layout.FlogSize}
		fr.unflushed = noMapEntry
		pair := layout.DecodeFlogPair(b.ns[off:])
		cur, ok := layout.CurrentFlog(pair)
		if !ok {
			a.setFlogErr(b.corrupt(off+12, fmt.Sprintf("flog pair %d sequence numbers", i), "one current entry", fmt.Sprintf("%d and %d", pair[0].Seq, pair[1].Seq)))
			continue
		}
		f := pair[cur]
		fr.cur, fr.next = f, 1-cur
		eoff := fr.entries[cur]
		if other := pair[1-cur]; !b.rdonly && f.OldMap == f.NewMap && other.Seq == 0 && other != (layout.Flog{}) {
			// A first update of this pair cut short after its first
			// half: never current, but pmempool check wants the entry
			// beside an initial one zero. Clear it (8-byte stores; a
			// crash midway leaves seq 0, still never current).
			o := fr.entries[1-cur]
			atomic.StoreUint64(word64(b.ns, o), 0)
			atomic.StoreUint64(word64(b.ns, o+8), 0)
			b.m.Persist(b.ns[o : o+layout.FlogSize])
		}
		if f.LBA >= a.externalNLBA {
			return b.corrupt(eoff, fmt.Sprintf("flog %d lba", i), fmt.Sprintf("< %d", a.externalNLBA), f.LBA)
		}
		if f.OldMap&layout.MapLBAMask >= a.internalNLBA {
			return b.corrupt(eoff+4, fmt.Sprintf("flog %d old_map block", i), fmt.Sprintf("< %d", a.internalNLBA), f.OldMap&layout.MapLBAMask)
		}
		if f.NewMap&layout.MapLBAMask >= a.internalNLBA {
			return b.corrupt(eoff+8, fmt.Sprintf("flog %d new_map block", i), fmt.Sprintf("< %d", a.internalNLBA), f.NewMap&layout.MapLBAMask)
		}
		if f.OldMap != f.NewMap { // else an initial entry: nothing to recover
			p := b.mapEntry(a, f.LBA)
			e := b.loadMap(p)
			if entryIsInitial(e) {
				e = f.LBA | layout.MapNormal
			}
			if f.NewMap != e && f.OldMap == e {
				// The write reached the flog but not the map: finish it.
				b.storeMap(p, f.NewMap)
			}
		}
		if lba, ok := b.freeInUse(a, pair, cur); ok {
			a.setFlogErr(b.corrupt(eoff+4, fmt.Sprintf("flog pair %d: free block %d is mapped by block %d", i, f.OldMap&layout.MapLBAMask, lba), nil, nil))
		}
	}
	return nil
}

// freeInUse reports whether the free block of pair's current entry (its
// old_map, where the next write through the lane goes) is mapped by the
// block of either entry of the pair, and by which. In a pool C or we wrote
// it never is: the entry before the current one handed that block out and
// the current one took it back. It is when a damaged sequence number makes
// CurrentFlog (as C's btt_flog_get_valid) take the stale entry for the
// current one; C then writes over the live block, we put the arena in the
// error state instead.
func (b *BTT) freeInUse(a *arena, pair [2]layout.Flog, cur int) (uint32, bool) {
	free := pair[cur].OldMap & layout.MapLBAMask
	for j, e := range pair {
		if (j != cur && e.Seq == 0) || e.LBA >= a.externalNLBA {
			continue
		}
		if layout.PostMap(b.loadMap(b.mapEntry(a, e.LBA)), e.LBA) == free {
			return e.LBA, true
		}
	}
	return 0, false
}

// setFlogErr puts the arena in the error state for a bad flog pair; the
// first such error is the one writes and Check report.
func (a *arena) setFlogErr(err error) {
	if a.flogErr == nil {
		a.flogErr = err
	}
	a.flags.Or(layout.InfoFlagError)
}

// mapEntry returns the namespace offset of the map entry of premap block
// lba of arena a (lba checked in range by the caller).
func (b *BTT) mapEntry(a *arena, lba uint32) uint64 {
	return a.mapOff + uint64(lba)*layout.MapEntrySize
}

// loadMap reads the map entry at off with one 4-byte load.
func (b *BTT) loadMap(off uint64) uint32 { return atomic.LoadUint32(word32(b.ns, off)) }

// persistErr returns the failure of the mapping's persist path (a failed
// msync), if any: once a write-back has failed, no later step of a write
// may make the lost one reachable.
func (b *BTT) persistErr() error {
	if err := b.m.Err(); err != nil {
		return fmt.Errorf("blk: %w", err)
	}
	return nil
}

// storeMap sets the map entry at off with one 4-byte store and persists it.
func (b *BTT) storeMap(off uint64, v uint32) {
	atomic.StoreUint32(word32(b.ns, off), v)
	b.m.Persist(b.ns[off : off+layout.MapEntrySize])
}

// lookup finds the arena and premap block of external block lba.
func (b *BTT) lookup(lba uint64) (*arena, uint32, error) {
	if lba >= b.nlba {
		return nil, 0, fmt.Errorf("%w: %d, have %d", ErrLBARange, lba, b.nlba)
	}
	for _, a := range b.arenas {
		if lba < uint64(a.externalNLBA) {
			return a, uint32(lba), nil
		}
		lba -= uint64(a.externalNLBA)
	}
	return nil, 0, fmt.Errorf("%w: %d", ErrLBARange, lba)
}

// Reads. C keeps a read tracking table: a reader stores the map entry it
// is about to copy from in its lane's slot, fences, reads the map entry
// again (a writer may have freed the block meanwhile), copies, and clears
// the slot; a writer about to reuse a free block waits while a slot holds
// it. Here a reader's slot holds a generation, odd while it reads: a
// writer waits for every read in progress when it scans, however new,
// to end (to change its slot). That is enough: the writer's free block was
// unmapped (the map entry that pointed at it overwritten) before the scan,
// so a read whose slot turned odd after the scan loads the new map entry,
// and one that turned odd before is waited for. A read then costs two
// atomic stores, fences on x86, where C's costs two stores, a fence and a
// second load of the map entry, and the caller (the Pool) can take the
// odd store for its own fence: StartRead, then a check that the mapping
// is still there (the Pool is not closed), then ReadStarted, then EndRead.

// StartRead begins a read through slot, which the caller holds alone until
// EndRead: from now on no writer reuses a block the read may copy from.
func (b *BTT) StartRead(slot int) {
	if int(b.used.Load()) <= slot {
		b.useSlot(slot)
	}
	s := &b.slots[slot].gen
	atomic.StoreUint64(s, atomic.LoadUint64(s)|1)
}

// EndRead ends the read through slot. The read's loads are done before
// the store that ends it is seen, which is all a writer waiting for it
// needs: a release store, without the fence of an atomic store (on
// x86 the XCHG would wait for the copy's stores to the caller's buffer
// to drain, a fifth of a cached 512-byte read).
func (b *BTT) EndRead(slot int) {
	s := &b.slots[slot].gen
	hal.StoreRelease64(s, atomic.LoadUint64(s)+1)
}

// useSlot makes writers look at slot: the first read through a slot
// calls it before the slot is first set.
func (b *BTT) useSlot(slot int) {
	for {
		n := b.used.Load()
		if int(n) > slot || b.used.CompareAndSwap(n, int32(slot+1)) {
			return
		}
	}
}

// WaitReads waits until every read in progress has ended.
func (b *BTT) WaitReads() {
	b.waitReads()
}

// waitReads waits for the reads in progress to end: each slot holding an
// odd generation must change.
func (b *BTT) waitReads() {
	for i := range int(b.used.Load()) {
		s := &b.slots[i].gen
		if g := atomic.LoadUint64(s); g&1 != 0 {
			if b.waitHook != nil {
				b.waitHook(i)
			}
			for atomic.LoadUint64(s) == g {
				runtime.Gosched()
			}
		}
	}
}

// Read copies block lba into buf (LBASize bytes) using read slot slot:
// StartRead, ReadStarted and EndRead.
func (b *BTT) Read(slot int, lba uint64, buf []byte) error {
	b.StartRead(slot)
	err := b.ReadStarted(lba, buf)
	b.EndRead(slot)
	return err
}

// ReadStarted copies block lba into buf (LBASize bytes); the caller has
// started a read (StartRead) and not ended it.
func (b *BTT) ReadStarted(lba uint64, buf []byte) error {
	buf = buf[:b.lbasize]
	if lba >= b.nlba {
		return fmt.Errorf("%w: %d, have %d", ErrLBARange, lba, b.nlba)
	}
	if !b.laidout.Load() {
		clear(buf)
		return nil
	}
	a, pre, err := b.lookup(lba)
	if err != nil {
		return err
	}
	e := b.loadMap(b.mapEntry(a, pre))
	if entryIsError(e) {
		return fmt.Errorf("%w: block %d", ErrBlockError, lba)
	}
	if entryIsZeroOrInitial(e) {
		clear(buf)
		return nil
	}
	blk := e & layout.MapLBAMask
	if blk >= a.internalNLBA {
		return b.corrupt(a.mapOff+uint64(pre)*layout.MapEntrySize, fmt.Sprintf("map entry %d block", pre), fmt.Sprintf("< %d", a.internalNLBA), blk)
	}
	off := a.dataOff + uint64(blk)*uint64(a.internalLBA)
	b.k.Copy(buf, b.ns[off:off+uint64(b.lbasize)])
	return nil
}

// ensureLayout writes the layout on the first write.
func (b *BTT) ensureLayout() error {
	if b.laidout.Load() {
		return nil
	}
	b.layoutMu.Lock()
	defer b.layoutMu.Unlock()
	if b.laidout.Load() {
		return nil
	}
	return b.writeLayout()
}

func (b *BTT) mapLock(a *arena, pre uint32) *sync.Mutex {
	return &a.mapLocks[uint64(pre)*layout.MapEntrySize/mapLockAlign%mapLocks]
}

// Write stores buf (LBASize bytes) as block lba, atomically, using lane:
// the data goes to the lane's free block, then the flog records the swap,
// then the map points at the new block.
//
// C persists the data, each half of the flog entry and the map entry one
// after the other: four fences, each waiting for a write-back. Only two
// of those orders matter for recovery (btt.c, read_flog_pair): the data,
// the entry's first half and the map entry as the entry will record it
// must be durable before the entry's second half makes it current; and
// that second half before the new map entry. So Write takes the map lock
// first, writes the first half (the entry is not current until its second
// half lands), copies the data, flushes both along with the map entry, and
// fences once; then the second half, fenced; then the map entry is stored
// and, where the persist path is CPU flushes, only flushed by the lane's
// next write, in its first fence, before that write's second half
// replaces the entry that would redo it. Until then a crash leaves the
// map entry old and the flog entry current, which recovery (ours and C's)
// completes: the write is durable when Write returns, with two fences.
// Another lane writing the same block flushes the map entry it logs as old
// in its own first fence, so recovery never sees two entries for one
// block whose old map entries are both durable. On page-cache mappings a
// flush is an msync, no cheaper deferred, and the map entry is persisted
// at once as C does.
//
// A failed persist (a failed msync) stops the write before the next step
// and is returned (wrapping core.ErrPersist).
func (b *BTT) Write(lane int, lba uint64, buf []byte) error {
	if lba >= b.nlba {
		return fmt.Errorf("%w: %d, have %d", ErrLBARange, lba, b.nlba)
	}
	if err := b.ensureLayout(); err != nil {
		return err
	}
	a, pre, err := b.lookup(lba)
	if err != nil {
		return err
	}
	if err := a.writable(); err != nil {
		return err
	}
	fr := &a.flogs[lane]
	free := fr.cur.OldMap&layout.MapLBAMask | layout.MapNormal
	// Wait for readers that may still copy out of the free block.
	b.waitReads()
	mu := b.mapLock(a, pre)
	mu.Lock()
	p := b.mapEntry(a, pre)
	old := b.loadMap(p)
	if entryIsInitial(old) {
		old = pre | layout.MapNormal
	}
	if blk := old & layout.MapLBAMask; blk >= a.internalNLBA {
		// Handing this block to the lane as its next free block would
		// send a later write outside the data area.
		mu.Unlock()
		return b.corrupt(a.mapOff+uint64(pre)*layout.MapEntrySize, fmt.Sprintf("map entry %d block", pre), fmt.Sprintf("< %d", a.internalNLBA), blk)
	}
	entry := fr.entries[fr.next]
	atomic.StoreUint64(word64(b.ns, entry), uint64(pre)|uint64(old)<<32)
	b.m.Flush(b.ns[entry : entry+8])
	off := a.dataOff + uint64(free&layout.MapLBAMask)*uint64(a.internalLBA)
	b.m.Memcpy(b.ns[off:off+uint64(b.lbasize)], buf[:b.lbasize], core.MemNoDrain)
	if b.deferMap {
		// old as logged, which may be another lane's deferred store.
		b.m.Flush(b.ns[p : p+layout.MapEntrySize])
		if q := fr.unflushed; q != noMapEntry && q != p {
			b.m.Flush(b.ns[q : q+layout.MapEntrySize])
		}
	}
	b.m.Drain()
	if err := b.persistErr(); err != nil {
		mu.Unlock() // the entry is not current: nothing happened
		return err
	}
	seq := layout.NextSeq(fr.cur.Seq)
	atomic.StoreUint64(word64(b.ns, entry+8), uint64(free)|uint64(seq)<<32)
	b.m.Persist(b.ns[entry+8 : entry+16])
	fr.next = 1 - fr.next
	fr.cur = layout.Flog{LBA: pre, OldMap: old, NewMap: free, Seq: seq}
	if err := b.persistErr(); err != nil {
		mu.Unlock() // no map entry for an entry that may not be durable
		return err
	}
	if b.deferMap {
		atomic.StoreUint32(word32(b.ns, p), free)
		fr.unflushed = p
	} else {
		b.storeMap(p, free)
	}
	mu.Unlock()
	return b.persistErr()
}

// Sync persists the map entries that writes left to be flushed by their
// lane's next write (see Write), so that the media needs no flog recovery:
// Close calls it. No other call may run on b meanwhile.
func (b *BTT) Sync() {
	for _, a := range b.arenas {
		for i := range a.flogs {
			if q := a.flogs[i].unflushed; q != noMapEntry {
				b.m.Flush(b.ns[q : q+layout.MapEntrySize])
				a.flogs[i].unflushed = noMapEntry
			}
		}
	}
	b.m.Drain()
}

func (a *arena) writable() error {
	if a.flags.Load()&layout.InfoFlagError != 0 {
		if a.flogErr != nil {
			return fmt.Errorf("%w: %w", ErrArenaError, a.flogErr)
		}
		return ErrArenaError
	}
	return nil
}

// SetZero makes block lba read as zeros (its map entry gets the zero flag).
func (b *BTT) SetZero(lane int, lba uint64) error {
	return b.setFlag(lane, lba, layout.MapZero)
}

// SetError makes reads of block lba fail until it is written again.
func (b *BTT) SetError(lane int, lba uint64) error {
	return b.setFlag(lane, lba, layout.MapError)
}

func (b *BTT) setFlag(_ int, lba uint64, flag uint32) error {
	if lba >= b.nlba {
		return fmt.Errorf("%w: %d, have %d", ErrLBARange, lba, b.nlba)
	}
	if !b.laidout.Load() {
		if flag == layout.MapZero {
			return nil // every block reads as zero already
		}
		if err := b.ensureLayout(); err != nil {
			return err
		}
	}
	a, pre, err := b.lookup(lba)
	if err != nil {
		return err
	}
	if err := a.writable(); err != nil {
		return err
	}
	mu := b.mapLock(a, pre)
	mu.Lock()
	defer mu.Unlock()
	p := b.mapEntry(a, pre)
	old := b.loadMap(p)
	if entryIsInitial(old) {
		old = pre | layout.MapNormal
	}
	if flag == layout.MapZero && entryIsZeroOrInitial(old) {
		return nil
	}
	b.storeMap(p, old&layout.MapLBAMask|flag)
	return b.persistErr()
}

// writeLayout lays out every arena: map cleared unless the namespace is
// known zero, the initial flog (each lane owning one of the blocks past
// external_nlba), and the info block at both ends of the arena.
func (b *BTT) writeLayout() error {
	var uuid [16]byte
	if _, err := rand.Read(uuid[:]); err != nil {
		return err
	}
	uuid[6] = uuid[6]&0x0f | 0x40
	uuid[8] = uuid[8]&0x3f | 0x80
	var infos []layout.Info
	var offs []uint64
	left, off := b.rawSize, uint64(0)
	var total uint64
	buf := make([]byte, layout.InfoSize)
	for left >= layout.MinSize {
		size := min(left, layout.MaxArena)
		left -= size
		in, ok := layout.ArenaInfo(b.lbasize, b.nfree, size, left)
		if !ok {
			return fmt.Errorf("%w: arena of %d bytes", ErrTooSmall, size)
		}
		if !b.zeroed {
			m := b.ns[off+in.MapOff : off+in.MapOff+layout.MapAreaSize(in.ExternalNLBA)]
			b.m.Memset(m, 0, 0)
		}
		flog := b.ns[off+in.FlogOff : off+in.FlogOff+layout.FlogAreaSize(b.nfree)]
		var pair [2 * layout.FlogSize]byte
		for i := range b.nfree {
			layout.InitialFlog(i, in.ExternalNLBA).Encode(pair[:])
			o := uint64(i) * layout.FlogPairSize
			b.m.Memcpy(flog[o:o+2*layout.FlogSize], pair[:], core.MemNoDrain)
		}
		b.m.Drain()
		if err := b.persistErr(); err != nil {
			return err // no info block over a map and flog that are not durable
		}
		in.Sig = [16]byte([]byte(layout.Signature))
		in.UUID = uuid
		in.ParentUUID = b.parent
		in.Major, in.Minor = layout.MajorVersion, layout.MinorVersion
		in.Seal(buf)
		b.m.Memcpy(b.ns[off:off+layout.InfoSize], buf, 0)
		b.m.Memcpy(b.ns[off+in.InfoOff:off+in.InfoOff+layout.InfoSize], buf, 0)
		infos = append(infos, in)
		offs = append(offs, off)
		total += uint64(in.ExternalNLBA)
		off += in.NextOff
	}
	// narena and nlba were computed by the same rules when the namespace
	// was opened; concurrent readers rely on them, so they are not stored.
	if err := b.persistErr(); err != nil {
		return err
	}
	if len(infos) != b.narena || total != b.nlba {
		return fmt.Errorf("btt: layout of %d arenas, %d blocks differs from the expected %d, %d", len(infos), total, b.narena, b.nlba)
	}
	return b.loadArenas(infos, offs)
}
