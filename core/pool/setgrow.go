package pool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/poolset"
	"golang.org/x/sys/unix"
)

// ErrExtend: the pool cannot grow (not a growable directory poolset, or
// its reservation is used up), as C's util_pool_extend failing.
var ErrExtend = errors.New("pool cannot be extended")

// growth is what a pool on a directory poolset keeps to grow: for each
// replica, the address space reserved for all of it (C's resvsize,
// mapped up front) and the Maps of its parts in the reservation, one
// after another; and the directory listing that names the next part.
type growth struct {
	dirs  *poolset.DirSet
	reps  []growRep // one per replica, the primary first
	sysfs fs.FS
}

// growRep is one replica of a growable pool: its reservation and the
// Maps of its parts in it.
type growRep struct {
	resv  *core.Reservation
	parts []*core.Map // each mapped part range, in order; closed with the pool
}

// growable reports whether a pool on directory poolset dirs (nil for
// another poolset) is mapped to grow: writable, with local replicas only.
// Pools with a remote replica keep their fixed mapping (Extend fails on
// them).
func growable(dirs *poolset.DirSet, readOnly bool) bool {
	return dirs != nil && !readOnly && !dirs.HasRemote()
}

// reserveSize is the address space reserved for each replica of a
// growable pool: the sum of the sizes of a replica's directories, the
// smallest of the replicas' (what C's util_pool_extend lets the pool grow
// to), at least the pool's present size, rounded up to the page size.
func reserveSize(d *poolset.DirSet) int {
	var least int64 = -1
	for _, dirs := range d.Dirs {
		var n int64
		for _, dir := range dirs {
			n += dir.Size
		}
		if least < 0 || n < least {
			least = n
		}
	}
	n := max(least, d.PoolSize())
	page := int64(os.Getpagesize())
	return int((n + page - 1) &^ (page - 1))
}

// mapGrowable maps each replica of directory poolset d (st.set) into a
// reservation of its own, reserveSize bytes, from its start, and makes
// st.reps[r] a Map of the pool's present size over it.
func (st *setState) mapGrowable(d *poolset.DirSet, sysfs fs.FS) error {
	st.grow = &growth{dirs: d, sysfs: sysfs}
	for r := range st.set.Replicas {
		resv, err := core.NewReservation(nil, reserveSize(d))
		if err != nil {
			return fmt.Errorf("replica %d: %w", r, err)
		}
		st.grow.reps = append(st.grow.reps, growRep{resv: resv})
		parts, err := coreParts(st.set, r, st.files[r], 0, sysfs)
		if err != nil {
			return err
		}
		m, err := core.NewPartsMapIn(resv, 0, parts, &core.Config{RequiredGranularity: core.GranularityPage})
		if err != nil {
			return fmt.Errorf("replica %d: %w", r, err)
		}
		st.grow.reps[r].parts = append(st.grow.reps[r].parts, m)
	}
	for r := range st.grow.reps {
		st.reps = append(st.reps, st.grow.view(r, int(st.set.PoolSize())))
	}
	return nil
}

// coreParts is the core.Part list of parts from..end of local replica r.
func coreParts(s *poolset.Set, r int, files []*os.File, from int, sysfs fs.FS) ([]core.Part, error) {
	layout := s.Layout(r)[from:]
	parts := make([]core.Part, len(layout))
	for i, l := range layout {
		src, err := core.FromFDIn(int(files[from+i].Fd()), sysfs)
		if err != nil {
			return nil, partError(s.Replicas[r].Parts[from+i].Path, err)
		}
		parts[i] = core.Part{Src: src, Offset: l.Offset, Length: l.Length}
	}
	return parts, nil
}

// view is a Map of the first size bytes of replica r's reservation,
// persisted as its first part is; its Close does nothing (the parts close
// with the pool).
func (g *growth) view(r, size int) *core.Map {
	m := g.reps[r].parts[0]
	return core.NewMemoryMap(unsafe.Slice((*byte)(g.reps[r].resv.Addr()), size), m.Granularity(), m.Persister(), nil)
}

// close unmaps every part and releases the reservations.
func (g *growth) close() error {
	var errs []error
	for i := range g.reps {
		rep := &g.reps[i]
		for _, m := range rep.parts {
			errs = append(errs, m.Close())
		}
		rep.parts = nil
		if rep.resv != nil {
			errs = append(errs, rep.resv.Close())
			rep.resv = nil
		}
	}
	return errors.Join(errs...)
}

