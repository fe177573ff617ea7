package set

import (
	"errors"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/poolset"
)

// ErrPoolsetNotSupported: a poolset replica MapReplica cannot map: remote,
// or of directories.
var ErrPoolsetNotSupported = errors.New("set: poolset replica not supported")

// MapReplica maps local replica r of the parsed poolset ps as core/pool
// maps it: the ranges of core/poolset's Layout, one after another, in one
// part map (each part's header inside the range only for the first part).
// The part files are opened with flags (FileCreateIfNeeded creates
// missing ones, grown to their poolset size) and closed by Close. The
// mapping is coalesced whatever SetCoalescing says; when the addresses
// after a part are taken it fails with ErrCannotCoalesce and maps nothing.
func (s *Set) MapReplica(ps *poolset.Set, r int, flags FileFlags) (*PartMap, error) {
	if r < 0 || r >= len(ps.Replicas) {
		return nil, fmt.Errorf("set: replica %d of %d: %w", r, len(ps.Replicas), core.ErrInvalidArgument)
	}
	rep := ps.Replicas[r]
	if rep.Remote != nil || ps.Directories {
		return nil, fmt.Errorf("set: replica %d (line %d): %w", r, rep.Line, ErrPoolsetNotSupported)
	}
	layout := ps.Layout(r)
	srcs := make([]*Source, 0, len(rep.Parts))
	fail := func(pm *PartMap, err error) (*PartMap, error) {
		if pm != nil {
			err = errors.Join(err, s.removePartMap(pm, true))
		}
		for _, src := range srcs {
			err = errors.Join(err, src.Close())
		}
		return nil, err
	}
	var pm *PartMap
	for i, p := range rep.Parts {
		src, err := FromPath(p.Path, flags, 0o600)
		if err != nil {
			return fail(pm, err)
		}
		srcs = append(srcs, src)
		if err := src.ensureSize(p.Size); err != nil {
			return fail(pm, err)
		}
		got, err := s.mapPart(src, MapConfig{Offset: layout[i].Offset, Length: layout[i].Length}, pm, ps.ReplicaSize(r))
		if err != nil {
			return fail(pm, fmt.Errorf("set: replica %d part %d (line %d): %w", r, i, p.Line, err))
		}
		pm = got
	}
	s.mu.Lock()
	s.owned = append(s.owned, srcs...)
	s.mu.Unlock()
	return pm, nil
}
