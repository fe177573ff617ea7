package pool

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/poolset"
)

// Errors of poolsets (multi-part pools and replicas).
var (
	// ErrRemoteReplica: the poolset has a remote replica (REPLICA host
	// descriptor) and no remote transport is registered (RegisterRemote;
	// importing package rpma/rpmem registers one).
	ErrRemoteReplica = errors.New("remote replicas not supported")
	// ErrPoolsetNotSupported: a poolset this package cannot create or
	// open although C can (directory parts; NOHDRS, which C refuses too
	// for local poolsets).
	ErrPoolsetNotSupported = errors.New("poolset not supported")
	// ErrPartSize: a part file's size is not the one its poolset line
	// gives, or a part is smaller than the minimum part size.
	ErrPartSize = errors.New("part file size does not match the poolset")
)

// setState is what an open poolset pool keeps besides its Map: the parsed
// set, the part files (each locked) and the mapping of each replica, whose
// part-0 header carries that replica's shutdown state.
type setState struct {
	set   *poolset.Set
	files [][]*os.File // [replica][part]
	reps  []*core.Map  // each replica's whole mapping; reps[0] is the primary
	heads []Header     // part-0 header of each replica, as last written
	path  string       // the poolset file, if opened from one
	grow  *growth      // a directory poolset that Extend grows, or nil
}

// Set returns the parsed poolset of a pool opened or created from a
// poolset file, or nil for a single-file pool.
func (p *Pool) Set() *poolset.Set {
	if p.set == nil {
		return nil
	}
	return p.set.set
}

// Replicas returns the number of replicas of the pool (1 for a single
// file).
func (p *Pool) Replicas() int {
	if p.set == nil {
		return 1
	}
	return len(p.set.reps)
}

// ReplicaMap returns the mapping of replica r (0 is the primary), headers
// included, valid until Close: for checkers and tools that compare or
// repair replicas. Stores to it are not replicated.
func (p *Pool) ReplicaMap(r int) *core.Map {
	if p.set == nil {
		if r == 0 {
			return p.m
		}
		return nil
	}
	return p.set.reps[r]
}

func (s *setState) closeFiles() error {
	var errs []error
	if s.grow != nil {
		errs = append(errs, s.grow.close())
	}
	for _, rep := range s.files {
		for _, f := range rep {
			if f != nil {
				errs = append(errs, f.Close())
			}
		}
	}
	return errors.Join(errs...)
}

// isPoolsetFile reports whether the file at path starts with the poolset
// signature. Errors opening it are left to the caller's own open.
func isPoolsetFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(poolset.Signature))
	n, _ := f.ReadAt(b, 0)
	return poolset.IsPoolset(b[:n])
}

// checkSet refuses what this package does not create or open.
func checkSet(s *poolset.Set) error {
	switch {
	case s.HasRemote() && registeredRemote() == nil:
		return fmt.Errorf("%w: no remote transport (import _ \"github.com/gopmdk/pmdk/rpma/rpmem\")", ErrRemoteReplica)
	case s.Directories:
		return fmt.Errorf("%w: directory parts", ErrPoolsetNotSupported)
	case s.Options&poolset.NoHdrs != 0:
		return errNoHdrs
	}
	seen := map[string]int{}
	for _, rep := range s.Replicas {
		for _, part := range rep.Parts {
			if line, dup := seen[part.Path]; dup {
				// C would fail on its own lock of the second open.
				return fmt.Errorf("part %s listed twice (poolset lines %d and %d): %w", part.Path, line, part.Line, fs.ErrInvalid)
			}
			seen[part.Path] = part.Line
			if part.Size < poolset.MinPartSize {
				return fmt.Errorf("part %s: %w: size %d smaller than %d", part.Path, ErrPartSize, part.Size, poolset.MinPartSize)
			}
		}
	}
	return nil
}

// partError names the part a failure is about.
func partError(path string, err error) error { return fmt.Errorf("part %s: %w", path, err) }

