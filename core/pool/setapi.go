package pool

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/poolset"
)

// The pieces of poolset handling that tools repairing poolsets (pmempool
// sync and transform) share with Create and Open.

// MapReplica maps the part files of local replica r of s (files, in the
// order of its parts) as one contiguous, shared range, as Open maps each
// replica: the layout poolset.Set.Layout gives, page granularity or
// better. The caller closes the Map; the files stay the caller's.
func MapReplica(s *poolset.Set, r int, files []*os.File) (*core.Map, error) {
	return mapReplica(s, r, files, false, nil)
}

func mapReplica(s *poolset.Set, r int, files []*os.File, readOnly bool, sysfs fs.FS) (*core.Map, error) {
	layout := s.Layout(r)
	parts := make([]core.Part, len(layout))
	for i, l := range layout {
		src, err := core.FromFDIn(int(files[i].Fd()), sysfs)
		if err != nil {
			return nil, partError(s.Replicas[r].Parts[i].Path, err)
		}
		parts[i] = core.Part{Src: src, Offset: l.Offset, Length: l.Length}
	}
	cfg := &core.Config{RequiredGranularity: core.GranularityPage}
	if readOnly {
		cfg.Sharing = core.SharingPrivate
	}
	m, err := core.NewPartsMap(parts, cfg)
	if err != nil {
		return nil, fmt.Errorf("replica %d: %w", r, err)
	}
	return m, nil
}

// SyncReplica makes the replica mapped by dst equal to the one mapped by
// src over the pool's data, from the end of the first header to size
// bytes, as Open repairs a replica: the chunks that differ are copied
// and persisted. It returns how many bytes it copied, and dst's persist
// error if any.
func SyncReplica(src, dst *core.Map, size int) (int, error) { return syncReplica(src, dst, size) }

// WritePartHeader encodes h into the first HeaderSize bytes of the part
// file f and syncs it, as Create writes the headers of the parts after
// the first, which are not mapped.
func WritePartHeader(f *os.File, h *Header) error {
	var b [HeaderSize]byte
	h.Encode(b[:])
	if _, err := f.WriteAt(b[:], 0); err != nil {
		return partError(f.Name(), fmt.Errorf("header: %w", err))
	}
	if err := f.Sync(); err != nil {
		return partError(f.Name(), fmt.Errorf("header: %w", err))
	}
	return nil
}

// OpenRemote opens the remote replica req asks for through the registered
// [RemoteOpener] (pmempool transform adds remote replicas with it), and
// checks that the Map has req.Size bytes. Without an opener it fails with
// [ErrRemoteReplica].
func OpenRemote(req RemoteRequest) (*core.Map, error) {
	open := registeredRemote()
	if open == nil {
		return nil, ErrRemoteReplica
	}
	name := req.Remote.Node + ":" + req.Remote.Descriptor
	m, err := open(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(m.Size()) != req.Size {
		m.Close()
		return nil, fmt.Errorf("%s: %d bytes, want %d: %w", name, m.Size(), req.Size, fs.ErrInvalid)
	}
	return m, nil
}
