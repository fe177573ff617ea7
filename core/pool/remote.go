package pool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/poolset"
)

// RemoteMode says what a [RemoteOpener] is asked to do with the pool on
// the remote node.
type RemoteMode uint8

const (
	// RemoteOpen opens the existing remote pool (Open of the local pool).
	RemoteOpen RemoteMode = iota
	// RemoteCreate creates the remote pool, or takes existing part files
	// of the right size (Create of the local pool); its header area must
	// then be zero, which the caller checks.
	RemoteCreate
	// RemoteRebuild opens the remote pool whatever its header holds, and
	// creates its part files where missing (SyncRemote).
	RemoteRebuild
)

func (m RemoteMode) String() string {
	switch m {
	case RemoteOpen:
		return "open"
	case RemoteCreate:
		return "create"
	case RemoteRebuild:
		return "rebuild"
	}
	return fmt.Sprintf("RemoteMode(%d)", uint8(m))
}

// RemoteRequest is what a [RemoteOpener] opens: the remote replica of a
// poolset's REPLICA line.
type RemoteRequest struct {
	Remote   poolset.Remote // the node and the descriptor of the poolset there
	Size     int64          // bytes of the replica the local pool uses, its pool header included
	Mode     RemoteMode
	ReadOnly bool // the local pool is opened read-only: nothing will be written
}

// RemoteOpener opens a remote replica. It returns a Map of exactly
// req.Size bytes holding what the remote replica holds (its header
// included; with RemoteCreate only the header needs to be read), whose
// persist path makes each persisted range durable on the remote node
// before it returns. It must never wait without bound: a lost or silent
// node makes the Map's Err report it (wrapping core.ErrPersist), and the
// persists after that do nothing. Close of the Map ends the connection.
type RemoteOpener func(req RemoteRequest) (*core.Map, error)

var (
	remoteMu     sync.RWMutex
	remoteOpener RemoteOpener
)

// RegisterRemote makes o the opener of remote replicas (REPLICA node
// descriptor lines of poolsets), replacing any earlier one; nil removes
// it. Package rpma/rpmem registers itself when imported (import _
// "github.com/gopmdk/pmdk/rpma/rpmem"), as a database/sql driver does.
// Without an opener, poolsets with a remote replica are refused with
// [ErrRemoteReplica].
func RegisterRemote(o RemoteOpener) {
	remoteMu.Lock()
	remoteOpener = o
	remoteMu.Unlock()
}

func registeredRemote() RemoteOpener {
	remoteMu.RLock()
	defer remoteMu.RUnlock()
	return remoteOpener
}

// isRemote reports whether replica r of s is remote.
func isRemote(s *poolset.Set, r int) bool { return s.Replicas[r].Remote != nil }

// partName names part i of replica r in errors: its path, or node:descriptor
// for a remote replica.
func partName(s *poolset.Set, r, i int) string {
	if rm := s.Replicas[r].Remote; rm != nil {
		return rm.Node + ":" + rm.Descriptor
	}
	return s.Replicas[r].Parts[i].Path
}

// openRemotes opens the remote replicas of st (their maps are nil until
// then) through the registered opener, poolsize bytes each.
func openRemotes(st *setState, mode RemoteMode, readOnly bool) error {
	s := st.set
	if !s.HasRemote() {
		return nil
	}
	open := registeredRemote()
	if open == nil {
		return ErrRemoteReplica
	}
	for r, rep := range s.Replicas {
		if rep.Remote == nil {
			continue
		}
		st.files[r] = []*os.File{nil}
		m, err := open(RemoteRequest{Remote: *rep.Remote, Size: s.PoolSize(), Mode: mode, ReadOnly: readOnly})
		if err != nil {
			return fmt.Errorf("replica %d (%s): %w", r, partName(s, r, 0), err)
		}
		if m.Size() != int(s.PoolSize()) {
			m.Close()
			return fmt.Errorf("replica %d (%s): %d bytes, want %d: %w", r, partName(s, r, 0), m.Size(), s.PoolSize(), fs.ErrInvalid)
		}
		st.reps[r] = m
	}
	return nil
}

// expectedRemoteHeader is the header remote replica r of a set must have,
// derived from its neighbours' headers in hdrs (nil for other remote
// replicas) and the primary's: the UUID they link to, the primary's
// format, features and poolset UUID, a single part, no shutdown state (C
// keeps none for remote replicas).
func expectedRemoteHeader(hdrs []*Header, r int) (*Header, error) {
	n := len(hdrs)
	prev, next := hdrs[(r+n-1)%n], hdrs[(r+1)%n]
	if prev == nil && next == nil {
		return nil, fmt.Errorf("replica %d: no local neighbour to link to: %w", r, fs.ErrInvalid)
	}
	h := *hdrs[0]
	switch {
	case prev != nil:
		h.UUID = prev.NextReplUUID
	default:
		h.UUID = next.PrevReplUUID
	}
	h.PrevPartUUID, h.NextPartUUID = h.UUID, h.UUID
	h.PrevReplUUID, h.NextReplUUID = h.UUID, h.UUID
	if prev != nil {
		h.PrevReplUUID = prev.UUID
	}
	if next != nil {
		h.NextReplUUID = next.UUID
	}
	h.SDS = ShutdownState{}
	return &h, nil
}

