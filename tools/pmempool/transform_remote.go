package pmempool

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/core/poolset"
)

// checkRemotesOnce refuses, as C's transform, a poolset naming the same
// remote replica (node and descriptor) twice.
func checkRemotesOnce(s *poolset.Set) error {
	for r, rep := range s.Replicas {
		if rep.Remote == nil {
			continue
		}
		for _, other := range s.Replicas[r+1:] {
			if other.Remote != nil && *other.Remote == *rep.Remote {
				return &setError{fmt.Sprintf("remote replica %d is used multiple times", r), syscall.EINVAL}
			}
		}
	}
	return nil
}

// addRemotes creates the remote replicas of out that have no counterpart
// in the source (outFrom[q] < 0), before any local file is written: each
// is opened with pool.RemoteCreate through the registered transport (all
// of them first, so an unreachable node changes nothing), its header area
// must be zero (a new pool), the pool data past the header is copied from
// the source replica, then its header is written: the source's first
// header with a new UUID, linked to itself as its only part and to its
// neighbours in out, whose UUIDs uuids gives (the kept replicas' first
// headers, new ones for the added replicas). osp[q] gets that header,
// so writeSetHeaders relinks the local neighbours to it and leaves it.
func addRemotes(out *poolset.Set, osp setParts, outFrom []int, source int, uuids []pool.UUID) (err error) {
	size := out.PoolSize()
	maps := make(map[int]*core.Map)
	defer func() {
		for _, m := range maps {
			err = errors.Join(err, m.Close())
		}
	}()
	for q, r := range outFrom {
		rm := out.Replicas[q].Remote
		if r >= 0 || rm == nil {
			continue
		}
		m, err := pool.OpenRemote(pool.RemoteRequest{Remote: *rm, Size: size, Mode: pool.RemoteCreate})
		if err != nil {
			return fmt.Errorf("replica %d: %w", q, err)
		}
		maps[q] = m
		for _, b := range m.Bytes()[:pool.HeaderSize] {
			if b != 0 {
				return &setError{fmt.Sprintf("replica %d: the remote pool %s:%s exists", q, rm.Node, rm.Descriptor), syscall.EEXIST}
			}
		}
	}
	if len(maps) == 0 {
		return nil
	}
	src, err := mapReplica(out, osp, source)
	if err != nil {
		return err
	}
	defer src.Close()
	n := len(out.Replicas)
	for q, m := range maps {
		if _, err := pool.SyncReplica(src, m, int(size)); err != nil {
			return fmt.Errorf("replica %d: %w", q, err)
		}
		h := *osp[source][0].hdr
		h.SDS = pool.ShutdownState{}
		h.CrTime = uint64(time.Now().Unix())
		h.UUID = uuids[q]
		h.PrevPartUUID, h.NextPartUUID = h.UUID, h.UUID
		h.PrevReplUUID, h.NextReplUUID = uuids[(q+n-1)%n], uuids[(q+1)%n]
		hb := m.Bytes()[:pool.HeaderSize]
		h.Encode(hb)
		m.Persist(hb)
		if err := m.Err(); err != nil {
			return fmt.Errorf("replica %d: header: %w", q, err)
		}
		osp[q] = []syncPart{{hdr: &h}}
	}
	return nil
}

// keptRemoteUUIDs gives the UUIDs of the remote replicas of in that the
// transform keeps (inTo[r] >= 0), by their index in in: what a local
// neighbour links to. Transform relinks their headers on the node last
// (pool.SyncRemote).
func keptRemoteUUIDs(in *poolset.Set, sp setParts, inTo []int) (map[int]pool.UUID, error) {
	kept := make(map[int]pool.UUID)
	n := len(in.Replicas)
	for r, q := range inTo {
		if q < 0 || in.Replicas[r].Remote == nil {
			continue
		}
		prev, next := sp[(r+n-1)%n], sp[(r+1)%n]
		switch {
		case len(prev) > 0:
			kept[r] = prev[0].hdr.NextReplUUID
		case len(next) > 0:
			kept[r] = next[0].hdr.PrevReplUUID
		default:
			return nil, fmt.Errorf("replica %d: no local neighbour to link to: %w", r, pool.ErrRemoteReplica)
		}
	}
	return kept, nil
}

// checkRemoteChange refuses the transforms of poolsets with remote
// replicas that Transform does not do: adding local and remote replicas
// at once.
func checkRemoteChange(out *poolset.Set, outFrom []int) error {
	local, remote := false, false
	for q, r := range outFrom {
		if r < 0 {
			local = local || out.Replicas[q].Remote == nil
			remote = remote || out.Replicas[q].Remote != nil
		}
	}
	if local && remote {
		return fmt.Errorf("adding local and remote replicas at once: %w", pool.ErrRemoteReplica)
	}
	return nil
}