// openParts opens (or, with create, creates where missing) and locks every
// part file. created lists the files it created, for removal on failure.
func openParts(s *poolset.Set, create, readOnly bool, perm os.FileMode) (files [][]*os.File, created []string, err error) {
	files = make([][]*os.File, len(s.Replicas))
	fail := func(e error) ([][]*os.File, []string, error) {
		(&setState{files: files}).closeFiles()
		for _, p := range created {
			os.Remove(p)
		}
		return nil, nil, e
	}
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	for r, rep := range s.Replicas {
		files[r] = make([]*os.File, len(rep.Parts))
		for i, part := range rep.Parts {
			f, err := os.OpenFile(part.Path, flag, 0)
			if create && errors.Is(err, fs.ErrNotExist) {
				if f, err = os.OpenFile(part.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm); err == nil {
					created = append(created, part.Path)
					if err = unix.Fallocate(int(f.Fd()), 0, 0, part.Size); errors.Is(err, unix.EOPNOTSUPP) {
						err = f.Truncate(part.Size)
					}
				}
			}
			if f != nil {
				files[r][i] = f
			}
			if err == nil {
				err = checkRegular(f)
			}
			if err == nil {
				var st os.FileInfo
				if st, err = f.Stat(); err == nil && st.Size() != part.Size {
					err = fmt.Errorf("%w: %d bytes, poolset line %d says %d", ErrPartSize, st.Size(), part.Line, part.Size)
				}
			}
			if err == nil {
				err = Lock(f)
			}
			if err != nil {
				return fail(partError(part.Path, err))
			}
		}
	}
	return files, created, nil
}

// mapReplicas maps each replica of s contiguously.
func mapReplicas(s *poolset.Set, files [][]*os.File, readOnly bool, sysfs fs.FS) ([]*core.Map, error) {
	maps := make([]*core.Map, 0, len(s.Replicas))
	for r := range s.Replicas {
		if isRemote(s, r) {
			maps = append(maps, nil) // openRemotes opens it
			continue
		}
		m, err := mapReplica(s, r, files[r], readOnly, sysfs)
		if err != nil {
			closeMaps(maps)
			return nil, err
		}
		maps = append(maps, m)
	}
	return maps, nil
}

func closeMaps(maps []*core.Map) {
	for _, m := range maps {
		if m != nil {
			m.Close()
		}
	}
}

// replicated returns the Map the libraries use: the primary, replicated
// into the other replicas past the header, poolsize bytes long.
func replicated(maps []*core.Map, poolsize int64) (*core.Map, error) {
	if len(maps) == 1 {
		return maps[0], nil
	}
	return core.Replicate(maps[0], maps[1:], int(poolsize), HeaderSize)
}

// readPartHeader reads the header of part i of a replica: from the mapping
// for the first part, from the file for the others (their headers are not
// mapped, as in C).
func readPartHeader(m *core.Map, f *os.File, i int) ([]byte, error) {
	if i == 0 {
		return m.Bytes()[:HeaderSize], nil
	}
	b := make([]byte, HeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, err
	}
	return b, nil
}

// currentSDSParts is the shutdown state of the devices under all the parts
// of a replica: the sums C's shutdown_state_add_part builds.
func currentSDSParts(o Options, files []*os.File) (ShutdownState, error) {
	var s ShutdownState
	for _, f := range files {
		one, err := currentSDS(o, f)
		if err != nil {
			return s, err
		}
		s.USC += one.USC
		s.DeviceID += one.DeviceID
	}
	s.UpdateChecksum()
	return s, nil
}

// createSet creates a pool of kind k on the poolset file at path, as C's
// util_pool_create with a poolset: part files are created (or, existing,
// must have the poolset's size and zero headers), every part with a header
// gets one linking it to its neighbours, its replica and the poolset, and
// part 0 of each replica gets the shutdown state of all its parts.
func createSet(path string, k Kind, o Options, perm os.FileMode) (*Pool, error) {
	if perm == 0 {
		perm = 0o600
	}
	return onSetFile(path, k, o, true, perm)
}