// sameRemoteHeader reports whether got is what expectedRemoteHeader gave:
// equal but for the creation time.
func sameRemoteHeader(got, want *Header) bool {
	g := *got
	g.CrTime = want.CrTime
	g.SDS = ShutdownState{}
	return g == *want
}

// SyncRemote rebuilds the remote replicas of the poolset at path from its
// primary, as `pmempool sync` does for a poolset with remote replicas: the
// remote pools are opened (their part files created on the node where
// missing), a remote header that is missing, damaged or not linked to its
// neighbours is rewritten as the one its local neighbours link to, and
// the data past the header is copied from the primary where it differs.
// The local replicas must be healthy (validated as Open does; repair them
// first with Sync of a poolset without the remote lines). It returns the
// bytes of data copied. With dryRun nothing is written or created: it
// checks that the primary can be the source. A pool open
// elsewhere is refused (its parts are locked).
func SyncRemote(path string, dryRun bool) (copied int, err error) {
	s, err := poolset.ParseFile(path, nil)
	if err != nil {
		return 0, err
	}
	if err := checkSet(s); err != nil {
		return 0, err
	}
	if !s.HasRemote() {
		return 0, fmt.Errorf("%s: no remote replica: %w", path, fs.ErrInvalid)
	}
	files, _, err := openParts(s, false, dryRun, 0)
	if err != nil {
		return 0, err
	}
	st := &setState{set: s, files: files}
	defer st.closeFiles()
	if st.reps, err = mapReplicas(s, files, dryRun, nil); err != nil {
		return 0, err
	}
	defer closeMaps(st.reps)
	// A dry run opens the remote pools read-only, creating nothing; one
	// that cannot be opened is what a sync would rebuild.
	mode := RemoteRebuild
	if dryRun {
		mode = RemoteOpen
	}
	remoteErr := openRemotes(st, mode, dryRun)
	if remoteErr != nil && !dryRun {
		return 0, remoteErr
	}
	primary, err := DecodeHeader(st.reps[0].Bytes()[:HeaderSize])
	if err != nil {
		return 0, partError(partName(s, 0, 0), err)
	}
	k, ok := KindOf(primary.SignatureString())
	if !ok {
		return 0, partError(partName(s, 0, 0), fmt.Errorf("%w: %q", ErrWrongType, primary.SignatureString()))
	}
	if remoteErr != nil {
		return 0, nil
	}
	// The local replicas' part-0 headers, then what each remote one must be.
	hdrs := make([]*Header, len(s.Replicas))
	for r := range s.Replicas {
		if !isRemote(s, r) {
			if hdrs[r], err = DecodeHeader(st.reps[r].Bytes()[:HeaderSize]); err != nil {
				return 0, partError(partName(s, r, 0), err)
			}
		}
	}
	rebuild := make(map[int][HeaderSize]byte)
	for r := range s.Replicas {
		if !isRemote(s, r) {
			continue
		}
		want, err := expectedRemoteHeader(hdrs, r)
		if err != nil {
			return 0, err
		}
		if got, err := DecodeHeader(st.reps[r].Bytes()[:HeaderSize]); err == nil && sameRemoteHeader(got, want) {
			continue
		}
		want.CrTime = uint64(time.Now().Unix())
		var b [HeaderSize]byte
		want.Encode(b[:])
		rebuild[r] = b
		// Validated below as if written; persisted after the data.
		copy(st.reps[r].Bytes()[:HeaderSize], b[:])
	}
	if _, err := checkSetHeaders(s, st, k); err != nil {
		return 0, fmt.Errorf("local replicas: %w", err)
	}
	if dryRun {
		return 0, nil
	}
	size := int(s.PoolSize())
	for r := range s.Replicas {
		if !isRemote(s, r) {
			continue
		}
		n, err := syncReplica(st.reps[0], st.reps[r], size)
		copied += n
		if err != nil {
			return copied, fmt.Errorf("replica %d (%s): %w", r, partName(s, r, 0), err)
		}
		if _, ok := rebuild[r]; ok {
			m := st.reps[r]
			m.Persist(m.Bytes()[:HeaderSize])
			if err := m.Err(); err != nil {
				return copied, fmt.Errorf("replica %d (%s): header: %w", r, partName(s, r, 0), err)
			}
		}
	}
	var errs []error
	for r := range s.Replicas {
		if isRemote(s, r) {
			errs = append(errs, st.reps[r].Err())
		}
	}
	return copied, errors.Join(errs...)
}
