package obj

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj/cobj"
	"github.com/gopmdk/pmdk/obj/layout"
)

// growSet makes directories a and b under a new test directory and a
// directory poolset of 16 MiB in each; it returns the directory and the
// poolset file.
func growSet(t *testing.T) (dir, set string) {
	t.Helper()
	dir = pmemtest.Dir(t)
	for _, d := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir, pmemtest.Poolset(t, dir, "d.set", "OPTION SINGLEHDR", "16M {dir}/a", "16M {dir}/b")
}

// partNames lists the part files of the poolset under dir, as dir/file.
func partNames(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	for _, d := range []string{"a", "b"} {
		ents, err := os.ReadDir(filepath.Join(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			names = append(names, d+"/"+e.Name())
		}
	}
	return strings.Join(names, ",")
}

// allocUntilFull allocates 1 MiB objects of type tn until the pool is
// out of memory and returns how many it allocated.
func allocUntilFull(t *testing.T, p *Pool, tn uint64) int {
	t.Helper()
	n := 0
	for {
		_, err := p.Alloc(1<<20, tn, nil)
		if errors.Is(err, ErrOutOfMemory) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// countType counts the objects of type tn in p.
func countType(p *Pool, tn uint64) int {
	n := 0
	for oid := range p.Objects() {
		if got, err := p.TypeNum(oid); err == nil && got == tn {
			n++
		}
	}
	return n
}

// cCountType opens the pool on set with C and counts its objects of type
// tn.
func cCountType(t *testing.T, set, layoutName string, tn uint64) int {
	t.Helper()
	c, err := cobj.Open(set, layoutName)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	for oid := c.First(); !oid.IsNull(); oid = cobj.Next(oid) {
		if uint64(cobj.TypeNum(oid)) == tn {
			n++
		}
	}
	return n
}

// TestDirPoolsetGrows: an obj pool on a directory poolset grows, as C's
// heap does, into new part files (heap.size.granularity bytes each,
// round robin over the directories) as allocations need room, until the
// directories' sizes are used up; reopened, the pool has every object.
// With heap.size.granularity 0 it does not grow.
func TestDirPoolsetGrows(t *testing.T) {
	dir, set := growSet(t)
	p, err := Create(set, 0, 0o600, &Options{Layout: "grow"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Close() }()
	if err := p.CtlSet("heap.size.granularity", int64(0)); err != nil {
		t.Fatal(err)
	}
	first := allocUntilFull(t, p, 1)
	if first == 0 || partNames(t, dir) != "a/000000.pmem" {
		t.Fatalf("granularity 0: %d objects, parts %s; want some, one part", first, partNames(t, dir))
	}
	// heap.size.extend grows it now, by its argument.
	if err := p.CtlExec("heap.size.extend", int64(4<<20)); err != nil {
		t.Fatal(err)
	}
	if got := partNames(t, dir); got != "a/000000.pmem,b/000001.pmem" {
		t.Fatalf("after heap.size.extend: parts %s", got)
	}
	if err := p.CtlSet("heap.size.granularity", int64(8<<20)); err != nil {
		t.Fatal(err)
	}
	more := allocUntilFull(t, p, 2)
	// 8 + 4 + 8 + 8 MiB, then the 4 MiB left of the directories' 32.
	if got, want := partNames(t, dir), "a/000000.pmem,a/000002.pmem,a/000004.pmem,b/000001.pmem,b/000003.pmem"; got != want {
		t.Fatalf("parts %s, want %s", got, want)
	}
	if more < 15 || p.Size() != 32<<20 {
		t.Fatalf("grown pool: %d more objects, size %d; want >= 15, %d", more, p.Size(), 32<<20)
	}
	if err := p.CtlExec("heap.size.extend", int64(4<<20)); !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("heap.size.extend of a full pool: %v, want ErrOutOfMemory", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if p, err = Open(set, &Options{Layout: "grow"}); err != nil {
		t.Fatal(err)
	}
	if a, b := countType(p, 1), countType(p, 2); a != first || b != more {
		t.Fatalf("reopened: %d and %d objects, want %d and %d", a, b, first, more)
	}
	if probs := p.Check(); len(probs) > 0 {
		t.Fatal(probs)
	}
}

// TestInteropGoGrownDirPoolset: a pool Go grew into new part files passes
// pmempool check and opens in C with every object Go allocated.
func TestInteropGoGrownDirPoolset(t *testing.T) {
	requireCPeer(t)
	dir, set := growSet(t)
	p, err := Create(set, 0, 0o600, &Options{Layout: "go-grow"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CtlSet("heap.size.granularity", int64(4<<20)); err != nil {
		t.Fatal(err)
	}
	n := allocUntilFull(t, p, 5)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b", "000001.pmem")); err != nil {
		t.Fatalf("Go did not grow the pool: %v (parts %s)", err, partNames(t, dir))
	}
	if out := runPmempool(t, "check", "-v", set); !strings.Contains(out, "consistent") || strings.Contains(out, "not consistent") {
		t.Fatalf("pmempool check of the grown pool: %s", out)
	}
	if seen := cCountType(t, set, "go-grow", 5); seen != n {
		t.Fatalf("C sees %d of Go's %d objects", seen, n)
	}
}

// replicaSet is growSet with a local replica in directory r (32 MiB).
func replicaSet(t *testing.T) (dir, set string) {
	t.Helper()
	dir = pmemtest.Dir(t)
	for _, d := range []string{"a", "b", "r"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir, pmemtest.Poolset(t, dir, "d.set", "OPTION SINGLEHDR", "16M {dir}/a", "16M {dir}/b", "REPLICA", "32M {dir}/r")
}

// growReplicaSet creates an obj pool on a directory poolset with a local
// replica (primary in directories a and b, 16 MiB each; replica in r,
// 32 MiB), lets it grow by 4 MiB parts until it is full, closes it and
// returns the directory, the poolset and the number of objects (type tn).
func growReplicaSet(t *testing.T, layoutName string, tn uint64) (dir, set string, n int) {
	t.Helper()
	dir, set = replicaSet(t)
	p, err := Create(set, 0, 0o600, &Options{Layout: layoutName})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CtlSet("heap.size.granularity", int64(4<<20)); err != nil {
		t.Fatal(err)
	}
	n = allocUntilFull(t, p, tn)
	if p.Size() != 32<<20 {
		t.Fatalf("pool size %d, want it grown to %d", p.Size(), 32<<20)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "r"))
	if err != nil {
		t.Fatal(err)
	}
	if parts := strings.Count(partNames(t, dir), ".pmem"); len(ents) != parts || parts < 2 {
		t.Fatalf("replica has %d parts, the primary %s", len(ents), partNames(t, dir))
	}
	return dir, set, n
}

// concatParts reads the part files of one replica (in directories dirs
// under dir) in the order of their index, as one byte slice.
func concatParts(t *testing.T, dir string, dirs ...string) []byte {
	t.Helper()
	byName := map[string]string{}
	for _, d := range dirs {
		ents, err := os.ReadDir(filepath.Join(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			byName[e.Name()] = filepath.Join(dir, d, e.Name())
		}
	}
	var all []byte
	for i := range len(byName) {
		b, err := os.ReadFile(byName[fmt.Sprintf("%06d.pmem", i)])
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestDirPoolsetReplicaGrows: an obj pool on a directory poolset with a
// local replica grows every replica, a part file in each per extension;
// after close the replica equals the primary past the header but for
// free chunks' footers (obj, like C, never persists them: the heap
// rebuilds them at open); reopened, the pool has every object, and so
// has the replica opened as the primary.
func TestDirPoolsetReplicaGrows(t *testing.T) {
	dir, set, n := growReplicaSet(t, "grow-rep", 3)
	prim, rep := concatParts(t, dir, "a", "b"), concatParts(t, dir, "r")
	if len(prim) != 32<<20 || len(rep) != len(prim) {
		t.Fatalf("primary %d bytes, replica %d", len(prim), len(rep))
	}
	for off := 4096; off < len(prim); off += 8 {
		if off%4096 == 0 && bytes.Equal(prim[off:off+4096], rep[off:off+4096]) {
			off += 4096 - 8
			continue
		}
		x, y := binary.LittleEndian.Uint64(prim[off:]), binary.LittleEndian.Uint64(rep[off:])
		if x != y && layout.DecodeChunkHeader(x).Type != layout.ChunkFooter && layout.DecodeChunkHeader(y).Type != layout.ChunkFooter {
			t.Fatalf("replica differs from the primary at %#x: %#x, primary %#x", off, y, x)
		}
	}
	swapped := pmemtest.Poolset(t, dir, "swapped.set", "OPTION SINGLEHDR", "32M {dir}/r", "REPLICA", "16M {dir}/a", "16M {dir}/b")
	for _, path := range []string{set, swapped} {
		p, err := Open(path, &Options{Layout: "grow-rep"})
		if err != nil {
			t.Fatal(err)
		}
		if got := countType(p, 3); got != n || p.Size() != 32<<20 {
			t.Fatalf("%s: %d objects, size %d; want %d, %d", path, got, p.Size(), n, 32<<20)
		}
		if probs := p.Check(); len(probs) > 0 {
			t.Fatal(probs)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInteropGoGrownDirPoolsetReplica: a pool with a local replica that
// Go grew passes pmempool check and opens in C with every object.
func TestInteropGoGrownDirPoolsetReplica(t *testing.T) {
	requireCPeer(t)
	_, set, n := growReplicaSet(t, "go-grow-rep", 5)
	if out := runPmempool(t, "check", "-v", set); !strings.Contains(out, "consistent") || strings.Contains(out, "not consistent") {
		t.Fatalf("pmempool check of the grown pool: %s", out)
	}
	if seen := cCountType(t, set, "go-grow-rep", 5); seen != n {
		t.Fatalf("C sees %d of Go's %d objects", seen, n)
	}
}

// TestDirPoolsetGrowCrash: the durable states a crash can leave in the
// middle of a heap extension (as C orders it: the new part file, then
// heap_size, then the new chunks' free header, then the zone header) all
// reopen consistent, with every object allocated before, and the pool
// goes on allocating and growing.
func TestDirPoolsetGrowCrash(t *testing.T) {
	for _, state := range []string{"part", "heap_size", "chunk header"} {
		t.Run(state, func(t *testing.T) {
			dir, set := growSet(t)
			p, err := Create(set, 0, 0o600, &Options{Layout: "crash"})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.CtlSet("heap.size.granularity", int64(0)); err != nil {
				t.Fatal(err)
			}
			n := allocUntilFull(t, p, 1)
			heapSize := p.HeapSize()
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			// What the extension made durable before the crash.
			part := filepath.Join(dir, "b", "000001.pmem")
			if err := os.WriteFile(part, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(part, 8<<20); err != nil {
				t.Fatal(err)
			}
			grown := false
			if state != "part" {
				f, err := os.OpenFile(filepath.Join(dir, "a", "000000.pmem"), os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				head := make([]byte, layout.LanesOffset)
				if _, err := f.ReadAt(head, 0); err != nil {
					t.Fatal(err)
				}
				d, err := layout.DecodeDescriptor(head)
				if err != nil {
					t.Fatal(err)
				}
				put := func(off, v uint64) {
					var b [8]byte
					binary.LittleEndian.PutUint64(b[:], v)
					if _, err := f.WriteAt(b[:], int64(off)); err != nil {
						t.Fatal(err)
					}
				}
				put(layout.HeapSizeAt, uint64(heapSize)+8<<20)
				if state == "chunk header" {
					var b [8]byte
					if _, err := f.ReadAt(b[:], int64(d.HeapOffset+layout.ZoneOffset(0))); err != nil {
						t.Fatal(err)
					}
					zh := layout.DecodeZoneHeader(binary.LittleEndian.Uint64(b[:]))
					put(d.HeapOffset+layout.ChunkHeaderOffset(0, zh.SizeIdx), layout.ChunkHeader{Type: layout.ChunkFree, SizeIdx: 32}.Word())
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				grown = true
			}
			if p, err = Open(set, &Options{Layout: "crash"}); err != nil {
				t.Fatal(err)
			}
			defer func() { p.Close() }()
			if got := countType(p, 1); got != n {
				t.Fatalf("reopened with %d objects, want %d", got, n)
			}
			if probs := p.Check(); len(probs) > 0 {
				t.Fatal(probs)
			}
			if want := heapSize + map[bool]int64{false: 0, true: 8 << 20}[grown]; p.HeapSize() != want {
				t.Fatalf("heap size %d, want %d", p.HeapSize(), want)
			}
			if err := p.CtlSet("heap.size.granularity", int64(8<<20)); err != nil {
				t.Fatal(err)
			}
			if more := allocUntilFull(t, p, 2); more == 0 {
				t.Fatal("no allocation after the crash")
			}
			if probs := p.Check(); len(probs) > 0 {
				t.Fatal(probs)
			}
		})
	}
}

// TestDirPoolsetGrowsConcurrently: goroutines allocating and reading
// their objects while the pool grows under them (run with -race): every
// allocation acknowledged is there, readable, after the growth; with a
// local replica too.
func TestDirPoolsetGrowsConcurrently(t *testing.T) {
	t.Run("one replica", func(t *testing.T) {
		_, set := growSet(t)
		growConcurrently(t, set)
	})
	t.Run("local replica", func(t *testing.T) {
		_, set := replicaSet(t)
		growConcurrently(t, set)
	})
}

// growConcurrently is TestDirPoolsetGrowsConcurrently on the poolset set.
func growConcurrently(t *testing.T, set string) {
	p, err := Create(set, 0, 0o600, &Options{Layout: "conc"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.CtlSet("heap.size.granularity", int64(4<<20)); err != nil {
		t.Fatal(err)
	}
	const workers = 4
	counts := make([]int, workers)
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			var oids []OID
			for {
				oid, err := p.Alloc(200<<10, uint64(10+w), nil)
				if errors.Is(err, ErrOutOfMemory) {
					break
				}
				if err != nil {
					errs <- err
					return
				}
				oids = append(oids, oid)
				for _, o := range oids[max(0, len(oids)-4):] {
					if tn, err := p.TypeNum(o); err != nil || tn != uint64(10+w) {
						errs <- fmt.Errorf("object %v: type %d, %v", o, tn, err)
						return
					}
				}
			}
			counts[w] = len(oids)
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if p.Size() != 32<<20 {
		t.Fatalf("size %d, want the directories' 32 MiB", p.Size())
	}
	total := 0
	for w, n := range counts {
		if got := countType(p, uint64(10+w)); got != n {
			t.Fatalf("worker %d: %d objects in the pool, %d allocated", w, got, n)
		}
		total += n
	}
	if total < 80 { // about 110 blocks of 256 KiB in 32 MiB
		t.Fatalf("%d objects allocated in all", total)
	}
}