// Extend grows a pool on a directory poolset by size bytes, as C's
// util_pool_extend when the obj heap runs out: in every replica a new
// part file of size bytes (clipped to what is left of the reservation,
// which must leave at least minPart bytes) is created in the replica's
// next directory, all named with the next index
// (poolset.DirSet.AppendPart), and mapped right after the replica's
// present end. The parts after the first have no headers (SINGLEHDR), so
// nothing else on media changes. It returns the number of bytes added.
// On success the pool's Map (and each ReplicaMap) is a new Map over the
// grown range: the bytes of the previous Map stay valid, at the same
// addresses, until Close, and with replicas the previous Map's persist
// path is the new one's (core.ReplicateGrown), so it replicates the grown
// range too. Extend must not run concurrently with other methods of p;
// readers of the previous Map's bytes may go on. Errors wrap ErrExtend
// when the pool is not growable or is full; a failed Extend removes the
// part files it created, in every replica.
func (p *Pool) Extend(size, minPart int64) (int64, error) {
	if p.closed {
		return 0, ErrClosed
	}
	if p.set == nil || p.set.grow == nil {
		return 0, fmt.Errorf("%w: not a writable directory poolset with local replicas only", ErrExtend)
	}
	if size <= 0 {
		return 0, fmt.Errorf("%w: by %d bytes", ErrExtend, size)
	}
	st, g := p.set, p.set.grow
	size &^= poolset.Align - 1
	old := st.set.PoolSize()
	resv := g.reps[0].resv.Size()
	if left := int64(resv) - old; size > left {
		size = left &^ (poolset.Align - 1)
		if size < max(minPart, poolset.Align) {
			return 0, fmt.Errorf("%w: reservation of %d bytes exceeded", ErrExtend, resv)
		}
	}
	nparts, nextID, nextDir := len(st.set.Replicas[0].Parts), g.dirs.NextID, g.dirs.NextDir
	g.dirs.AppendPart(size)
	var added []*core.Map
	done := 0 // replicas whose part file was created
	undo := func(r int, err error) (int64, error) {
		for _, m := range added {
			m.Close()
		}
		for i := range done {
			f := st.files[i][nparts]
			st.files[i] = st.files[i][:nparts]
			f.Close()
			os.Remove(f.Name())
		}
		path := st.set.Replicas[r].Parts[nparts].Path
		for i := range st.set.Replicas {
			st.set.Replicas[i].Parts = st.set.Replicas[i].Parts[:nparts]
		}
		g.dirs.NextID, g.dirs.NextDir = nextID, nextDir
		return 0, fmt.Errorf("%w: replica %d: %w", ErrExtend, r, partError(path, err))
	}
	for r := range st.set.Replicas {
		f, err := createPart(st.set.Replicas[r].Parts[nparts].Path, size)
		if err != nil {
			return undo(r, err)
		}
		st.files[r] = append(st.files[r], f)
		done++
		parts, err := coreParts(st.set, r, st.files[r], nparts, g.sysfs)
		var m *core.Map
		if err == nil {
			m, err = core.NewPartsMapIn(g.reps[r].resv, int(old), parts, &core.Config{RequiredGranularity: core.GranularityPage})
		}
		if err == nil {
			added = append(added, m)
			if want := g.reps[r].parts[0].Granularity(); m.Granularity() != want {
				err = fmt.Errorf("granularity %v, the replica's is %v", m.Granularity(), want)
			}
		}
		if err != nil {
			return undo(r, err)
		}
	}
	reps := make([]*core.Map, len(g.reps))
	for r := range g.reps {
		g.reps[r].parts = append(g.reps[r].parts, added[r])
		reps[r] = g.view(r, int(old+size))
	}
	m := reps[0]
	if len(reps) > 1 {
		var err error
		if m, err = core.ReplicateGrown(p.m, reps[0], reps[1:], int(old+size)); err != nil {
			// The replicas are mapped at the addresses of the previous
			// Map's: this is a bug, not a media or system error.
			panic(fmt.Sprintf("pool: extend: %v", err))
		}
	}
	st.reps = reps
	p.m = m
	return size, nil
}

// createPart creates the part file at path, size bytes, locked; the file
// must not exist.
func createPart(path string, size int64) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err = unix.Fallocate(int(f.Fd()), 0, 0, size); errors.Is(err, unix.EOPNOTSUPP) {
		err = f.Truncate(size)
	}
	if err == nil {
		err = Lock(f)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
}

// Room returns the bytes the pool's mapping may grow into by Extend, from
// the pool header on: for a growable pool its whole address reservation,
// of which only the first Size bytes are mapped (touching the others
// faults); for any other pool the Map's bytes. Valid until Close.
func (p *Pool) Room() []byte {
	if p.set == nil || p.set.grow == nil || p.set.grow.reps[0].resv == nil {
		return p.m.Bytes()
	}
	r := p.set.grow.reps[0].resv
	return unsafe.Slice((*byte)(r.Addr()), r.Size())
}
