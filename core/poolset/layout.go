package poolset

// Align is the mapping alignment C uses for part sizes and headers
// (Mmap_align, the page size on Linux).
const Align = 4096

// Headers returns how many parts of replica r start with a pool header:
// every part, only the first with SINGLEHDR (which wins over NOHDRS, as
// in C), none with NOHDRS; a remote replica has one (the pool header at
// the start of the remote pool).
func (s *Set) Headers(r int) int {
	switch {
	case s.Replicas[r].Remote != nil:
		return 1
	case s.Options&SingleHdr != 0:
		return 1
	case s.Options&NoHdrs != 0:
		return 0
	}
	return len(s.Replicas[r].Parts)
}

// Range is the part of a part file that the contiguous mapping of its
// replica holds.
type Range struct {
	Offset, Length int64 // bytes, multiples of Align
}

// Layout returns, for each part of local replica r, the range of the file
// that the replica's contiguous mapping holds, in order: all of the first
// part (its header at the start of the mapping), and of each next part
// what follows its own header, if it has one. Sizes are the poolset
// file's, rounded down to Align. A part too small to hold anything past
// its header gets Length 0 or less: callers refuse such sets (parts are at
// least MinPartSize).
func (s *Set) Layout(r int) []Range {
	rep := s.Replicas[r]
	hdr := int64(0)
	if s.Headers(r) > 1 {
		hdr = HeaderSize
	}
	out := make([]Range, len(rep.Parts))
	for i, p := range rep.Parts {
		size := p.Size &^ (Align - 1)
		if i == 0 {
			out[i] = Range{0, size}
			continue
		}
		out[i] = Range{hdr, size - hdr}
	}
	return out
}

// ReplicaSize returns the usable size in bytes of local replica r, its
// first header included: C's repsize.
func (s *Set) ReplicaSize(r int) int64 {
	var n int64
	for _, x := range s.Layout(r) {
		n += x.Length
	}
	return n
}

// PoolSize returns the usable size of the pool: the smallest local
// replica's (remote replicas do not count), or 0 for a set without local
// replicas.
func (s *Set) PoolSize() int64 {
	var size int64 = -1
	for r, rep := range s.Replicas {
		if rep.Remote != nil {
			continue
		}
		if n := s.ReplicaSize(r); size < 0 || n < size {
			size = n
		}
	}
	return max(size, 0)
}

// HasRemote reports whether the set has a remote replica.
func (s *Set) HasRemote() bool {
	for _, rep := range s.Replicas {
		if rep.Remote != nil {
			return true
		}
	}
	return false
}