// openSet opens the pool of kind k on the poolset file at path: every part
// must exist with its poolset size; every header is validated as C's
// util_replica_check does (format, poolset UUID, part and replica links,
// the same features in every part), the shutdown state of each replica is
// checked and set dirty, and replicas that differ from the primary past
// the header (a crash between the persist of the primary and of a
// replica) are repaired from the primary, unless read-only.
func openSet(path string, k Kind, o Options) (*Pool, error) {
	return onSetFile(path, k, o, false, 0)
}

// onSetFile parses the poolset file at path, opens and locks its parts
// (creating missing ones with perm when create), maps its replicas and
// creates or opens the pool on them; a failure undoes it all, removing
// the parts it created.
func onSetFile(path string, k Kind, o Options, create bool, perm os.FileMode) (*Pool, error) {
	s, dirs, err := parseSetFile(path, k, create)
	if err != nil {
		return nil, err
	}
	if err := checkSet(s); err != nil {
		return nil, err
	}
	if min := max(k.MinSize, HeaderSize); create && s.PoolSize() < min {
		return nil, fmt.Errorf("%w: net pool size %d smaller than %d", ErrTooSmall, s.PoolSize(), min)
	}
	files, created, err := openParts(s, create, o.ReadOnly, perm)
	if err != nil {
		return nil, err
	}
	st := &setState{set: s, files: files, path: path}
	var p *Pool
	if growable(dirs, o.ReadOnly) {
		err = st.mapGrowable(dirs, o.sysfs)
	} else if st.reps, err = mapReplicas(s, files, o.ReadOnly, o.sysfs); err == nil {
		mode := RemoteOpen
		if create {
			mode = RemoteCreate
		}
		err = openRemotes(st, mode, o.ReadOnly)
	}
	if err == nil {
		if create {
			p, err = createOnSet(st, k, o)
		} else {
			p, err = openOnSet(st, k, o)
		}
	}
	if err != nil {
		closeMaps(st.reps)
		st.closeFiles()
		for _, p := range created {
			os.Remove(p)
		}
		return nil, err
	}
	return p, nil
}

// createOnSet writes the headers of a new pool of kind k on the mapped
// replicas of st (part files nil for replicas on caller's Maps) and
// returns the pool.
func createOnSet(st *setState, k Kind, o Options) (*Pool, error) {
	s, files := st.set, st.files
	// Every header area must be zero, as C checks before writing any.
	for r := range s.Replicas {
		for i := 0; i < s.Headers(r); i++ {
			b, err := readPartHeader(st.reps[r], files[r][i], i)
			if err != nil {
				return nil, partError(partName(s, r, i), err)
			}
			if !IsZero(b) {
				return nil, partError(partName(s, r, i), fmt.Errorf("%w: %w", ErrNotEmpty, fs.ErrExist))
			}
		}
	}
	if err := st.checkBadBlocks(k.Compat, o); err != nil {
		return nil, err
	}
	// UUIDs: one for the poolset, one per part with a header.
	setUUID := NewUUID()
	uuids := make([][]UUID, len(s.Replicas))
	for r := range s.Replicas {
		uuids[r] = make([]UUID, s.Headers(r))
		for i := range uuids[r] {
			uuids[r][i] = NewUUID()
		}
	}
	nrep := len(s.Replicas)
	sdsOn := k.Incompat&FeatSDS != 0 && !o.IgnoreSDS
	st.heads = make([]Header, nrep)
	// Headers of the later parts first, then each replica's first part,
	// the primary's last: a create cut short leaves no valid pool.
	for pass := 0; pass < 2; pass++ {
		for r := nrep - 1; r >= 0; r-- {
			n := s.Headers(r)
			for i := 0; i < n; i++ {
				if (i == 0) != (pass == 1) {
					continue
				}
				f := files[r][i]
				name := partName(s, r, i)
				h := NewHeader(k)
				if s.Options&poolset.SingleHdr != 0 {
					h.Incompat |= FeatSingleHdr
				}
				h.PoolsetUUID = setUUID
				h.UUID = uuids[r][i]
				h.PrevPartUUID = uuids[r][(i+n-1)%n]
				h.NextPartUUID = uuids[r][(i+1)%n]
				h.PrevReplUUID = uuids[(r+nrep-1)%nrep][0]
				h.NextReplUUID = uuids[(r+1)%nrep][0]
				if f != nil {
					var fst unix.Stat_t
					if err := unix.Fstat(int(f.Fd()), &fst); err != nil {
						return nil, partError(name, err)
					}
					h.CrTime = uint64(fst.Ctim.Sec)
				}
				if i == 0 && sdsOn && !isRemote(s, r) {
					cur, err := currentSDSParts(o, files[r])
					if err != nil {
						return nil, fmt.Errorf("replica %d: shutdown state: %w", r, err)
					}
					h.SDS = cur
					h.SDS.Dirty = 1
					h.SDS.UpdateChecksum()
				}
				if err := faultPartHeader(name); err != nil {
					return nil, partError(name, fmt.Errorf("header: %w", err))
				}
				if i > 0 {
					if err := WritePartHeader(f, h); err != nil {
						return nil, err
					}
					continue
				}
				var b [HeaderSize]byte
				h.Encode(b[:])
				if err := persistCopy(st.reps[r], st.reps[r].Bytes()[:HeaderSize], b[:]); err != nil {
					return nil, partError(name, fmt.Errorf("header: %w", err))
				}
				st.heads[r] = *h
			}
		}
	}
	m, err := replicated(st.reps, s.PoolSize())
	if err != nil {
		return nil, err
	}
	return &Pool{m: m, set: st, hdr: st.heads[0], sdsSet: sdsOn}, nil
}

