package set_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/core/poolset"
	"github.com/gopmdk/pmdk/set"
)

// TestMapReplica: a poolset replica of two parts maps as one part map of
// core/poolset's layout: the second part from after its header.
func TestMapReplica(t *testing.T) {
	dir := pmemtest.Dir(t)
	path := pmemtest.Poolset(t, dir, "p.set", "2M {dir}/p0", "2M {dir}/p1", "REPLICA", "4M {dir}/r0")
	ps, err := poolset.ParseFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := set.New(set.Config{RequiredGranularity: core.GranularityPage})
	if _, err := s.MapReplica(ps, 0, 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing part files without FileCreateIfNeeded: %v", err)
	}
	if s.FirstPartMap() != nil {
		t.Fatal("a failed replica left parts mapped")
	}
	pm, err := s.MapReplica(ps, 0, set.FileCreateIfNeeded)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Parts() != 2 || int64(len(pm.Bytes())) != ps.ReplicaSize(0) {
		t.Fatalf("%d parts, %d bytes, want 2 and %d", pm.Parts(), len(pm.Bytes()), ps.ReplicaSize(0))
	}
	msg := []byte("across the part boundary")
	at := 2<<20 - 5
	if err := s.Memcpy(pm.Bytes()[at:at+len(msg)], msg, 0); err != nil {
		t.Fatal(err)
	}
	r1, err := s.MapReplica(ps, 1, set.FileCreateIfNeeded)
	if err != nil {
		t.Fatal(err)
	}
	if r1 == pm || len(r1.Bytes()) != 4<<20 {
		t.Fatalf("replica 1: %d bytes", len(r1.Bytes()))
	}
	if _, err := s.MapReplica(ps, 2, 0); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("replica out of range: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	p0, _ := os.ReadFile(filepath.Join(dir, "p0"))
	p1, _ := os.ReadFile(filepath.Join(dir, "p1"))
	if len(p0) != 2<<20 || len(p1) != 2<<20 {
		t.Fatalf("part files of %d and %d bytes", len(p0), len(p1))
	}
	if !bytes.Equal(p0[at:], msg[:5]) || !bytes.Equal(p1[poolset.HeaderSize:poolset.HeaderSize+len(msg)-5], msg[5:]) {
		t.Fatal("stores did not reach the part files past the second part's header")
	}
}

// TestMapReplicaAsCorePool: a pool core/pool created on a poolset of two
// parts reads the same through core/pool's replica mapping and through
// MapReplica: the same layout, no second part header inside.
func TestMapReplicaAsCorePool(t *testing.T) {
	dir := pmemtest.Dir(t)
	path := pmemtest.Poolset(t, dir, "p.set", "2M {dir}/p0", "2M {dir}/p1")
	p, err := pool.Create(path, 0, 0o600, pool.Log, &pool.Options{IgnoreSDS: true})
	if err != nil {
		t.Fatal(err)
	}
	m := p.ReplicaMap(0)
	b := m.Bytes()
	for i := 2<<20 - 4096; i < 2<<20+4096; i++ {
		b[i] = byte(i * 7)
	}
	m.Persist(b[2<<20-4096 : 2<<20+4096])
	want := bytes.Clone(b)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	ps, err := poolset.ParseFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := set.New(set.Config{RequiredGranularity: core.GranularityPage})
	defer s.Close()
	pm, err := s.MapReplica(ps, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pm.Bytes(), want) {
		t.Fatal("MapReplica and core/pool see different bytes")
	}
}

// TestMapReplicaInReservation: replicas map one after the other into the
// set's reservation; one that does not fit fails and leaves nothing.
func TestMapReplicaInReservation(t *testing.T) {
	dir := pmemtest.Dir(t)
	path := pmemtest.Poolset(t, dir, "p.set", "2M {dir}/p0", "2M {dir}/p1", "REPLICA", "4M {dir}/r0")
	ps, err := poolset.ParseFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := newReservation(t, 8<<20)
	s := set.New(set.Config{RequiredGranularity: core.GranularityPage, Reservation: r})
	defer s.Close()
	r0, err := s.MapReplica(ps, 0, set.FileCreateIfNeeded)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := s.MapReplica(ps, 1, set.FileCreateIfNeeded)
	if err != nil {
		t.Fatal(err)
	}
	size0 := int(ps.ReplicaSize(0))
	if r0.Parts() != 2 || addr(r0.Bytes()) != at(r, 0) || addr(r1.Bytes()) != at(r, size0) {
		t.Fatalf("replicas at %#x and %#x in a reservation at %#x", addr(r0.Bytes()), addr(r1.Bytes()), at(r, 0))
	}
	if _, err := s.MapReplica(ps, 1, 0); !errors.Is(err, set.ErrCannotFitPartMap) {
		t.Fatalf("third replica in a full reservation: %v", err)
	}
	if s.NextPartMap(r0) != r1 || s.NextPartMap(r1) != nil {
		t.Fatal("the failed replica left part maps")
	}
}
