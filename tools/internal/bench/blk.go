package bench

import (
	"path/filepath"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/tools/internal/cpeer"
)

var blkSizes = []int{512, 4 << 10}

// blkPoolSize is the size of the block pools: PMEMBLK_MIN_POOL, or
// the memory scenarios' region per thread if larger.
func blkPoolSize(e *env) int64 {
	return max(int64(e.threads)*int64(e.region), blk.MinPoolSize)
}

// blkScenario writes every block once (so reads find data and no first
// touch lands in the measurement), then reads or writes random blocks;
// worker t uses seed t, in Go and in C.
func blkScenario(write bool) func(e *env, r *row) error {
	return func(e *env, r *row) error {
		size := blkPoolSize(e)
		p, err := blk.Create(filepath.Join(e.dir, e.name+".go.pool"), size, 0o600, &blk.Options{BlockSize: e.size})
		if err != nil {
			return err
		}
		r.closers = append(r.closers, p.Close)
		fill := pattern(e.size)
		for b := range p.NBlock() {
			if err := p.WriteBlock(fill, b); err != nil {
				return err
			}
		}
		for t := range e.threads {
			buf := pattern(e.size)
			seed := uint64(t)
			r.goW = append(r.goW, func(first, n uint64) (uint64, error) {
				nb := p.NBlock()
				for i := first; i < first+n; i++ {
					b := cpeer.BlockFor(i, seed, nb)
					var err error
					if write {
						err = p.WriteBlock(buf, b)
					} else {
						err = p.ReadBlock(buf, b)
					}
					if err != nil {
						return 0, err
					}
				}
				return n, nil
			})
		}
		if !e.peer {
			return nil
		}
		cp, err := cpeer.CreateBlk(filepath.Join(e.dir, e.name+".c.pool"), e.size, size)
		if err != nil {
			return err
		}
		r.closers = append(r.closers, cp.Close)
		if err := cp.Run(true, true, fill, 0, 0, uint64(cp.NBlock())); err != nil {
			return err
		}
		for t := range e.threads {
			buf := pattern(e.size)
			seed := uint64(t)
			r.cW = append(r.cW, func(first, n uint64) (uint64, error) {
				return n, cp.Run(write, false, buf, seed, first, n)
			})
		}
		return nil
	}
}