// openOnSet validates the headers of the mapped replicas of st, handles
// their shutdown states and repairs the replicas from the primary; see
// openSet.
func openOnSet(st *setState, k Kind, o Options) (*Pool, error) {
	s, files := st.set, st.files
	var err error
	if st.heads, err = checkSetHeaders(s, st, k); err != nil {
		return nil, err
	}
	if err := checkRecoveryFiles(st.path, st.partPaths(), st.heads[0].Compat); err != nil {
		return nil, err
	}
	if err := st.checkBadBlocks(st.heads[0].Compat, o); err != nil {
		return nil, err
	}
	poolsize := s.PoolSize()
	if poolsize < max(k.MinSize, HeaderSize) {
		return nil, tooSmall(poolsize, max(k.MinSize, HeaderSize))
	}
	p := &Pool{set: st, hdr: st.heads[0], readOnly: o.ReadOnly}
	if st.heads[0].ForceReadOnly() {
		if o.Logger != nil {
			o.Logger.Warn("pool: unknown ro_compat features, opening read-only", "ro_compat", st.heads[0].ROCompat)
		}
		p.readOnly = true
	}
	if !o.IgnoreSDS && st.heads[0].Incompat&FeatSDS != 0 {
		for r := range st.reps {
			if isRemote(s, r) {
				continue // C keeps no shutdown state for remote replicas
			}
			cur, err := currentSDSParts(o, files[r])
			if err != nil {
				return nil, fmt.Errorf("replica %d: shutdown state: %w", r, err)
			}
			next, err := checkSDS(cur, st.heads[r].SDS)
			if err != nil {
				return nil, fmt.Errorf("replica %d: %w", r, err)
			}
			if o.ReadOnly {
				continue
			}
			if next != nil {
				st.heads[r].SDS = *next
			}
			st.heads[r].SDS.Dirty = 1
			if err := storeSDSOn(st.reps[r], &st.heads[r]); err != nil {
				return nil, fmt.Errorf("replica %d: shutdown state: %w", r, err)
			}
			p.sdsSet = true
		}
		p.hdr = st.heads[0]
	}
	if !o.ReadOnly {
		for r := 1; r < len(st.reps); r++ {
			n, err := syncReplica(st.reps[0], st.reps[r], int(poolsize))
			if err != nil {
				return nil, fmt.Errorf("replica %d: repair: %w", r, err)
			}
			if n > 0 && o.Logger != nil {
				o.Logger.Info("pool: replica repaired from the primary", "replica", r, "bytes", n)
			}
		}
	}
	if p.m, err = replicated(st.reps, poolsize); err != nil {
		return nil, err
	}
	return p, nil
}

