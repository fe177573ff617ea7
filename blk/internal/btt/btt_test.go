package btt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"golang.org/x/sys/unix"
)

// anonMap is page-aligned anonymous memory presented as a Map.
func anonMap(t testing.TB, size int) *core.Map {
	t.Helper()
	data, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(data) })
	return core.NewMemoryMap(data, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
}

var parent = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func cfg(m *core.Map, lbasize uint32) Config {
	return Config{Map: m, Off: 8192, Size: int64(m.Size()) - 8192, LBASize: lbasize, ParentUUID: parent, MaxLane: 4, Zeroed: true}
}

func open(t testing.TB, m *core.Map, lbasize uint32) *BTT {
	t.Helper()
	b, err := Open(cfg(m, lbasize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// le32 stores v at b[0:4], little-endian: damage made by hand.
func le32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }

func pattern(lba uint64, gen byte, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(lba) ^ byte(i*7) ^ gen
	}
	p[0] = gen
	return p
}

func TestLazyLayoutAndRoundTrip(t *testing.T) {
	m := anonMap(t, 17<<20)
	b := open(t, m, 512)
	if b.LaidOut() {
		t.Fatal("fresh namespace reports a layout")
	}
	buf := make([]byte, 512)
	buf[0] = 9
	if err := b.Read(0, 5, buf); err != nil || !bytes.Equal(buf, make([]byte, 512)) {
		t.Fatalf("read before layout: %v %x", err, buf[:4])
	}
	if err := b.SetZero(0, 5); err != nil || b.LaidOut() {
		t.Fatalf("SetZero before layout: %v, laid out %v", err, b.LaidOut())
	}
	nlba := b.NLBA()
	for lba := range uint64(20) {
		if err := b.Write(int(lba%4), lba, pattern(lba, 1, 512)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Write(0, nlba-1, pattern(nlba-1, 1, 512)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(cfg(m, 4096)); !errors.Is(err, ErrBlockSize) {
		t.Fatalf("open with another block size: %v", err)
	}
	b = open(t, m, 512)
	if !b.LaidOut() || b.NLBA() != nlba {
		t.Fatalf("reopen: laid out %v nlba %d want %d", b.LaidOut(), b.NLBA(), nlba)
	}
	for lba := range uint64(20) {
		if err := b.Read(1, lba, buf); err != nil || !bytes.Equal(buf, pattern(lba, 1, 512)) {
			t.Fatalf("block %d: %v", lba, err)
		}
	}
	if err := b.SetZero(0, 3); err != nil {
		t.Fatal(err)
	}
	if err := b.SetError(0, 4); err != nil {
		t.Fatal(err)
	}
	if err := b.Read(0, 3, buf); err != nil || !bytes.Equal(buf, make([]byte, 512)) {
		t.Fatalf("zeroed block: %v", err)
	}
	if err := b.Read(0, 4, buf); !errors.Is(err, ErrBlockError) {
		t.Fatalf("error block: %v", err)
	}
	if err := b.Write(0, 4, pattern(4, 2, 512)); err != nil {
		t.Fatal(err)
	}
	if err := b.Read(0, 4, buf); err != nil || !bytes.Equal(buf, pattern(4, 2, 512)) {
		t.Fatalf("rewritten error block: %v", err)
	}
	if err := b.Read(0, nlba, buf); !errors.Is(err, ErrLBARange) {
		t.Fatalf("read past end: %v", err)
	}
	if p := b.Check(); len(p) != 0 {
		t.Fatalf("check: %v", p)
	}
}

// TestFlogRecovery interrupts a write after its flog entry and before its
// map update; opening must finish it.
func TestFlogRecovery(t *testing.T) {
	m := anonMap(t, 17<<20)
	b := open(t, m, 512)
	if err := b.Write(0, 7, pattern(7, 1, 512)); err != nil {
		t.Fatal(err)
	}
	a := b.arenas[0]
	fr := &a.flogs[1]
	free := fr.cur.OldMap&layout.MapLBAMask | layout.MapNormal
	off := a.dataOff + uint64(free&layout.MapLBAMask)*uint64(a.internalLBA)
	copy(b.ns[off:], pattern(7, 2, 512))
	old := b.loadMap(b.mapEntry(a, 7))
	// The flog entry of a write to block 7 through lane 1, then a crash
	// before the map update.
	f := layout.Flog{LBA: 7, OldMap: old, NewMap: free, Seq: layout.NextSeq(fr.cur.Seq)}
	f.Encode(b.ns[fr.entries[fr.next]:])

	b = open(t, m, 512)
	buf := make([]byte, 512)
	if err := b.Read(0, 7, buf); err != nil || !bytes.Equal(buf, pattern(7, 2, 512)) {
		t.Fatalf("recovered block: %v %x", err, buf[:4])
	}
	if p := b.Check(); len(p) != 0 {
		t.Fatalf("check after recovery: %v", p)
	}
}

func TestCorruptLayout(t *testing.T) {
	fresh := func(t *testing.T) (*core.Map, *BTT) {
		m := anonMap(t, 17<<20)
		b := open(t, m, 512)
		if err := b.Write(0, 1, pattern(1, 1, 512)); err != nil {
			t.Fatal(err)
		}
		return m, b
	}
	info := func(b *BTT) []byte { return b.ns[:layout.InfoSize] }
	reseal := func(raw []byte) {
		in := layout.DecodeInfo(raw)
		in.Seal(raw)
	}
	for _, tc := range []struct {
		name   string
		smash  func(b *BTT)
		atOpen bool // else found by Check / Write
	}{
		{"checksum", func(b *BTT) { info(b)[100] ^= 1 }, true},
		{"signature", func(b *BTT) { info(b)[0] = 'X' }, true},
		{"parent uuid", func(b *BTT) { info(b)[40] ^= 1; reseal(info(b)) }, true},
		{"major 0", func(b *BTT) { info(b)[52], info(b)[53] = 0, 0; reseal(info(b)) }, true},
		{"nfree 0", func(b *BTT) { clear(info(b)[72:76]); reseal(info(b)) }, true},
		{"mapoff huge", func(b *BTT) { info(b)[103] = 0x7f; reseal(info(b)) }, true},
		{"dataoff past end", func(b *BTT) { info(b)[92] = 1; reseal(info(b)) }, true},
		{"internal_nlba huge", func(b *BTT) { info(b)[71] = 0x40; reseal(info(b)) }, true},
		{"nextoff odd", func(b *BTT) { info(b)[80] = 1; reseal(info(b)) }, true},
		{"flog lba out of range", func(b *BTT) {
			a := b.arenas[0]
			le32(b.ns[a.flogOff+64:], 0xfffffff)
		}, true},
		{"flog new_map out of range", func(b *BTT) {
			a := b.arenas[0]
			le32(b.ns[a.flogOff+64+8:], layout.MapNormal|0x3ffffff)
		}, true},
		{"flog equal seq", func(b *BTT) {
			a := b.arenas[0]
			le32(b.ns[a.flogOff+64+16+12:], 1)
		}, false},
		{"flog stale entry taken for current", func(b *BTT) {
			// Lane 0 wrote block 1 through pair 0: its initial entry
			// (sequence number 1) is stale. As 7, it comes first.
			a := b.arenas[0]
			le32(b.ns[a.flogOff+12:], 7)
		}, false},
		{"map duplicate", func(b *BTT) {
			le32(b.ns[b.arenas[0].mapOff+8:], layout.MapNormal|1)
		}, false},
		{"map out of range", func(b *BTT) {
			le32(b.ns[b.arenas[0].mapOff+8:], layout.MapNormal|0x3ffffff)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, b := fresh(t)
			tc.smash(b)
			nb, err := Open(cfg(m, 512))
			if tc.atOpen {
				if !errors.Is(err, core.ErrCorrupt) {
					t.Fatalf("open: %v, want a corruption error", err)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			p := nb.Check()
			if len(p) == 0 || !errors.Is(p[0], core.ErrCorrupt) {
				t.Fatalf("check found %v", p)
			}
			t.Log(p[0])
			if nb.arenas[0].flags.Load()&layout.InfoFlagError != 0 {
				if err := nb.Write(0, 9, pattern(9, 1, 512)); !errors.Is(err, ErrArenaError) {
					t.Fatalf("write to an arena in the error state: %v", err)
				}
			}
			buf := make([]byte, 512)
			for lba := range uint64(4) {
				_ = nb.Read(0, lba, buf) // must not fault
			}
		})
	}
}

// TestConcurrentReadWrite runs writers and readers on shared and private
// blocks; every read must return one whole version of its block.
func TestConcurrentReadWrite(t *testing.T) {
	m := anonMap(t, 17<<20)
	b, err := Open(Config{Map: m, Off: 8192, Size: int64(m.Size()) - 8192, LBASize: 512, ParentUUID: parent, MaxLane: 8, Zeroed: true})
	if err != nil {
		t.Fatal(err)
	}
	const shared = 4
	iters := 400
	if testing.Short() {
		iters = 100
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for lane := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(lane), 1))
			buf := make([]byte, 512)
			for i := range iters {
				lba := uint64(r.IntN(shared))
				if lane%2 == 1 {
					lba = uint64(shared + lane) // private block
				}
				if lane < 4 {
					gen := byte(i%250 + 1)
					if err := b.Write(lane, lba, pattern(lba, gen, 512)); err != nil {
						errs <- err
						return
					}
					continue
				}
				if err := b.Read(lane, lba, buf); err != nil {
					errs <- err
					return
				}
				if gen := buf[0]; gen != 0 && !bytes.Equal(buf, pattern(lba, gen, 512)) {
					errs <- fmt.Errorf("torn block %d gen %d", lba, gen)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if p := b.Check(); len(p) != 0 {
		t.Fatalf("check: %v", p)
	}
}

// TestTornLayoutCleared: a layout write cut short after part of the first
// info block (backup never written) counts as no layout; a writable open
// erases the torn block so C tools agree, a read-only one leaves it.
func TestTornLayoutCleared(t *testing.T) {
	m := anonMap(t, 17<<20)
	b := open(t, m, 512)
	if err := b.Write(0, 1, pattern(1, 1, 512)); err != nil {
		t.Fatal(err)
	}
	a := b.arenas[0]
	clear(b.ns[a.infoOff : a.infoOff+layout.InfoSize]) // backup never written
	b.ns[200] ^= 0xff                                  // primary torn
	torn := append([]byte(nil), b.ns[:layout.InfoSize]...)

	ro := cfg(m, 512)
	ro.ReadOnly = true
	rb, err := Open(ro)
	if err != nil || rb.LaidOut() {
		t.Fatalf("read-only open: %v, laid out %v", err, rb.LaidOut())
	}
	if !bytes.Equal(b.ns[:layout.InfoSize], torn) {
		t.Fatal("read-only open changed the info block")
	}
	nb := open(t, m, 512)
	if nb.LaidOut() || !pool.IsZero(b.ns[:layout.InfoSize]) {
		t.Fatalf("writable open: laid out %v, info block cleared %v", nb.LaidOut(), pool.IsZero(b.ns[:layout.InfoSize]))
	}
	if err := nb.Write(0, 2, pattern(2, 1, 512)); err != nil {
		t.Fatal(err)
	}
	if p := nb.Check(); len(p) != 0 {
		t.Fatalf("check after the new layout: %v", p)
	}
}

// TestHalfWrittenFlogEntryCleared: the first half of a flog update beside
// an initial entry is zeroed by a writable open (pmempool check demands
// it) and left alone by a read-only one.
func TestHalfWrittenFlogEntryCleared(t *testing.T) {
	m := anonMap(t, 17<<20)
	b := open(t, m, 512)
	if err := b.Write(0, 1, pattern(1, 1, 512)); err != nil {
		t.Fatal(err)
	}
	a := b.arenas[0]
	pair1 := a.flogOff + 64 // lane 1: still initial
	le32(b.ns[pair1+16:], 5)
	le32(b.ns[pair1+20:], layout.MapNormal|5)
	ro := cfg(m, 512)
	ro.ReadOnly = true
	if _, err := Open(ro); err != nil {
		t.Fatal(err)
	}
	if pool.IsZero(b.ns[pair1+16 : pair1+32]) {
		t.Fatal("read-only open cleared the flog entry")
	}
	nb := open(t, m, 512)
	if !pool.IsZero(b.ns[pair1+16 : pair1+32]) {
		t.Fatalf("writable open left % x", b.ns[pair1+16:pair1+32])
	}
	if p := nb.Check(); len(p) != 0 {
		t.Fatalf("check: %v", p)
	}
}

// TestTornLayoutClearCrash: a crash while a writable open erases a torn
// multi-arena layout (any prefix of the erasures done, the next block half
// erased) leaves a namespace the next open takes as a torn layout again and
// finishes erasing, never one it refuses as corrupt.
func TestTornLayoutClearCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("two arenas need a 512 GiB sparse mapping; skipped in -short")
	}
	size := 8192 + layout.MaxArena + 64<<20
	data, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		t.Skipf("cannot map %d bytes sparse: %v", size, err)
	}
	t.Cleanup(func() { unix.Munmap(data) })
	m := core.NewMemoryMap(data, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
	const bsize = 65536
	b := open(t, m, bsize)
	if err := b.Write(0, 0, pattern(0, 1, bsize)); err != nil {
		t.Fatal(err)
	}
	if b.NArena() != 2 {
		t.Fatalf("%d arenas, want 2", b.NArena())
	}
	a0, a1 := b.arenas[0], b.arenas[1]
	// Arena 1's layout write was cut short: backup never written, primary torn.
	clear(b.ns[a1.infoOff : a1.infoOff+layout.InfoSize])
	b.ns[a1.startOff+200] ^= 0xff
	blocks := []uint64{a0.startOff, a0.infoOff, a1.startOff, a1.infoOff}
	saved := make([][]byte, len(blocks))
	for i, o := range blocks {
		saved[i] = bytes.Clone(b.ns[o : o+layout.InfoSize])
	}
	infos := []layout.Info{layout.DecodeInfo(saved[0])}
	order := tornClearOrder(infos, []uint64{a0.startOff}, a1.startOff)
	if len(order) != 3 {
		t.Fatalf("erase order %x: want arena 0's two blocks and arena 1's primary", order)
	}
	for k := range order {
		for i, o := range blocks {
			copy(b.ns[o:o+layout.InfoSize], saved[i])
		}
		for _, o := range order[:k] {
			clear(b.ns[o : o+layout.InfoSize])
		}
		clear(b.ns[order[k]+layout.InfoSize/2 : order[k]+layout.InfoSize]) // crash halfway
		nb, err := Open(cfg(m, bsize))
		if err != nil {
			t.Fatalf("crash while erasing block %d (%#x) of %x: open: %v", k, order[k], order, err)
		}
		if nb.LaidOut() {
			t.Fatalf("crash while erasing block %d: layout taken as valid", k)
		}
		for _, o := range blocks {
			if !pool.IsZero(b.ns[o : o+layout.InfoSize]) {
				t.Fatalf("crash while erasing block %d: info block at %#x not erased by the next open", k, o)
			}
		}
	}
}

// TestFlogSeqAboveThree: sequence numbers are compared as C compares them
// (layout.CurrentFlog): a stale entry damaged to 7 that still sorts before
// the current one changes nothing, writes go on and Check is satisfied (C
// behaves so, see blk's TestInteropFlogSeq7); one that sorts first would
// hand out a live block as free, so the arena refuses writes and Check
// reports it.
func TestFlogSeqAboveThree(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []uint64 // blocks written through lane 0, in order
		entry  int      // entry of pair 0 whose seq becomes 7
		broken bool
	}{
		{"stale seq 3 before current 1", []uint64{1, 2, 3}, 0, false},
		{"stale seq 2 after current 3", []uint64{1, 2}, 1, false},
		{"stale seq 1 before current 2", []uint64{1}, 0, true},
		{"stale seq 1 before current 2, same block", []uint64{0}, 0, true},
		{"stale seq 3 before current 1, same block", []uint64{5, 5, 5}, 0, false},
		{"stale seq 2 after current 3, same block", []uint64{5, 5}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := anonMap(t, 17<<20)
			b := open(t, m, 512)
			for i, lba := range tc.writes {
				if err := b.Write(0, lba, pattern(lba, byte(i+1), 512)); err != nil {
					t.Fatal(err)
				}
			}
			a := b.arenas[0]
			le32(b.ns[a.flogOff+uint64(tc.entry)*layout.FlogSize+12:], 7)
			nb := open(t, m, 512)
			probs := nb.Check()
			werr := nb.Write(0, 9, pattern(9, 1, 512))
			if tc.broken {
				if len(probs) == 0 || !errors.Is(werr, ErrArenaError) {
					t.Fatalf("check %v, write %v: want problems and ErrArenaError", probs, werr)
				}
			} else if len(probs) != 0 || werr != nil {
				t.Fatalf("check %v, write %v: want a consistent, writable arena", probs, werr)
			}
			buf := make([]byte, 512)
			for i, lba := range tc.writes {
				if i < len(tc.writes)-1 && tc.writes[i+1] == lba {
					continue // overwritten
				}
				if err := nb.Read(1, lba, buf); err != nil || !bytes.Equal(buf, pattern(lba, byte(i+1), 512)) {
					t.Fatalf("block %d: %v, gen %d", lba, err, buf[0])
				}
			}
			if p := open(t, m, 512).Check(); tc.broken == (len(p) == 0) {
				t.Fatalf("reopened: %v", p)
			}
		})
	}
}

// TestWriteWaitsForRead: a write does not reuse a block while a read that
// may copy from it is in progress. Block 5 is written twice through lane
// 0, so the lane's next write but one goes to the block block 5 maps to
// now; a read of block 5 has started and found that block: both writes
// must wait for the read to end.
func TestWriteWaitsForRead(t *testing.T) {
	m := anonMap(t, 17<<20)
	b := open(t, m, 512)
	for gen := range byte(2) {
		if err := b.Write(0, 5, pattern(5, gen+1, 512)); err != nil {
			t.Fatal(err)
		}
	}
	waiting := make(chan int, 1)
	b.waitHook = func(slot int) {
		select {
		case waiting <- slot:
		default:
		}
	}
	b.StartRead(2)
	a := b.arenas[0]
	blk := b.loadMap(b.mapEntry(a, 5)) & layout.MapLBAMask
	data := b.ns[a.dataOff+uint64(blk)*uint64(a.internalLBA):][:512]
	done := make(chan error, 1)
	go func() {
		for gen := byte(3); gen <= 4; gen++ {
			if err := b.Write(0, 5, pattern(5, gen, 512)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case slot := <-waiting:
		if slot != 2 {
			t.Fatalf("the writer waited for slot %d, the read is in slot 2", slot)
		}
	case err := <-done:
		t.Fatalf("two writes ended during a read (%v): the block the read copies from is now %d", err, data[0])
	}
	if !bytes.Equal(data, pattern(5, 2, 512)) {
		t.Fatalf("the block a read is copying from was overwritten (generation %d)", data[0])
	}
	b.EndRead(2)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	if err := b.Read(1, 5, buf); err != nil || !bytes.Equal(buf, pattern(5, 4, 512)) {
		t.Fatalf("block 5 after the writes: %v, generation %d", err, buf[0])
	}
}
