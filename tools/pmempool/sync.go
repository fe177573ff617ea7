package pmempool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/core/poolset"
)

// SyncOptions tune Sync.
type SyncOptions struct {
	// DryRun only checks that a healthy replica exists to sync from
	// (C's PMEMPOOL_SYNC_DRY_RUN); nothing is written.
	DryRun bool
	// BadBlocks asks for bad blocks to be fixed (PMEMPOOL_SYNC_FIX_BAD_BLOCKS).
	// Bad blocks are not detected on the files this package syncs, so,
	// as C with none found, it changes nothing.
	BadBlocks bool
}

// ErrNoHealthyReplica: every replica of the poolset has a missing or
// damaged part, so there is nothing to sync from (C's "no healthy replica
// found", errno EINVAL).
var ErrNoHealthyReplica error = &setError{"no healthy replica found", syscall.EINVAL}

// setError is a refusal of Sync or Transform: C's words, and the errno C
// sets with them (matched by errors.Is: fs.ErrInvalid for EINVAL...).
type setError struct {
	msg   string
	errno syscall.Errno
}

func (e *setError) Error() string { return e.msg }
func (e *setError) Unwrap() error { return e.errno }

// syncPart is what Sync found of one part file.
type syncPart struct {
	f      *os.File     // open and locked; nil when missing
	hdr    *pool.Header // decoded header, for parts that have one
	broken bool         // missing, or its header damaged or unlinked
}

// setParts is the state of every part of a poolset, [replica][part].
type setParts [][]syncPart

func (sp setParts) close() {
	for _, rep := range sp {
		for _, p := range rep {
			if p.f != nil {
				p.f.Close()
			}
		}
	}
}

func (sp setParts) healthy(r int) bool {
	for _, p := range sp[r] {
		if p.broken {
			return false
		}
	}
	return true
}

// checkLocalSet refuses the poolsets Sync and Transform do not handle.
func checkLocalSet(s *poolset.Set) error {
	if s.HasRemote() {
		return pool.ErrRemoteReplica
	}
	return checkSetOptions(s)
}

// checkSetOptions refuses the poolsets Sync and Transform do not handle
// whatever their replicas.
func checkSetOptions(s *poolset.Set) error {
	switch {
	case s.Directories:
		return fmt.Errorf("%w: directory parts", pool.ErrPoolsetNotSupported)
	case s.Options&poolset.NoHdrs != 0:
		return fmt.Errorf("%w: the NOHDRS poolset option is not supported in local poolset files", pool.ErrPoolsetNotSupported)
	}
	return nil
}

// examineSet opens and locks every part of s and reads its header, as
// C's replica_check_poolset_health: a part is broken when its file is
// missing, its header does not decode (signature, checksum) or is not of
// the pool's type, or it is not linked to its neighbours in its replica
// or belongs to another poolset, or its size is not the poolset's.
// Other failures (a locked part, one that is not a regular file) are
// errors.
func examineSet(s *poolset.Set) (setParts, pool.Kind, error) {
	sp := make(setParts, len(s.Replicas))
	var kind pool.Kind
	fail := func(err error) (setParts, pool.Kind, error) {
		sp.close()
		return nil, kind, err
	}
	for r, rep := range s.Replicas {
		// A remote replica is not examined here: sp[r] stays empty.
		sp[r] = make([]syncPart, len(rep.Parts))
		for i, part := range rep.Parts {
			p := &sp[r][i]
			f, err := os.OpenFile(part.Path, os.O_RDWR, 0)
			if errors.Is(err, fs.ErrNotExist) {
				p.broken = true
				continue
			}
			if err != nil {
				return fail(err)
			}
			p.f = f
			st, err := f.Stat()
			if err != nil {
				return fail(err)
			}
			if !st.Mode().IsRegular() {
				return fail(&os.PathError{Op: "open", Path: part.Path, Err: fs.ErrInvalid})
			}
			if err := pool.Lock(f); err != nil {
				return fail(fmt.Errorf("part %s: %w", part.Path, err))
			}
			if st.Size() != part.Size {
				// As C: a part of the wrong size is rebuilt.
				p.broken = true
				continue
			}
			if i >= s.Headers(r) {
				continue
			}
			b := make([]byte, poolset.HeaderSize)
			if _, err := f.ReadAt(b, 0); err != nil {
				return fail(fmt.Errorf("part %s: %w", part.Path, err))
			}
			if p.hdr, err = pool.DecodeHeader(b); err != nil {
				p.broken = true
				continue
			}
			if kind.Signature == "" {
				kind, _ = pool.KindOf(p.hdr.SignatureString())
			}
			if kind.Signature == "" || p.hdr.ValidateFormat(kind) != nil {
				p.broken, p.hdr = true, nil
			}
		}
	}
	if kind.Signature == "" {
		return fail(ErrNoHealthyReplica)
	}
	// The poolset UUID of the first replica whose headers all decode.
	var setUUID pool.UUID
	found := false
	for r := range sp {
		if len(sp[r]) > 0 && sp.healthy(r) {
			setUUID, found = sp[r][0].hdr.PoolsetUUID, true
			break
		}
	}
	for r := range sp {
		n := min(s.Headers(r), len(sp[r]))
		for i := 0; i < n; i++ {
			p := &sp[r][i]
			if p.hdr == nil {
				continue
			}
			prev, next := sp[r][(i+n-1)%n].hdr, sp[r][(i+1)%n].hdr
			switch {
			case found && p.hdr.PoolsetUUID != setUUID,
				prev != nil && p.hdr.PrevPartUUID != prev.UUID,
				next != nil && p.hdr.NextPartUUID != next.UUID,
				p.hdr.Incompat != sp[r][0].hdrIncompat(p.hdr):
				p.broken = true
			}
		}
	}
	return sp, kind, nil
}