// checkSetHeaders decodes and validates every header of s, in C's order,
// and returns the part-0 header of each replica.
func checkSetHeaders(s *poolset.Set, st *setState, k Kind) ([]Header, error) {
	nrep := len(s.Replicas)
	hdrs := make([][]*Header, nrep)
	for r := range s.Replicas {
		hdrs[r] = make([]*Header, s.Headers(r))
		for i := range hdrs[r] {
			b, err := readPartHeader(st.reps[r], st.files[r][i], i)
			if err != nil {
				return nil, partError(partName(s, r, i), err)
			}
			if hdrs[r][i], err = DecodeHeader(b); err != nil {
				return nil, partError(partName(s, r, i), err)
			}
		}
	}
	first := hdrs[0][0]
	hf := func(f string) string { return "pool header: " + f }
	for r := range s.Replicas {
		n := len(hdrs[r])
		for i, h := range hdrs[r] {
			path := partName(s, r, i)
			if err := h.ValidateFormat(k); err != nil {
				return nil, partError(path, err)
			}
			var err error
			switch {
			case h.PoolsetUUID != first.PoolsetUUID:
				err = core.Corrupt(offPoolsetUUID, hf("poolset_uuid (part of another poolset)"), first.PoolsetUUID, h.PoolsetUUID)
			case h.PrevPartUUID != hdrs[r][(i+n-1)%n].UUID:
				err = core.Corrupt(offPrevPartUUID, hf("prev_part_uuid (wrong part UUID)"), hdrs[r][(i+n-1)%n].UUID, h.PrevPartUUID)
			case h.NextPartUUID != hdrs[r][(i+1)%n].UUID:
				err = core.Corrupt(offNextPartUUID, hf("next_part_uuid (wrong part UUID)"), hdrs[r][(i+1)%n].UUID, h.NextPartUUID)
			case h.Major != hdrs[r][0].Major || h.Compat != hdrs[r][0].Compat ||
				h.Incompat != hdrs[r][0].Incompat || h.ROCompat != hdrs[r][0].ROCompat:
				err = core.Corrupt(offCompat, hf("feature flags (incompatible with part 0)"),
					fmt.Sprintf("%#x/%#x/%#x", hdrs[r][0].Compat, hdrs[r][0].Incompat, hdrs[r][0].ROCompat),
					fmt.Sprintf("%#x/%#x/%#x", h.Compat, h.Incompat, h.ROCompat))
			case (s.Options&poolset.SingleHdr != 0) != (hdrs[r][0].Incompat&FeatSingleHdr != 0):
				err = core.Corrupt(offIncompat, hf("incompat features (SINGLEHDR does not match the poolset options)"),
					s.Options&poolset.SingleHdr != 0, hdrs[r][0].Incompat&FeatSingleHdr != 0)
			}
			if err != nil {
				return nil, partError(path, err)
			}
		}
		h := hdrs[r][0]
		prev, next := hdrs[(r+nrep-1)%nrep][0], hdrs[(r+1)%nrep][0]
		var err error
		switch {
		case h.PrevReplUUID != prev.UUID:
			err = core.Corrupt(offPrevReplUUID, hf("prev_repl_uuid (wrong replica UUID)"), prev.UUID, h.PrevReplUUID)
		case h.NextReplUUID != next.UUID:
			err = core.Corrupt(offNextReplUUID, hf("next_repl_uuid (wrong replica UUID)"), next.UUID, h.NextReplUUID)
		}
		if err != nil {
			return nil, partError(partName(s, r, 0), err)
		}
	}
	heads := make([]Header, nrep)
	for r := range heads {
		heads[r] = *hdrs[r][0]
	}
	return heads, nil
}

