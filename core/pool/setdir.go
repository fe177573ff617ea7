package pool

import (
	"fmt"
	"io/fs"

	"github.com/gopmdk/pmdk/core/poolset"
)

// errNoHdrs is C's refusal of OPTION NOHDRS outside remote replicas.
var errNoHdrs = fmt.Errorf("%w: the NOHDRS poolset option is not supported for local poolsets", ErrPoolsetNotSupported)

// parseSetFile parses the poolset file at path for a create (create) or
// an open of a pool of kind k. A directory poolset comes back as the set
// of the part files its directories hold (poolset.Set.LoadDirs); as in C
// (util_pool_create_uuids), a create needs OPTION SINGLEHDR and a
// reservation of at least the kind's minimum size, and, finding no part
// file, adds one of the minimum size to every replica (000000.pmem in
// the first directory), which the create makes. An open needs a part.
func parseSetFile(path string, k Kind, create bool) (*poolset.Set, *poolset.DirSet, error) {
	s, err := poolset.ParseFile(path, nil)
	if err != nil || !s.Directories {
		return s, nil, err
	}
	d, err := s.LoadDirs()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot load part files from directories: %w", err)
	}
	if s.Options&poolset.NoHdrs != 0 {
		return nil, nil, errNoHdrs
	}
	if !create {
		if len(d.Replicas[0].Parts) == 0 {
			return nil, nil, fmt.Errorf("no parts in replicas: %w", fs.ErrNotExist)
		}
		return d.Set, d, nil
	}
	if s.Options&poolset.SingleHdr == 0 {
		return nil, nil, fmt.Errorf("%w: directory based pools need the SINGLEHDR option (they have a header in the first part only)", ErrPoolsetNotSupported)
	}
	min := max(k.MinSize, HeaderSize)
	if resv := s.ReserveSize(); resv < min {
		return nil, nil, fmt.Errorf("%w: reservation pool size %d smaller than %d", ErrTooSmall, resv, min)
	}
	if d.PoolSize() == 0 {
		d.AppendPart(min)
	}
	return d.Set, d, nil
}

// faultPartHeader is called before the header of each part is written at
// create; tests make it fail to check what a failed create leaves.
var faultPartHeader = func(path string) error { return nil }
