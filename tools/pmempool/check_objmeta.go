package pmempool

import (
	"encoding/binary"
	"fmt"

	"github.com/gopmdk/pmdk/core/pool"
	objlayout "github.com/gopmdk/pmdk/obj/layout"
)

// repairObjMeta restores, in a repair run, the fields of an obj pool's
// descriptor and heap header that have one right value (beyond C, which
// repairs no obj pool): lanes_offset, nlanes and heap_offset are what every
// libpmemobj since 1.0 writes (the size of its pool descriptor, 1024 lanes,
// the next page after them); the heap header's signature, chunk size and
// chunks per zone are constants. Then the descriptor's
// checksum must match again (else -a recomputes it: the layout name, which
// only an open naming a layout compares, may be what is wrong), and the
// heap header's checksum is recomputed if it does not match (its other
// bytes are unused). Each fix is a question; the heap check that follows
// decides whether the pool is repaired.
func (c *checker) repairObjMeta() error {
	if !c.o.Repair || !c.im.has(0, objlayout.RuntimeEnd) {
		return nil
	}
	le := binary.LittleEndian
	b := c.im.b
	changed := false
	known := []struct {
		at   uint64
		name string
		want uint64
	}{
		{objlayout.LanesOffsetAt, "lanes_offset", objlayout.LanesOffset},
		{objlayout.NLanesAt, "nlanes", objlayout.NLanes},
		{objlayout.HeapOffsetAt, "heap_offset", objlayout.HeapOffset(objlayout.LanesOffset, objlayout.NLanes)},
	}
	for _, f := range known {
		if got := le.Uint64(b[f.at:]); got != f.want {
			yes, err := c.ask(fmt.Sprintf("invalid obj descriptor %s: 0x%x|restore the value libpmemobj writes (0x%x)?", f.name, got, f.want), true)
			if err != nil {
				return err
			}
			if yes {
				c.im.putU64(f.at, f.want)
				changed = true
			}
		}
	}
	if unused := b[objlayout.DescUnusedAt:objlayout.DescChecksumAt]; !pool.IsZero(unused) {
		yes, err := c.ask("obj descriptor: unused bytes not zero|zero them?", true)
		if err != nil {
			return err
		}
		if yes {
			c.im.write(objlayout.DescUnusedAt, make([]byte, len(unused)))
			changed = true
		}
	}
	if sum := objlayout.DescChecksum(b); le.Uint64(b[objlayout.DescChecksumAt:]) != sum && (changed || c.o.Advanced) {
		if !c.o.Advanced && changed {
			// Restored fields that do not bring the checksum back: the
			// damage is elsewhere too; only -a recomputes it.
			c.infof("the obj descriptor's checksum does not match its restored fields")
		} else {
			yes, err := c.ask(fmt.Sprintf("invalid obj descriptor checksum: 0x%x|set it to 0x%x (the layout name cannot be verified)?",
				le.Uint64(b[objlayout.DescChecksumAt:]), sum), true)
			if err != nil {
				return err
			}
			if yes {
				c.im.putU64(objlayout.DescChecksumAt, sum)
				changed = true
			}
		}
	}

	// The heap header, where the (restored) descriptor puts it.
	hoff := le.Uint64(b[objlayout.HeapOffsetAt:])
	if c.im.has(hoff, objlayout.HeapHeaderSize) {
		h := b[hoff : hoff+objlayout.HeapHeaderSize]
		want := objlayout.NewHeapHeader()
		for _, f := range []struct {
			name   string
			at, to int
		}{
			// Major and minor: not read by libpmemobj 1.12 (nor checked).
			{"signature", 0, 16}, {"chunk size", 40, 48}, {"chunks per zone", 48, 56},
		} {
			if string(h[f.at:f.to]) == string(want[f.at:f.to]) {
				continue
			}
			yes, err := c.ask(fmt.Sprintf("invalid heap header %s|restore the value libpmemobj writes?", f.name), true)
			if err != nil {
				return err
			}
			if yes {
				c.im.write(hoff+uint64(f.at), want[f.at:f.to])
				changed = true
			}
		}
		at := uint64(objlayout.HeapChecksumAt)
		if sum := pool.Checksum(h, int(at), 0); le.Uint64(h[at:]) != sum {
			yes, err := c.ask(fmt.Sprintf("invalid heap header checksum: 0x%x|set it to 0x%x?", le.Uint64(h[at:]), sum), true)
			if err != nil {
				return err
			}
			if yes {
				c.im.putU64(hoff+at, sum)
				changed = true
			}
		}
	}
	if changed {
		c.fixed()
	}
	return nil
}
