package pool

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/gopmdk/pmdk/core"
	"golang.org/x/sys/unix"
)

// Options tune Create, Open, CreateOnMap and OpenOnMap. nil (or the zero
// value) means C's defaults. Each pool type's Options (log.Options,
// blk.Options) embeds it, so these fields are set the same way for every
// pool type.
type Options struct {
	// ReadOnly opens the file read-only and maps it privately: stores to
	// the mapping never reach the file, the SDS is checked but not
	// updated. (A pool with unknown ro-compat features is also reported
	// read-only by Pool.ReadOnly, but, as in C, mapped shared with its SDS
	// maintained: the libraries must not write to it.)
	ReadOnly bool
	// IgnoreSDS skips the shutdown state: no unsafe-shutdown check, no
	// dirty flag (C's POOL_OPEN_IGNORE_SDS, sds.at_open off).
	IgnoreSDS bool
	// IgnoreBadBlocks opens a pool whose CHECK_BAD_BLOCKS feature is set
	// although its device reports bad blocks (C's
	// POOL_OPEN_IGNORE_BAD_BLOCKS); by default such an open fails with
	// ErrBadBlocks.
	IgnoreBadBlocks bool
	// Logger, if not nil, receives diagnostics (SDS reinitialised, forced
	// read-only).
	Logger *slog.Logger

	// Test hooks, set only by this package's tests. device returns the
	// device under the pool file f (nil for a pool on a bare Map) whose
	// unsafe shutdown count and ids the SDS records; nil means sysfs
	// through core.FromFDIn for files (on machines without NVDIMMs: not
	// supported, the SDS records zeros exactly as C does there) and no
	// device for bare Maps. sysfs is the sysfs tree, rooted at /sys, the
	// NVDIMM information and eADR are read from; nil means the machine's.
	device func(f *os.File) (Device, error)
	sysfs  fs.FS
}

// Pool is an open pool: its mapping, its header and the file lock. The
// libraries build on it. Its methods are not safe for concurrent use with
// Close.
type Pool struct {
	m        *core.Map
	f        *os.File  // nil for pools on a caller's Map and poolsets
	set      *setState // nil unless opened or created from a poolset file
	hdr      Header
	readOnly bool
	sdsSet   bool // this open set the dirty flag and must clear it on Close
	closed   bool
}

// Map returns the mapping of the whole pool, header included. It is valid
// until Close.
func (p *Pool) Map() *core.Map { return p.m }

// Header returns a copy of the pool header as of the open (with the SDS as
// this open set it).
func (p *Pool) Header() Header { return p.hdr }

// ReadOnly reports whether the pool was opened read-only, by request or
// because of unknown ro-compat features.
func (p *Pool) ReadOnly() bool { return p.readOnly }

// Size returns the usable size of the pool in bytes: the mapping's size.
func (p *Pool) Size() int64 { return int64(p.m.Size()) }

// Data returns the pool's bytes after the header, valid until Close.
func (p *Pool) Data() []byte { return p.m.Bytes()[HeaderSize:] }

// WriteHeader replaces the pool header with h (checksum recomputed) and
// persists it, for tools that change features or links. Like C's tools it
// writes the header in place: a crash during the call can leave a torn
// header that fails validation. Once the pool's persist path has failed
// (core.ErrPersist) it writes nothing and returns that failure.
func (p *Pool) WriteHeader(h *Header) error {
	if p.closed {
		return ErrClosed
	}
	if p.readOnly {
		return fmt.Errorf("pool: write header: %w", ErrReadOnly)
	}
	if err := p.m.Err(); err != nil {
		return fmt.Errorf("pool: write header: %w", err)
	}
	if p.set != nil {
		return fmt.Errorf("pool: write header: %w: each part has its own header", ErrPoolsetNotSupported)
	}
	var b [HeaderSize]byte
	h.Encode(b[:])
	if err := persistCopy(p.m, p.m.Bytes()[:HeaderSize], b[:]); err != nil {
		return fmt.Errorf("pool: write header: %w", err)
	}
	p.hdr = *h
	return nil
}

// Close clears the SDS dirty flag this open set and persists that, then
// unmaps the pool and releases the lock. It is idempotent. When the pool's
// persist path has failed (core.ErrPersist), now or earlier, Close returns
// that failure, and leaves the dirty flag set: the pool was not shut down
// cleanly.
func (p *Pool) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	if p.sdsSet && p.m.Err() == nil {
		p.hdr.SDS.Dirty = 0
		if p.set != nil {
			for r := range p.set.heads {
				p.set.heads[r].SDS.Dirty = 0
			}
		}
		_ = p.storeSDS() // a failure is the Map's, which Close returns
	}
	err := p.m.Close()
	if p.f != nil {
		// Closing the descriptor drops the flock.
		err = errors.Join(err, p.f.Close())
	}
	if p.set != nil {
		err = errors.Join(err, p.set.closeFiles())
	}
	return err
}