// hdrIncompat is the incompat flags part 0 of a replica has, or h's own
// when part 0 is broken.
func (p syncPart) hdrIncompat(h *pool.Header) uint32 {
	if p.hdr == nil {
		return h.Incompat
	}
	return p.hdr.Incompat
}

// Sync repairs the replicas of the poolset at path, as C's pmempool_sync:
// every part file is opened and its header checked; when every part of
// every replica is healthy there is nothing to do; otherwise the first
// replica whose parts are all healthy is the source: missing part files
// are recreated and parts of the wrong size resized to their poolset
// size, the data of each damaged replica
// is copied from the source, and the damaged parts get fresh headers
// (new part UUIDs) linked to their neighbours, whose links are updated.
// ErrNoHealthyReplica when no replica can be the source.
func Sync(path string, o SyncOptions) error {
	s, err := parseSyncSet(path)
	if err != nil {
		return err
	}
	if s.HasRemote() {
		return syncRemote(path, o)
	}
	if err := checkLocalSet(s); err != nil {
		return err
	}
	sp, _, err := examineSet(s)
	if err != nil {
		return err
	}
	defer sp.close()
	src := -1
	broken := false
	for r := range sp {
		if sp.healthy(r) {
			if src < 0 {
				src = r
			}
		} else {
			broken = true
		}
	}
	if !broken {
		if replicasLinked(sp) || o.DryRun {
			return nil
		}
		// Healthy parts whose replica links disagree: a sync cut short
		// between the headers it writes. Relinking finishes it.
		return writeSetHeaders(s, sp, src)
	}
	if src < 0 {
		return ErrNoHealthyReplica
	}
	if o.DryRun {
		return nil
	}
	return repairSet(s, sp, src)
}

// replicasLinked reports whether the first header of each replica links
// to the first headers of its neighbours, every part being healthy.
func replicasLinked(sp setParts) bool {
	n := len(sp)
	for r := range sp {
		h := sp[r][0].hdr
		if h.PrevReplUUID != sp[(r+n-1)%n][0].hdr.UUID || h.NextReplUUID != sp[(r+1)%n][0].hdr.UUID {
			return false
		}
	}
	return true
}

