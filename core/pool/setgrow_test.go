package pool

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestSetDirExtend: a pool on a directory poolset grows by part files as
// C's util_pool_extend adds them: 000001.pmem in the second directory,
// 000002.pmem back in the first, each mapped right after the pool's end,
// the bytes written before and after each Extend intact across a reopen;
// the reservation (the directories' sizes) caps the growth, clipping the
// last part and then refusing.
func TestSetDirExtend(t *testing.T) {
	dir, set := dirSet(t, []string{"a", "b"}, "OPTION SINGLEHDR", "16M {dir}/a", "16M {dir}/b")
	p, err := Create(set, 0, 0o600, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Close() }()
	before := p.Map().Bytes()
	before[len(before)-1] = 0xa1
	p.Map().Persist(before[len(before)-1:])
	for i, want := range []int64{8 << 20, 8 << 20, 8 << 20, 0} {
		req := int64(8 << 20)
		if i == 2 {
			req = 12 << 20 // clipped to the reservation
		}
		n, err := p.Extend(req, 2<<20)
		if want == 0 {
			if !errors.Is(err, ErrExtend) {
				t.Fatalf("extend past the reservation: %d, %v, want ErrExtend", n, err)
			}
			break
		}
		if err != nil || n != want {
			t.Fatalf("extend %d: %d, %v, want %d", i, n, err, want)
		}
		b := p.Map().Bytes()
		b[len(b)-1] = byte(i + 1)
		p.Map().Persist(b[len(b)-1:])
	}
	if before[len(before)-1] != 0xa1 {
		t.Fatal("the Map before Extend lost its bytes")
	}
	size := p.Size()
	if want := int64(32 << 20); size != want {
		t.Fatalf("size %d, want %d", size, want)
	}
	requireParts(t, dir, map[string]string{"a": "000000.pmem,000002.pmem", "b": "000001.pmem,000003.pmem"})
	p = reopen(t, p, set)
	b := p.Map().Bytes()
	if p.Size() != size || b[Obj.MinSize-1] != 0xa1 || b[Obj.MinSize+8<<20-1] != 1 || b[Obj.MinSize+16<<20-1] != 2 || b[size-1] != 3 {
		t.Fatalf("reopened: size %d, bytes not as written", p.Size())
	}
}