// storeSDS writes p.hdr.SDS (checksum updated) into the mapped header and
// persists it. Without FeatCksum2K the header checksum covers the SDS:
// update it too (C does not, but never creates such pools).
// A poolset keeps one SDS per replica, in the header of its first part.
func (p *Pool) storeSDS() error {
	if p.set == nil {
		return storeSDSOn(p.m, &p.hdr)
	}
	var errs []error
	for r, m := range p.set.reps {
		if isRemote(p.set.set, r) {
			continue
		}
		errs = append(errs, storeSDSOn(m, &p.set.heads[r]))
	}
	p.hdr = p.set.heads[0]
	return errors.Join(errs...)
}

// Create creates a pool of kind k at path: a new file of size bytes with
// permissions perm, or, with size 0, the existing file (all of it, whose
// header area must be zero), as C's pool create with poolsize 0. It writes
// and persists a fresh header and returns the pool open and locked. Of the
// options, IgnoreSDS, IgnoreBadBlocks and Logger apply; ReadOnly is an
// error (fs.ErrInvalid).
//
// With size 0, path may name a poolset file: the pool is created on its
// parts and replicas (see the package doc, # Poolsets); perm applies to the
// part files it creates.
//
// Errors are *os.PathError values of Op "create" whose cause is the
// system's (fs.ErrExist, ...) or one of this package's (ErrTooSmall,
// ErrLocked, ErrNotEmpty...), without a package prefix: the library
// calling Create adds its own.
func Create(path string, size int64, perm os.FileMode, k Kind, opts *Options) (*Pool, error) {
	p, err := create(path, size, perm, k, opts.value())
	if err != nil {
		return nil, pathError("create", path, err)
	}
	return p, nil
}

func create(path string, size int64, perm os.FileMode, k Kind, o Options) (*Pool, error) {
	if o.ReadOnly {
		return nil, fmt.Errorf("read-only: %w", fs.ErrInvalid)
	}
	minSize := max(k.MinSize, HeaderSize)
	var f *os.File
	var err error
	created := false
	if size > 0 {
		if size < minSize {
			return nil, tooSmall(size, minSize)
		}
		if f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm); err != nil {
			return nil, err
		}
		created = true
		if err = unix.Fallocate(int(f.Fd()), 0, 0, size); errors.Is(err, unix.EOPNOTSUPP) {
			err = f.Truncate(size)
		}
		if err != nil {
			err = fmt.Errorf("allocate: %w", err)
		}
	} else if isPoolsetFile(path) {
		return createSet(path, k, o, perm)
	} else if f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
		return nil, err
	}
	if err == nil {
		err = Lock(f)
	}
	var p *Pool
	if err == nil {
		var m *core.Map
		if m, err = mapFile(f, minSize, false, o.sysfs); err == nil {
			if !IsZero(m.Bytes()[:HeaderSize]) {
				err = fmt.Errorf("%w: %w", ErrNotEmpty, fs.ErrExist)
			} else {
				var st unix.Stat_t
				if err = unix.Fstat(int(f.Fd()), &st); err == nil {
					p, err = createOn(m, f, k, o, uint64(st.Ctim.Sec))
				}
			}
			if err != nil {
				m.Close()
			}
		}
	}
	if err != nil {
		f.Close()
		if created {
			os.Remove(path)
		}
		return nil, err
	}
	return p, nil
}

// CreateOnMap writes a fresh header of kind k at the start of m (whose
// first HeaderSize bytes must be zero) and returns the pool, with no file
// and no lock: for the crash simulator and replicas. The pool owns m:
// Close closes it (wrap a Map in core.NewMemoryMap with a nil close
// function to keep it). Options apply as in Create.
func CreateOnMap(m *core.Map, k Kind, opts *Options) (*Pool, error) {
	o := opts.value()
	if o.ReadOnly {
		return nil, fmt.Errorf("create on map: read-only: %w", fs.ErrInvalid)
	}
	if int64(m.Size()) < max(k.MinSize, HeaderSize) {
		return nil, fmt.Errorf("create on map: %w", tooSmall(int64(m.Size()), max(k.MinSize, HeaderSize)))
	}
	if !IsZero(m.Bytes()[:HeaderSize]) {
		return nil, fmt.Errorf("create on map: %w: %w", ErrNotEmpty, fs.ErrExist)
	}
	h := NewHeader(k)
	return createOn(m, nil, k, o, h.CrTime)
}

