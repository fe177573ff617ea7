package pmempool

import (
	"strings"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj"
)

// checkObj goes beyond C's check of an obj pool (which stops at the pool
// header): it opens the pool with gopmdk's obj library on the checker's
// private mapping, read-only, so recovery of pending logs happens in
// memory only, and runs the library's heap checker (obj.Pool.Check): the
// descriptor, the root object, every zone, chunk, run and object header.
// Nothing of it is repaired.
func (c *checker) checkObj() error {
	c.infof("checking pmemobj heap")
	// The image's pages are private: what the open writes (recovery,
	// run_id) never reaches the file, and flush writes only what the
	// header checks changed.
	m := core.NewMemoryMap(c.im.b, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
	p, err := obj.OpenOnMap(m, &obj.Options{Arenas: 1, Options: pool.Options{ReadOnly: true, IgnoreSDS: true}})
	problems := []error{err} // a pool the library refuses is one problem
	if err == nil {
		problems = p.Check()
		p.Close()
	}
	if len(problems) == 0 {
		c.infof("pmemobj heap correct")
		return nil
	}
	for _, e := range problems {
		// Joined errors (the descriptor's problems) one per message.
		for _, line := range strings.Split(e.Error(), "\n") {
			c.errorf("%s", line)
		}
	}
	if c.o.Repair {
		return c.stop(CannotRepair, "the repair of the pmemobj heap is not supported")
	}
	c.res = NotConsistent
	return errStop
}