// syncChunk is the unit syncReplica compares and copies.
const syncChunk = 64 << 10

// syncReplica makes replica equal to primary over [HeaderSize, size):
// chunks that differ are copied and persisted. It returns the bytes
// copied.
func syncReplica(primary, replica *core.Map, size int) (int, error) {
	src, dst := primary.Bytes(), replica.Bytes()
	copied := 0
	for off := HeaderSize; off < size; off += syncChunk {
		end := min(off+syncChunk, size)
		if bytes.Equal(src[off:end], dst[off:end]) {
			continue
		}
		replica.Memmove(dst[off:end], src[off:end], core.MemNoDrain)
		copied += end - off
	}
	if copied > 0 {
		replica.Drain()
	}
	return copied, replica.Err()
}

// storeSDSOn writes h's SDS (checksum updated) into the header at the
// start of m and persists it; without FeatCksum2K the header checksum too.
func storeSDSOn(m *core.Map, h *Header) error {
	h.SDS.UpdateChecksum()
	hb := m.Bytes()[:HeaderSize]
	var b [ShutdownStateSize]byte
	h.SDS.encode(b[:])
	if err := persistCopy(m, hb[offSDS:offSDS+ShutdownStateSize], b[:]); err != nil {
		return err
	}
	if h.Incompat&FeatCksum2K == 0 {
		var full [HeaderSize]byte
		h.Encode(full[:])
		return persistCopy(m, hb[offChecksum:], full[offChecksum:])
	}
	return nil
}

// mapsState is the setState of a pool whose replicas are caller's Maps,
// one part each, named "replica N" in errors.
func mapsState(maps []*core.Map) (*setState, error) {
	if len(maps) == 0 {
		return nil, fmt.Errorf("no replicas: %w", fs.ErrInvalid)
	}
	s := &poolset.Set{}
	st := &setState{set: s, reps: maps, files: make([][]*os.File, len(maps))}
	for r, m := range maps {
		size := int64(m.Size()) &^ (poolset.Align - 1)
		s.Replicas = append(s.Replicas, poolset.Replica{Parts: []poolset.Part{{Path: fmt.Sprintf("replica %d", r), Size: size}}})
		st.files[r] = []*os.File{nil}
	}
	return st, nil
}

// CreateOnMaps creates a pool of kind k replicated on maps, maps[0] the
// primary and each Map one single-part replica, with the headers and links
// a poolset with those replicas gets: for the crash simulator, and for
// callers that bring their own replicas. The pool's Map is the primary,
// replicated into the others past the header (core.Replicate), as long as
// the smallest replica; the pool owns the maps. Options apply as in
// CreateOnMap.
func CreateOnMaps(maps []*core.Map, k Kind, opts *Options) (*Pool, error) {
	o := opts.value()
	if o.ReadOnly {
		return nil, fmt.Errorf("create on maps: read-only: %w", fs.ErrInvalid)
	}
	st, err := mapsState(maps)
	if err != nil {
		return nil, fmt.Errorf("create on maps: %w", err)
	}
	if min := max(k.MinSize, HeaderSize); st.set.PoolSize() < min {
		return nil, fmt.Errorf("create on maps: %w", tooSmall(st.set.PoolSize(), min))
	}
	p, err := createOnSet(st, k, o)
	if err != nil {
		return nil, fmt.Errorf("create on maps: %w", err)
	}
	return p, nil
}

// OpenOnMaps opens the pool of kind k replicated on maps, as CreateOnMaps
// made it: the headers and links are validated as for a poolset, and
// replicas that lag the primary are repaired from it. The pool owns the
// maps once this returns without error.
func OpenOnMaps(maps []*core.Map, k Kind, opts *Options) (*Pool, error) {
	st, err := mapsState(maps)
	if err != nil {
		return nil, fmt.Errorf("open on maps: %w", err)
	}
	p, err := openOnSet(st, k, opts.value())
	if err != nil {
		return nil, fmt.Errorf("open on maps: %w", err)
	}
	return p, nil
}