// repairSet recreates the missing parts of s, copies the source replica's
// data into every replica with a broken part, then writes the headers.
func repairSet(s *poolset.Set, sp setParts, src int) error {
	for r, rep := range s.Replicas {
		for i, part := range rep.Parts {
			if f := sp[r][i].f; f != nil {
				if !sp[r][i].broken {
					continue
				}
				if err := f.Truncate(part.Size); err != nil {
					return fmt.Errorf("part %s: %w", part.Path, err)
				}
				continue
			}
			f, err := os.OpenFile(part.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			sp[r][i].f = f
			if err := f.Truncate(part.Size); err != nil {
				return fmt.Errorf("part %s: %w", part.Path, err)
			}
			if err := pool.Lock(f); err != nil {
				return fmt.Errorf("part %s: %w", part.Path, err)
			}
		}
	}
	size := int(s.PoolSize())
	srcMap, err := mapReplica(s, sp, src)
	if err != nil {
		return err
	}
	defer srcMap.Close()
	for r := range sp {
		if sp.healthy(r) {
			continue
		}
		if err := copyReplica(s, sp, r, srcMap, size); err != nil {
			return err
		}
	}
	return writeSetHeaders(s, sp, src)
}

// mapReplica maps replica r of s contiguously, as core/pool does.
func mapReplica(s *poolset.Set, sp setParts, r int) (*core.Map, error) {
	files := make([]*os.File, len(sp[r]))
	for i, p := range sp[r] {
		files[i] = p.f
	}
	return pool.MapReplica(s, r, files)
}

// copyReplica makes replica r equal to the source mapping over the pool's
// data, past the header, persisting what it copies.
func copyReplica(s *poolset.Set, sp setParts, r int, srcMap *core.Map, size int) error {
	m, err := mapReplica(s, sp, r)
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := pool.SyncReplica(srcMap, m, size); err != nil {
		return fmt.Errorf("replica %d: %w", r, err)
	}
	return nil
}

// writeSetHeaders gives every broken part a new header (a copy of the
// source replica's first header with a new UUID) and rewrites every header
// whose links changed: later parts first, then each replica's first part,
// the primary's last, each written and synced.
func writeSetHeaders(s *poolset.Set, sp setParts, src int) error {
	tmpl := *sp[src][0].hdr
	tmpl.SDS = pool.ShutdownState{}
	if sp[src][0].hdr.SDS.ChecksumOK() && !sp[src][0].hdr.SDS.IsZero() {
		tmpl.SDS = sp[src][0].hdr.SDS
		tmpl.SDS.Dirty = 0
		tmpl.SDS.UpdateChecksum()
	}
	nrep := len(s.Replicas)
	want := make([][]pool.Header, nrep)
	for r := range sp {
		want[r] = make([]pool.Header, s.Headers(r))
		for i := range want[r] {
			if p := sp[r][i]; !p.broken {
				want[r][i] = *p.hdr
				continue
			}
			h := tmpl
			h.UUID = pool.NewUUID()
			if i > 0 {
				h.SDS = pool.ShutdownState{}
			}
			want[r][i] = h
		}
	}
	for r := range want {
		n := len(want[r])
		for i := range want[r] {
			h := &want[r][i]
			h.PoolsetUUID = tmpl.PoolsetUUID
			h.PrevPartUUID = want[r][(i+n-1)%n].UUID
			h.NextPartUUID = want[r][(i+1)%n].UUID
			h.PrevReplUUID = want[(r+nrep-1)%nrep][0].UUID
			h.NextReplUUID = want[(r+1)%nrep][0].UUID
		}
	}
	for pass := 0; pass < 2; pass++ {
		for r := nrep - 1; r >= 0; r-- {
			if s.Replicas[r].Remote != nil {
				// Written on the node by addRemotes, linked as want.
				continue
			}
			for i := range want[r] {
				if (i == 0) != (pass == 1) {
					continue
				}
				if p := sp[r][i]; !p.broken && *p.hdr == want[r][i] {
					continue
				}
				if err := pool.WritePartHeader(sp[r][i].f, &want[r][i]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// TransformOptions tune Transform.
type TransformOptions struct {
	// DryRun checks that the transform can be done; nothing is written.
	DryRun bool
}

// sameParts reports whether two replicas list the same parts, or are
// the same remote replica (node and descriptor).
func sameParts(a, b poolset.Replica) bool {
	if a.Remote != nil || b.Remote != nil {
		return a.Remote != nil && b.Remote != nil && *a.Remote == *b.Remote
	}
	if len(a.Parts) != len(b.Parts) {
		return false
	}
	for i := range a.Parts {
		if a.Parts[i].Path != b.Parts[i].Path || a.Parts[i].Size != b.Parts[i].Size {
			return false
		}
	}
	return true
}

// counterparts maps each replica of a to the replica of b with the same
// parts, or -1.
func counterparts(a, b *poolset.Set) ([]int, error) {
	m := make([]int, len(a.Replicas))
	for r, rep := range a.Replicas {
		m[r] = -1
		for q, other := range b.Replicas {
			if sameParts(rep, other) {
				if m[r] >= 0 {
					return nil, &setError{"there are more than one corresponding replicas; cannot transform", syscall.EINVAL}
				}
				m[r] = q
			}
		}
	}
	return m, nil
}

// Transform changes the poolset at src into the one dst describes, as
// C's pmempool_transform: replicas in dst and not in src are added
// (their part files must not exist; they are created and filled from the
// source replicas), replicas in src and not in dst are removed (their
// part files deleted), and the headers of the replicas kept are relinked.
// A change of the SINGLEHDR option alone (the same replicas and parts)
// moves the data and rewrites the headers (transformHeaders). The source
// must be healthy. Adding and removing at once, removing every replica,
// two equal poolsets, and a change of options with replicas added or
// removed are refused. Remote replicas are added (addRemotes) and removed
// (their neighbours relinked, the pool left on the node); a kept one is
// relinked on its node last (pool.SyncRemote); checkRemoteChange refuses
// the rest.
func Transform(src, dst string, o TransformOptions) error {
	in, err := poolset.ParseFile(src, nil)
	if err != nil {
		return err
	}
	out, err := poolset.ParseFile(dst, nil)
	if err != nil {
		return err
	}
	if err := validateTransform(in, out); err != nil {
		return err
	}
	for _, s := range []*poolset.Set{in, out} {
		if err := checkSetOptions(s); err != nil {
			return err
		}
		if err := checkRemotesOnce(s); err != nil {
			return err
		}
	}
	inTo, err := counterparts(in, out)
	if err != nil {
		return err
	}
	outFrom, err := counterparts(out, in)
	if err != nil {
		return err
	}
	removed, added := 0, 0
	for _, q := range inTo {
		if q < 0 {
			removed++
		}
	}
	for _, r := range outFrom {
		if r < 0 {
			added++
		}
	}
	switch {
	case in.Options != out.Options && (added > 0 || removed > 0):
		return &setError{"cannot add/remove replicas and change the SINGLEHDR option at the same time", syscall.EINVAL}
	case in.Options != out.Options:
		return transformHeaders(in, out, o)
	case added > 0 && removed > 0:
		return &setError{"adding and removing replicas at the same time is not allowed", syscall.EINVAL}
	case removed == len(in.Replicas):
		return &setError{"there must be at least one replica left", syscall.EINVAL}
	case added == 0 && removed == 0:
		return &setError{"both poolsets are equal", syscall.EINVAL}
	}
	sp, _, err := examineSource(in)
	if err != nil {
		return err
	}
	defer sp.close()
	poolSize := in.PoolSize()
	if err := checkRemoteChange(out, outFrom); err != nil {
		return err
	}
	for q, r := range outFrom {
		if r >= 0 || out.Replicas[q].Remote != nil {
			continue
		}
		if out.ReplicaSize(q) < poolSize {
			return &setError{"target poolset is too small", syscall.EINVAL}
		}
		for _, part := range out.Replicas[q].Parts {
			if _, err := os.Lstat(part.Path); !errors.Is(err, fs.ErrNotExist) {
				return &setError{"some parts being added already exist", syscall.EINVAL}
			}
		}
	}
	if o.DryRun {
		return nil
	}
	kept, err := keptRemoteUUIDs(in, sp, inTo)
	if err != nil {
		return err
	}
	if err := applyTransform(in, out, sp, inTo, outFrom, added, kept); err != nil {
		return err
	}
	if len(kept) > 0 {
		// The kept remote replicas' headers link to their new neighbours.
		_, err = pool.SyncRemote(dst, false)
	}
	return err
}

// applyTransform writes what Transform decided: the added replicas
// (remote ones first), the relinked headers, the removed replicas' part
// files deleted. kept gives the UUIDs of the kept remote replicas, by
// their index in in.
func applyTransform(in, out *poolset.Set, sp setParts, inTo, outFrom []int, added int, kept map[int]pool.UUID) error {
	// The kept replicas' parts, in dst's order; added replicas' parts
	// are missing, so broken, and repairSet makes them.
	osp := make(setParts, len(out.Replicas))
	source := -1
	for q, r := range outFrom {
		if u, ok := kept[r]; ok {
			osp[q] = []syncPart{{hdr: &pool.Header{UUID: u}}}
			continue
		}
		if r < 0 {
			osp[q] = make([]syncPart, len(out.Replicas[q].Parts))
			for i := range osp[q] {
				osp[q][i].broken = true
			}
			continue
		}
		osp[q] = sp[r]
		sp[r] = nil
		if source < 0 {
			source = q
		}
	}
	defer osp.close()
	if added > 0 {
		uuids := make([]pool.UUID, len(out.Replicas))
		for q, r := range outFrom {
			if r >= 0 {
				uuids[q] = osp[q][0].hdr.UUID
			} else {
				uuids[q] = pool.NewUUID()
			}
		}
		if err := addRemotes(out, osp, outFrom, source, uuids); err != nil {
			return err
		}
		return repairSet(out, osp, source)
	}
	if err := writeSetHeaders(out, osp, source); err != nil {
		return err
	}
	var errs []error
	for r, q := range inTo {
		if q >= 0 {
			continue
		}
		for i, part := range in.Replicas[r].Parts {
			if f := sp[r][i].f; f != nil {
				f.Close()
				sp[r][i].f = nil
			}
			errs = append(errs, os.Remove(part.Path))
		}
	}
	return errors.Join(errs...)
}
