package pmempool

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/core/poolset"
	objlayout "github.com/gopmdk/pmdk/obj/layout"
)

// sameLayout reports whether two poolsets list the same replicas with
// the same parts: a transform may then change their options only.
func sameLayout(a, b *poolset.Set) bool {
	if len(a.Replicas) != len(b.Replicas) {
		return false
	}
	for r := range a.Replicas {
		if !sameParts(a.Replicas[r], b.Replicas[r]) {
			return false
		}
	}
	return true
}

// dataSize is the size of the pool data, header included, that a
// transform must keep (C's replica_get_pool_size): for an obj pool
// heap_offset + heap_size from its descriptor in part 0 of the primary,
// as C reads it; for log and blk pools, which C does not transform, the
// whole pool.
func dataSize(s *poolset.Set, sp setParts, k pool.Kind) (int64, error) {
	if k.Signature != pool.Obj.Signature {
		return s.PoolSize(), nil
	}
	var b [16]byte
	if _, err := sp[0][0].f.ReadAt(b[:], objlayout.HeapOffsetAt); err != nil {
		return 0, fmt.Errorf("part %s: %w", s.Replicas[0].Parts[0].Path, err)
	}
	off := binary.LittleEndian.Uint64(b[:])
	if _, err := sp[0][0].f.ReadAt(b[:8], objlayout.HeapSizeAt); err != nil {
		return 0, fmt.Errorf("part %s: %w", s.Replicas[0].Parts[0].Path, err)
	}
	size := off + binary.LittleEndian.Uint64(b[:8])
	if size > uint64(s.PoolSize()) {
		return 0, &setError{"getting pool size from master replica failed", syscall.EINVAL}
	}
	return int64(size), nil
}

// transformHeaders adds (in without SINGLEHDR, out with it: C's
// RM_HDRS, the headers of the parts after the first go away) or removes
// the SINGLEHDR option (C's ADD_HDRS), as C's transform: for each replica,
// the pool data past the first part moves to where out's layout puts it,
// in whole pages (forward when the headers go, backward when they come),
// then the headers are written: the first part's flag and part links,
// and with ADD_HDRS a new header in every other part (a copy of the
// first part's, with a new UUID, no shutdown state and its file's ctime) linked to its
// neighbours. The source must be healthy and out large enough for the
// data (dataSize).
func transformHeaders(in, out *poolset.Set, o TransformOptions) error {
	sp, kind, err := examineSource(in)
	if err != nil {
		return err
	}
	defer sp.close()
	size, err := dataSize(in, sp, kind)
	if err != nil {
		return err
	}
	if out.PoolSize() < size {
		return &setError{"target poolset is too small", syscall.EINVAL}
	}
	if o.DryRun {
		return nil
	}
	single := out.Options&poolset.SingleHdr != 0
	for r := range in.Replicas {
		if err := moveReplicaData(in, out, sp, r, size, single); err != nil {
			return err
		}
		if err := writeOptionHeaders(out, sp, r, single); err != nil {
			return err
		}
	}
	return nil
}

// moveReplicaData moves the data of replica r past its first part from
// in's layout to out's: the bytes from the end of the first part to size.
// Both layouts start with the whole first part, so the data keeps its
// offsets in the replica's mapping; in the part files it moves by whole
// pages (the headers), towards the start when the headers go (copied
// forward) and towards the end when they come (copied backward), page
// by page, so no page is overwritten before it is read.
func moveReplicaData(in, out *poolset.Set, sp setParts, r int, size int64, single bool) error {
	first := in.Layout(r)[0].Length
	if len(in.Replicas[r].Parts) < 2 || size <= first {
		return nil
	}
	from, err := mapReplica(in, sp, r)
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := mapReplica(out, sp, r)
	if err != nil {
		return err
	}
	defer to.Close()
	src, dst := from.Bytes(), to.Bytes()
	const page = poolset.HeaderSize
	n := (size - first) / page
	for i := range n {
		if !single {
			i = n - 1 - i
		}
		off := first + i*page
		to.Memmove(dst[off:off+page], src[off:off+page], core.MemNoDrain)
	}
	to.Drain()
	if err := to.Err(); err != nil {
		return fmt.Errorf("replica %d: %w", r, err)
	}
	return nil
}

// writeOptionHeaders writes the headers of replica r for out's options:
// with SINGLEHDR the first part's header alone, linked to itself as its
// only part; without, a header in every part, the new ones written
// before the first part's.
func writeOptionHeaders(out *poolset.Set, sp setParts, r int, single bool) error {
	h0 := *sp[r][0].hdr
	n := out.Headers(r)
	hdrs := make([]pool.Header, n)
	hdrs[0] = h0
	if single {
		hdrs[0].Incompat |= pool.FeatSingleHdr
	} else {
		hdrs[0].Incompat &^= pool.FeatSingleHdr
	}
	for i := 1; i < n; i++ {
		h := hdrs[0]
		h.UUID = pool.NewUUID()
		h.SDS = pool.ShutdownState{}
		// As C: the creation time of a new header is its file's ctime.
		if st, err := sp[r][i].f.Stat(); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				h.CrTime = uint64(sys.Ctim.Sec)
			}
		}
		hdrs[i] = h
	}
	for i := range hdrs {
		hdrs[i].PrevPartUUID = hdrs[(i+n-1)%n].UUID
		hdrs[i].NextPartUUID = hdrs[(i+1)%n].UUID
	}
	for i := n - 1; i >= 0; i-- {
		if err := pool.WritePartHeader(sp[r][i].f, &hdrs[i]); err != nil {
			return err
		}
	}
	return nil
}

// examineSource examines the source poolset of a transform (examineSet),
// which must be healthy, as C's transform requires.
func examineSource(in *poolset.Set) (setParts, pool.Kind, error) {
	sp, kind, err := examineSet(in)
	if err != nil {
		return nil, kind, fmt.Errorf("source poolset health check failed: %w", err)
	}
	for r := range sp {
		if !sp.healthy(r) {
			sp.close()
			return nil, kind, &setError{"source poolset is broken", syscall.EINVAL}
		}
	}
	return sp, kind, nil
}

// minTargetPart is the smallest part a transform's target poolset may
// have: C checks every part against the minimum obj pool size
// (PMEMOBJ_MIN_POOL), whatever the pool type.
const minTargetPart = 8 << 20

// validateTransform refuses, as C's transform does before anything else,
// a directory poolset as the source and a target poolset with a part
// smaller than minTargetPart.
func validateTransform(in, out *poolset.Set) error {
	if in.Directories {
		return &setError{"transform of directory poolsets is not supported", syscall.EINVAL}
	}
	for _, rep := range out.Replicas {
		for _, p := range rep.Parts {
			if p.Size < minTargetPart {
				return &setError{"part sizes check failed", syscall.EINVAL}
			}
		}
	}
	return nil
}

// parseSyncSet parses the poolset file at path for Sync: a directory
// poolset comes back as the part files in its directories
// (poolset.Set.LoadDirs), which C's sync repairs like any parts (a
// missing one is made again where C expects it, with the size of its
// counterpart in the replica with the most parts).
func parseSyncSet(path string) (*poolset.Set, error) {
	s, err := poolset.ParseFile(path, nil)
	if err != nil || !s.Directories {
		return s, err
	}
	d, err := s.LoadDirs()
	if err != nil {
		return nil, err
	}
	return d.Set, nil
}