// value returns the options o points to, or the zero value (C's defaults)
// for nil.
func (o *Options) value() Options {
	if o == nil {
		return Options{}
	}
	return *o
}

// createOn writes the header as util_header_create does: fields, SDS
// (current device state, dirty) when the kind has FeatSDS, checksum, then
// one persist of the whole header.
func createOn(m *core.Map, f *os.File, k Kind, o Options, crtime uint64) (*Pool, error) {
	if err := checkBadBlocks(m, k.Compat, o); err != nil {
		return nil, err
	}
	h := NewHeader(k)
	h.CrTime = crtime
	p := &Pool{m: m, f: f}
	if k.Incompat&FeatSDS != 0 && !o.IgnoreSDS {
		cur, err := currentSDS(o, f)
		if err != nil {
			return nil, fmt.Errorf("shutdown state: %w", err)
		}
		h.SDS = cur
		h.SDS.Dirty = 1
		h.SDS.UpdateChecksum()
		p.sdsSet = true
	}
	var b [HeaderSize]byte
	h.Encode(b[:])
	if err := persistCopy(m, m.Bytes()[:HeaderSize], b[:]); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	p.hdr = *h
	return p, nil
}

// Open opens the pool of kind k at path: locks the file (ErrLocked if
// another open holds it), maps it, validates the header (errors name the
// field; a pool of another type is ErrWrongType, of another version
// ErrVersion) and handles the shutdown state: refuses an unsafe shutdown
// (ErrUnsafeShutdown) unless o.IgnoreSDS, and marks the pool dirty until
// Close. opts may be nil. path may name a poolset file (see the package
// doc, # Poolsets). Errors are *os.PathError values of Op "open", as
// Create's.
func Open(path string, k Kind, opts *Options) (*Pool, error) {
	p, err := open(path, k, opts.value())
	if err != nil {
		return nil, pathError("open", path, err)
	}
	return p, nil
}

func open(path string, k Kind, o Options) (*Pool, error) {
	if isPoolsetFile(path) {
		return openSet(path, k, o)
	}
	flag := os.O_RDWR
	if o.ReadOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	if err = checkRegular(f); err == nil {
		err = Lock(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	// The kind's minimum size is checked after the header, so that a
	// smaller pool of another type is reported as such.
	m, err := mapFile(f, HeaderSize, o.ReadOnly, o.sysfs)
	if err != nil {
		f.Close()
		return nil, err
	}
	p, err := openOn(m, f, k, o)
	if err != nil {
		m.Close()
		f.Close()
		return nil, err
	}
	return p, nil
}

// pathError returns err, the failure of op on the pool file path, as an
// *os.PathError naming them once: a PathError of the system's call on the
// same file gives its cause only ("open /p: no such file or directory",
// not "open /p: open /p: ...").
func pathError(op, path string, err error) error {
	if pe, ok := err.(*os.PathError); ok && pe.Path == path {
		err = pe.Err
	}
	return &os.PathError{Op: op, Path: path, Err: err}
}

// OpenOnMap opens the pool of kind k on m, as Open without a file: no
// lock; the pool owns m as with CreateOnMap.
func OpenOnMap(m *core.Map, k Kind, opts *Options) (*Pool, error) {
	p, err := openOn(m, nil, k, opts.value())
	if err != nil {
		return nil, fmt.Errorf("open on map: %w", err)
	}
	return p, nil
}

func openOn(m *core.Map, f *os.File, k Kind, o Options) (*Pool, error) {
	minSize := max(k.MinSize, HeaderSize)
	if int64(m.Size()) < minSize {
		// A smaller pool of another type is reported as such.
		if h, err := DecodeHeader(m.Bytes()); err == nil {
			if other, ok := KindOf(h.SignatureString()); ok && other.Signature != k.Signature {
				return nil, wrongType(other.Signature)
			}
		}
		return nil, tooSmall(int64(m.Size()), minSize)
	}
	h, err := DecodeHeader(m.Bytes())
	if err != nil {
		return nil, err
	}
	if err := h.Validate(k); err != nil {
		return nil, err
	}
	if f != nil {
		if err := checkRecoveryFiles(f.Name(), [][]string{{f.Name()}}, h.Compat); err != nil {
			return nil, err
		}
	}
	if err := checkBadBlocks(m, h.Compat, o); err != nil {
		return nil, err
	}
	p := &Pool{m: m, f: f, hdr: *h, readOnly: o.ReadOnly}
	if h.ForceReadOnly() {
		if o.Logger != nil {
			o.Logger.Warn("pool: unknown ro_compat features, opening read-only", "ro_compat", h.ROCompat)
		}
		p.readOnly = true
	}
	if o.IgnoreSDS || h.Incompat&FeatSDS == 0 {
		return p, nil
	}
	cur, err := currentSDS(o, f)
	if err != nil {
		return nil, fmt.Errorf("shutdown state: %w", err)
	}
	next, err := checkSDS(cur, h.SDS)
	if err != nil {
		return nil, err
	}
	if o.ReadOnly {
		// The mapping is private: nothing written would last. A pool
		// forced read-only by ro-compat features still gets its SDS
		// updated, as C does (the SDS format is known).
		return p, nil
	}
	if next != nil {
		if o.Logger != nil {
			o.Logger.Info("pool: shutdown state reinitialised", "usc", next.USC)
		}
		p.hdr.SDS = *next
		if err := p.storeSDS(); err != nil {
			return nil, fmt.Errorf("shutdown state: %w", err)
		}
	}
	p.hdr.SDS.Dirty = 1
	if err := p.storeSDS(); err != nil {
		return nil, fmt.Errorf("shutdown state: %w", err)
	}
	p.sdsSet = true
	return p, nil
}

// Lock takes the lock every open of a pool file takes, in C as here: an
// exclusive advisory flock (LOCK_EX|LOCK_NB), held until f is closed. It
// conflicts with every other open file description of the file, in this
// process too. When another open holds it, Lock fails at once with an
// error wrapping ErrLocked and unix.EWOULDBLOCK. Tools that read or repair
// a pool file without this package's Open (pmempool) take it too, as C's
// pmempool does, so that no pool is changed under a program using it.
func Lock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return locked()
		}
		return fmt.Errorf("flock: %w", err)
	}
}

