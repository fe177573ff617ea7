package pool

import "github.com/gopmdk/pmdk/core"

// checkBadBlocks refuses, with CHECK_BAD_BLOCKS in compat and unless
// Options.IgnoreBadBlocks, a poolset with bad blocks in any part file, as
// C's badblocks_check_poolset at create and open: each part file is
// checked on its own (the bad blocks of its device mapped through its
// extents), the error names the first part found with some. A replica
// on a caller's Map (CreateOnMaps) is checked through the Map.
func (st *setState) checkBadBlocks(compat uint32, o Options) error {
	if compat&FeatCheckBadBlocks == 0 || o.IgnoreBadBlocks {
		return nil
	}
	for r, m := range st.reps {
		for i, f := range st.files[r] {
			if f == nil {
				if err := checkBadBlocks(m, compat, o); err != nil {
					return err
				}
				continue
			}
			src, err := core.FromFDIn(int(f.Fd()), o.sysfs)
			var bbs []core.BadBlock
			if err == nil {
				bbs, err = src.BadBlocks()
			}
			if err := badBlocksError(bbs, err); err != nil {
				return partError(st.set.Replicas[r].Parts[i].Path, err)
			}
		}
	}
	return nil
}