// TestSetDirExtendReplica: Extend grows every replica of a directory
// poolset, as C's util_pool_extend: the same part index in each
// replica's next directory, mapped after its end; what is persisted
// through the pool's Map after the growth, and through the persister of
// the Map before it (as obj keeps it), reaches the replica. After close
// each replica's parts equal the primary's past the header, and the pool
// reopens with its grown size.
func TestSetDirExtendReplica(t *testing.T) {
	dir, set := dirSet(t, []string{"a", "b", "r"}, "OPTION SINGLEHDR", "16M {dir}/a", "16M {dir}/b", "REPLICA", "32M {dir}/r")
	p, err := Create(set, 0, 0o600, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Close() }()
	first := p.Map()
	room := p.Room()
	b := first.Bytes()
	b[len(b)-1] = 0xa1
	first.Persist(b[len(b)-1:])
	for i := range 2 {
		if n, err := p.Extend(8<<20, 2<<20); err != nil || n != 8<<20 {
			t.Fatalf("extend %d: %d, %v", i, n, err)
		}
		if p.ReplicaMap(1).Size() != int(p.Size()) {
			t.Fatalf("replica map %d bytes, pool %d", p.ReplicaMap(1).Size(), p.Size())
		}
	}
	size := int(p.Size())
	g := p.Map().Bytes()
	copy(g[size-16:], "through the new")
	p.Map().Persist(g[size-16:])
	copy(room[Obj.MinSize+100:], "through the old")
	first.Persister().Persist(room[Obj.MinSize+100 : Obj.MinSize+115])
	p.Map().Memset(g[Obj.MinSize+(8<<20):Obj.MinSize+(8<<20)+64], 'm', 0)
	requireParts(t, dir, map[string]string{"a": "000000.pmem,000002.pmem", "b": "000001.pmem", "r": "000000.pmem,000001.pmem,000002.pmem"})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for i, pair := range [][2]string{{"a/000000.pmem", "r/000000.pmem"}, {"b/000001.pmem", "r/000001.pmem"}, {"a/000002.pmem", "r/000002.pmem"}} {
		x, err := os.ReadFile(filepath.Join(dir, pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(dir, pair[1]))
		if err != nil {
			t.Fatal(err)
		}
		from := 0
		if i == 0 {
			from = HeaderSize
		}
		if len(x) != len(y) || !bytes.Equal(x[from:], y[from:]) {
			t.Fatalf("part %d: replica differs from the primary", i)
		}
	}
	if p, err = Open(set, Obj, nil); err != nil {
		t.Fatal(err)
	}
	g = p.Map().Bytes()
	if int(p.Size()) != size || p.Replicas() != 2 || g[Obj.MinSize-1] != 0xa1 || string(g[size-16:size-1]) != "through the new" ||
		string(g[Obj.MinSize+100:Obj.MinSize+115]) != "through the old" {
		t.Fatalf("reopened: size %d, bytes not as written", p.Size())
	}
}

// TestSetDirExtendReplicaFails: when a replica's new part cannot be
// created (a file is in its way), Extend fails and undoes the parts it
// made in the other replicas, leaving the file it did not make and the
// pool as it was; the next Extend uses the same part index.
func TestSetDirExtendReplicaFails(t *testing.T) {
	dir, set := dirSet(t, []string{"a", "b", "r"}, "OPTION SINGLEHDR", "16M {dir}/a", "16M {dir}/b", "REPLICA", "32M {dir}/r")
	p, err := Create(set, 0, 0o600, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Close() }()
	stray := filepath.Join(dir, "r", "000001.pmem")
	if err := os.WriteFile(stray, []byte("not mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	size, m := p.Size(), p.Map()
	if _, err := p.Extend(8<<20, 2<<20); !errors.Is(err, ErrExtend) || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("extend into a taken name: %v, want ErrExtend, fs.ErrExist", err)
	}
	if got := strings.Join(partFiles(t, filepath.Join(dir, "b")), ","); got != "" || p.Size() != size || p.Map() != m ||
		len(p.Set().Replicas[0].Parts) != 1 || len(p.Set().Replicas[1].Parts) != 1 {
		t.Fatalf("failed extend left parts %q, size %d (was %d)", got, p.Size(), size)
	}
	if b, err := os.ReadFile(stray); err != nil || string(b) != "not mine" {
		t.Fatalf("the file in the way: %q, %v", b, err)
	}
	os.Remove(stray)
	if n, err := p.Extend(8<<20, 2<<20); err != nil || n != 8<<20 {
		t.Fatalf("extend: %d, %v", n, err)
	}
	requireParts(t, dir, map[string]string{"b": "000001.pmem", "r": "000000.pmem,000001.pmem"})
	p = reopen(t, p, set)
	if p.Size() != size+8<<20 {
		t.Fatalf("reopened size %d", p.Size())
	}
}

// TestSetExtendRefused: Extend fails with ErrExtend on pools it cannot
// grow (a poolset of file parts; a directory poolset opened read-only).
func TestSetExtendRefused(t *testing.T) {
	dir, set := dirSet(t, []string{"a", "r"}, "OPTION SINGLEHDR", "32M {dir}/a", "REPLICA", "32M {dir}/r")
	p, err := Create(set, 0, 0o600, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if p, err = Open(set, Obj, &Options{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Extend(8<<20, 2<<20); !errors.Is(err, ErrExtend) {
		t.Fatalf("extend read-only: %v, want ErrExtend", err)
	}
	files := pmemtest.Poolset(t, dir, "f.set", "OPTION SINGLEHDR", "32M {dir}/f0", "REPLICA", "32M {dir}/f1")
	q, err := Create(files, 0, 0o600, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if _, err := q.Extend(8<<20, 2<<20); !errors.Is(err, ErrExtend) {
		t.Fatalf("extend file parts: %v, want ErrExtend", err)
	}
}

// requireParts fails t unless each directory d under dir holds the part
// files want[d] (comma-separated, in name order).
func requireParts(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	for d, w := range want {
		if got := strings.Join(partFiles(t, filepath.Join(dir, d)), ","); got != w {
			t.Fatalf("directory %s holds %q, want %q", d, got, w)
		}
	}
}

// reopen closes p and opens the obj pool on set again.
func reopen(t *testing.T, p *Pool, set string) *Pool {
	t.Helper()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := Open(set, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
