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

// growth is what a pool on a directory poolset keeps to grow: the address
// space reserved for all of it (C's resvsize, mapped up front), the Maps
// of its parts in the reservation, one after another, and the directory
// listing that names the next part.
type growth struct {
	dirs  *poolset.DirSet
	resv  *core.Reservation
	parts []*core.Map // each mapped part range, in order; closed with the pool
	sysfs fs.FS
}

// growable reports whether a pool on directory poolset dirs (nil for
// another poolset) is mapped to grow: writable, with one local replica.
// Pools with replicas keep their fixed mapping (Extend fails on them).
func growable(dirs *poolset.DirSet, readOnly bool) bool {
	return dirs != nil && !readOnly && len(dirs.Replicas) == 1 && dirs.Replicas[0].Remote == nil
}

// reserveSize is the address space reserved for a growable pool: the sum
// of the sizes of the primary's directories (what C's util_pool_extend
// lets the pool grow to), at least the pool's present size, rounded up to
// the page size.
func reserveSize(d *poolset.DirSet) int {
	var n int64
	for _, dir := range d.Dirs[0] {
		n += dir.Size
	}
	n = max(n, d.PoolSize())
	page := int64(os.Getpagesize())
	return int((n + page - 1) &^ (page - 1))
}

// mapGrowable maps the single replica of directory poolset d (st.set)
// into a reservation of reserveSize bytes, from its start, and makes
// st.reps[0] a Map of the pool's present size over it.
func (st *setState) mapGrowable(d *poolset.DirSet, sysfs fs.FS) error {
	resv, err := core.NewReservation(nil, reserveSize(d))
	if err != nil {
		return fmt.Errorf("replica 0: %w", err)
	}
	st.grow = &growth{dirs: d, resv: resv, sysfs: sysfs}
	parts, err := coreParts(st.set, 0, st.files[0], 0, sysfs)
	if err != nil {
		return err
	}
	m, err := core.NewPartsMapIn(resv, 0, parts, &core.Config{RequiredGranularity: core.GranularityPage})
	if err != nil {
		return fmt.Errorf("replica 0: %w", err)
	}
	st.grow.parts = append(st.grow.parts, m)
	st.reps = []*core.Map{st.grow.view(m.Size())}
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

// view is a Map of the first size bytes of the reservation, persisted as
// the first part is; its Close does nothing (the parts close with the
// pool).
func (g *growth) view(size int) *core.Map {
	m := g.parts[0]
	return core.NewMemoryMap(unsafe.Slice((*byte)(g.resv.Addr()), size), m.Granularity(), m.Persister(), nil)
}

// close unmaps every part and releases the reservation.
func (g *growth) close() error {
	var errs []error
	for _, m := range g.parts {
		errs = append(errs, m.Close())
	}
	g.parts = nil
	if g.resv != nil {
		errs = append(errs, g.resv.Close())
		g.resv = nil
	}
	return errors.Join(errs...)
}

// Extend grows a pool on a directory poolset by size bytes, as C's
// util_pool_extend when the obj heap runs out: a new part file of size
// bytes (clipped to what is left of the reservation, which must leave at
// least minPart bytes) is created in the next directory, named with the
// next index (poolset.DirSet.AppendPart), and mapped right after the
// pool's present end. The parts after the first have no headers
// (SINGLEHDR), so nothing else on media changes. It returns the number of
// bytes added. On success the pool's Map (and ReplicaMap(0)) is a new Map
// over the grown range: the bytes of the previous Map stay valid, at the
// same addresses, until Close. Extend must not run concurrently with
// other methods of p; readers of the previous Map's bytes may go on.
// Errors wrap ErrExtend when the pool is not growable or is full; a
// failed Extend removes the part file it created.
func (p *Pool) Extend(size, minPart int64) (int64, error) {
	if p.closed {
		return 0, ErrClosed
	}
	if p.set == nil || p.set.grow == nil {
		return 0, fmt.Errorf("%w: not a writable directory poolset with one replica", ErrExtend)
	}
	if size <= 0 {
		return 0, fmt.Errorf("%w: by %d bytes", ErrExtend, size)
	}
	st, g := p.set, p.set.grow
	size &^= poolset.Align - 1
	old := st.set.PoolSize()
	if left := int64(g.resv.Size()) - old; size > left {
		size = left &^ (poolset.Align - 1)
		if size < max(minPart, poolset.Align) {
			return 0, fmt.Errorf("%w: reservation of %d bytes exceeded", ErrExtend, g.resv.Size())
		}
	}
	rep := &st.set.Replicas[0]
	nparts, nextID, nextDir := len(rep.Parts), g.dirs.NextID, g.dirs.NextDir
	g.dirs.AppendPart(size)
	path := rep.Parts[nparts].Path
	undo := func(err error) (int64, error) {
		rep.Parts = rep.Parts[:nparts]
		g.dirs.NextID, g.dirs.NextDir = nextID, nextDir
		return 0, fmt.Errorf("%w: %w", ErrExtend, partError(path, err))
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return undo(err)
	}
	fail := func(err error) (int64, error) {
		f.Close()
		os.Remove(path)
		return undo(err)
	}
	if err = unix.Fallocate(int(f.Fd()), 0, 0, size); errors.Is(err, unix.EOPNOTSUPP) {
		err = f.Truncate(size)
	}
	if err == nil {
		err = Lock(f)
	}
	if err != nil {
		return fail(err)
	}
	st.files[0] = append(st.files[0], f)
	parts, err := coreParts(st.set, 0, st.files[0], nparts, g.sysfs)
	var m *core.Map
	if err == nil {
		m, err = core.NewPartsMapIn(g.resv, int(old), parts, &core.Config{RequiredGranularity: core.GranularityPage})
	}
	if err == nil && m.Granularity() != g.parts[0].Granularity() {
		m.Close()
		err = fmt.Errorf("granularity %v, the pool's is %v", m.Granularity(), g.parts[0].Granularity())
	}
	if err != nil {
		st.files[0] = st.files[0][:nparts]
		return fail(err)
	}
	g.parts = append(g.parts, m)
	st.reps[0] = g.view(int(old + size))
	p.m = st.reps[0]
	return size, nil
}

// Room returns the bytes the pool's mapping may grow into by Extend, from
// the pool header on: for a growable pool its whole address reservation,
// of which only the first Size bytes are mapped (touching the others
// faults); for any other pool the Map's bytes. Valid until Close.
func (p *Pool) Room() []byte {
	if p.set == nil || p.set.grow == nil || p.set.grow.resv == nil {
		return p.m.Bytes()
	}
	r := p.set.grow.resv
	return unsafe.Slice((*byte)(r.Addr()), r.Size())
}
