package pool

import (
	"fmt"
	"os"

	"github.com/gopmdk/pmdk/core"
)

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

// ErrBadBlockRecoveryFile: the pool has the CHECK_BAD_BLOCKS feature and a
// bad block recovery file of C's `pmempool sync --bad-blocks` is left
// beside it (a recovery that did not finish); C refuses to open it too.
var ErrBadBlockRecoveryFile = fmt.Errorf("%w: a bad block recovery file exists, run 'pmempool sync --bad-blocks' to try to recover the pool", ErrBadBlocks)

// recoveryFileName is the name C's sync gives the bad block recovery file
// of part p of replica r of the pool (or poolset file) at path.
func recoveryFileName(path string, r, p int) string {
	return fmt.Sprintf("%s_r%d_p%d_badblocks.txt", path, r, p)
}

// checkRecoveryFiles refuses, as C's open, a pool with CHECK_BAD_BLOCKS
// in compat when a bad block recovery file exists for one of its local
// parts; parts[r] lists the part files of replica r (none for a remote
// one). The check holds with IgnoreBadBlocks too, as in C.
func checkRecoveryFiles(path string, parts [][]string, compat uint32) error {
	if compat&FeatCheckBadBlocks == 0 || path == "" {
		return nil
	}
	for r, rep := range parts {
		for p, part := range rep {
			if _, err := os.Stat(part); err != nil {
				continue // a missing part is sync's business, as C skips it
			}
			name := recoveryFileName(path, r, p)
			if _, err := os.Stat(name); err == nil {
				return fmt.Errorf("%w (%s)", ErrBadBlockRecoveryFile, name)
			}
		}
	}
	return nil
}

// partPaths lists the part files of each replica of st's set.
func (st *setState) partPaths() [][]string {
	if st.set == nil {
		return nil
	}
	paths := make([][]string, len(st.set.Replicas))
	for r, rep := range st.set.Replicas {
		for _, part := range rep.Parts {
			paths[r] = append(paths[r], part.Path)
		}
	}
	return paths
}