// checkRegular refuses a directory with EISDIR, as opening one for writing
// does: a read-only open would otherwise fail later, less clearly.
func checkRegular(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return unix.EISDIR
	}
	return nil
}

// mapFile maps f (a regular file or a device DAX) through core.NewMap:
// its size rounded down to the source's alignment (C's repsize), shared, or
// private when readOnly, with the granularity the platform gives (DAX,
// eADR, page cache, PMEM_IS_PMEM_FORCE).
func mapFile(f *os.File, minSize int64, readOnly bool, sysfs fs.FS) (*core.Map, error) {
	src, err := core.FromFDIn(int(f.Fd()), sysfs)
	if err != nil {
		return nil, err
	}
	fileSize, err := src.Size()
	if err != nil {
		return nil, err
	}
	align, err := src.Alignment()
	if err != nil || align <= 0 {
		return nil, fmt.Errorf("alignment %d: %w", align, err)
	}
	size := fileSize - fileSize%align
	if size < minSize {
		return nil, tooSmall(fileSize, minSize)
	}
	cfg := &core.Config{Length: size, RequiredGranularity: core.GranularityPage}
	if readOnly {
		cfg.Sharing = core.SharingPrivate
	}
	m, err := core.NewMap(src, cfg)
	if err != nil {
		return nil, fmt.Errorf("map: %w", err)
	}
	return m, nil
}

// checkBadBlocks refuses a pool with the CHECK_BAD_BLOCKS feature whose
// device reports bad blocks, as C's open and create do. Where bad blocks
// are not supported (no NVDIMM, a bare Map) there is nothing to check.
func checkBadBlocks(m *core.Map, compat uint32, o Options) error {
	if compat&FeatCheckBadBlocks == 0 || o.IgnoreBadBlocks {
		return nil
	}
	bbs, err := m.BadBlocks()
	return badBlocksError(bbs, err)
}

// badBlocksError is the error of a bad block check that found bbs or
// failed with err: none for a source that cannot report bad blocks.
func badBlocksError(bbs []core.BadBlock, err error) error {
	switch {
	case isUnsupported(err):
		return nil
	case err != nil:
		return fmt.Errorf("checking bad blocks: %w", err)
	case len(bbs) > 0:
		return fmt.Errorf("%w: %d ranges, first at offset %d (length %d)", ErrBadBlocks, len(bbs), bbs[0].Offset, bbs[0].Length)
	}
	return nil
}

// persistCopy stores src into dst, a part of m, and persists it: plain
// stores and one persist, as C writes its header in place and calls
// util_persist_auto. The error is m's persist failure, if any.
func persistCopy(m *core.Map, dst, src []byte) error {
	copy(dst, src)
	m.Persist(dst[:len(src)])
	return m.Err()
}
