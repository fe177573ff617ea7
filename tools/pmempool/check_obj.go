package pmempool

import (
	"bytes"
	"encoding/binary"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj"
	objlayout "github.com/gopmdk/pmdk/obj/layout"
)

// checkObj goes beyond C's check of an obj pool (which stops at the pool
// header): it opens the pool with gopmdk's obj library on the checker's
// private mapping, read-only, so recovery of pending logs happens in
// memory only, and runs the library's heap checker (obj.Pool.Check): the
// descriptor, the root object, every zone, chunk, run and object header.
// A repair first restores the descriptor's and heap header's fields of
// known value (repairObjMeta); nothing else of the heap is repaired. It
// reports whether the open recovered
// pending lane logs (in memory): a repair then recovers them in the file
// (recoverObj).
func (c *checker) checkObj() (pending bool, err error) {
	c.infof("checking pmemobj heap")
	if err := c.repairObjMeta(); err != nil {
		return false, err
	}
	if err := c.repairChunks(); err != nil {
		return false, err
	}
	lanes := c.objLanes()
	before := bytes.Clone(lanes)
	// The image's pages are private: what the open writes (recovery,
	// run_id) never reaches the file, and flush writes only what the
	// header checks changed (restored below, should the open write there).
	saved := make([][]byte, len(c.im.dirty))
	for i, r := range c.im.dirty {
		saved[i] = bytes.Clone(c.im.b[r[0]:r[1]])
	}
	defer func() {
		for i, r := range c.im.dirty {
			copy(c.im.b[r[0]:r[1]], saved[i])
		}
	}()
	m := core.NewMemoryMap(c.im.b, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
	p, err := obj.OpenOnMap(m, &obj.Options{Arenas: 1, Options: pool.Options{ReadOnly: true, IgnoreSDS: true}})
	problems := []error{err} // a pool the library refuses is one problem
	if err == nil {
		problems = p.Check()
		p.Close()
	}
	if len(problems) == 0 {
		c.infof("pmemobj heap correct")
		return lanes != nil && !bytes.Equal(before, lanes), nil
	}
	for _, e := range problems {
		// Joined errors (the descriptor's problems) one per message.
		for _, line := range strings.Split(e.Error(), "\n") {
			c.errorf("%s", line)
		}
	}
	if c.o.Repair {
		return false, c.stop(CannotRepair, "the repair of the pmemobj heap is not supported")
	}
	c.res = NotConsistent
	return false, errStop
}

// objLanes returns the lanes of the image as the descriptor places them,
// nil when they do not lie inside the file (the open refuses such a pool).
func (c *checker) objLanes() []byte {
	if !c.im.has(objlayout.NLanesAt, 8) {
		return nil
	}
	off := binary.LittleEndian.Uint64(c.im.b[objlayout.LanesOffsetAt:])
	n := binary.LittleEndian.Uint64(c.im.b[objlayout.NLanesAt:])
	if n > c.im.size/objlayout.LaneSize || !c.im.has(off, n*objlayout.LaneSize) {
		return nil
	}
	return c.im.b[off : off+n*objlayout.LaneSize]
}

// recoverObj recovers the pending lane logs of a pool the heap check found
// consistent once they are recovered: it opens the pool read-write with
// gopmdk's obj library, on a shared mapping of the file the checker holds
// locked (the open runs recovery as pmemobj_open does), closes it and
// syncs the file.
func (c *checker) recoverObj() error {
	c.infof("recovering pending lane logs")
	b, err := unix.Mmap(int(c.im.f.Fd()), 0, int(c.im.size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return c.stop(CannotRepair, "mapping the pool to recover its logs failed: %v", err)
	}
	closeMap := func() error {
		err := unix.Msync(b, unix.MS_SYNC)
		if e := unix.Munmap(b); err == nil {
			err = e
		}
		return err
	}
	m := core.NewMemoryMap(b, core.GranularityPage, core.NewPersister(core.GranularityPage, nil), closeMap)
	p, err := obj.OpenOnMap(m, &obj.Options{Arenas: 1})
	if err != nil {
		m.Close()
		return c.stop(CannotRepair, "recovering the pending lane logs failed: %v", err)
	}
	if err := p.Close(); err != nil {
		return c.stop(CannotRepair, "recovering the pending lane logs failed: %v", err)
	}
	c.infof("pending lane logs recovered")
	c.fixed()
	return nil
}
