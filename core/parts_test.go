package core_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"golang.org/x/sys/unix"
)

// TestPartsMapIsContiguous: two file regions mapped one after the other;
// stores through the Map land in the right file at the right offset.
func TestPartsMapIsContiguous(t *testing.T) {
	dir := pmemtest.Dir(t)
	var parts []core.Part
	for i, name := range []string{"a", "b"} {
		f, err := os.OpenFile(dir+"/"+name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(int64(1+i) << 20); err != nil {
			t.Fatal(err)
		}
		src, err := core.FromFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The second part from its second page, as a poolset part
		// after its header.
		parts = append(parts, core.Part{Src: src, Offset: int64(i) * 4096, Length: 1<<20 - int64(i)*4096})
	}
	m, err := core.NewPartsMap(parts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size() != 2<<20-4096 {
		t.Fatalf("size %d", m.Size())
	}
	b := m.Bytes()
	msg := []byte("across the boundary")
	at := 1<<20 - 5
	copy(b[at:], msg)
	m.Persist(b[at : at+len(msg)])
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(dir + "/a")
	bb, _ := os.ReadFile(dir + "/b")
	if !bytes.Equal(a[1<<20-5:], msg[:5]) || !bytes.Equal(bb[4096:4096+len(msg)-5], msg[5:]) {
		t.Fatal("stores did not reach the parts")
	}
	// Bad layouts are refused.
	bad := []core.Part{{Src: parts[0].Src, Offset: 100, Length: 4096}}
	if _, err := core.NewPartsMap(bad, nil); !errors.Is(err, core.ErrLengthUnaligned) {
		t.Fatalf("unaligned: %v", err)
	}
	bad = []core.Part{{Src: parts[0].Src, Offset: 0, Length: 2 << 20}}
	if _, err := core.NewPartsMap(bad, nil); !errors.Is(err, core.ErrMapRange) {
		t.Fatalf("beyond the file: %v", err)
	}
	if _, err := core.NewPartsMap(nil, nil); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("no parts: %v", err)
	}
}

// TestReplicateReachesEveryReplica: each persist method of a replicated
// Map stores the range into every replica, except before from.
func TestReplicateReachesEveryReplica(t *testing.T) {
	mk := func() *core.Map {
		return core.NewMemoryMap(make([]byte, 64<<10), core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
	}
	primary, r1, r2 := mk(), mk(), mk()
	m, err := core.Replicate(primary, []*core.Map{r1, r2}, 32<<10, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size() != 32<<10 {
		t.Fatalf("size %d", m.Size())
	}
	b := m.Bytes()
	copy(b[100:], "header stays")    // before from: not replicated
	copy(b[4000:], "straddles from") // partly before from
	m.Persist(b[100:112])
	m.Persist(b[4000:4014])
	m.Memset(b[8192:8292], 'x', 0)
	m.Memmove(b[9000:9005], []byte("moved"), 0)
	copy(b[12000:], "0123456789abcdef")
	m.Memmove(b[12000:12010], b[12005:12015], 0) // inside the primary, overlapping
	copy(b[10000:], "flushed")
	m.Flush(b[10000:10007])
	m.Drain()
	for i, r := range []*core.Map{r1, r2} {
		rb := r.Bytes()
		switch {
		case !bytes.Equal(rb[100:112], make([]byte, 12)):
			t.Fatalf("replica %d: bytes before from were copied", i+1)
		case string(rb[4096:4110]) != string(b[4096:4110]) || rb[4095] != 0:
			t.Fatalf("replica %d: straddling range wrong", i+1)
		case !bytes.Equal(rb[8192:8292], bytes.Repeat([]byte{'x'}, 100)):
			t.Fatalf("replica %d: memset not replicated", i+1)
		case string(rb[9000:9005]) != "moved" || string(rb[10000:10007]) != "flushed":
			t.Fatalf("replica %d: memmove or flush not replicated", i+1)
		case string(rb[12000:12010]) != "56789abcde":
			t.Fatalf("replica %d: overlapping memmove gives %q", i+1, rb[12000:12010])
		}
	}
	if _, err := core.Replicate(primary, []*core.Map{core.NewMemoryMap(make([]byte, 4096), core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)}, 32<<10, 0); !errors.Is(err, core.ErrMapRange) {
		t.Fatalf("small replica: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReplicateGrown: a replicated Map grown over longer Maps of the same
// memory shares the persist path of the first, which then replicates the
// grown range too, while the first Map keeps its bytes; a grown Map over
// memory elsewhere, fewer replicas or a shrunk size is refused.
func TestReplicateGrown(t *testing.T) {
	mem := [3][]byte{make([]byte, 64<<10), make([]byte, 64<<10), make([]byte, 64<<10)}
	view := func(i, n int) *core.Map {
		return core.NewMemoryMap(mem[i][:n], core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
	}
	m, err := core.Replicate(view(0, 32<<10), []*core.Map{view(1, 32<<10), view(2, 32<<10)}, 32<<10, 4096)
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bytes()
	p := m.Persister()
	big := mem[0][40<<10 : 40<<10+5]
	copy(big, "grown") // past the first primary: no Map may persist it yet
	if string(mem[1][40<<10:40<<10+5]) == "grown" {
		t.Fatal("bytes past the replicated size were copied")
	}
	g, err := core.ReplicateGrown(m, view(0, 64<<10), []*core.Map{view(1, 64<<10), view(2, 64<<10)}, 48<<10)
	if err != nil {
		t.Fatal(err)
	}
	if g.Size() != 48<<10 || len(m.Bytes()) != 32<<10 || &g.Bytes()[0] != &b[0] {
		t.Fatalf("grown size %d, first Map %d bytes", g.Size(), len(m.Bytes()))
	}
	p.Persist(big) // through the first Map's persister
	m.Memset(b[5000:5010], 'y', 0)
	copy(mem[0][50<<10:], "past")
	p.Persist(mem[0][50<<10 : 50<<10+4]) // past the grown size: not copied
	for r := 1; r <= 2; r++ {
		if string(mem[r][40<<10:40<<10+5]) != "grown" || mem[r][5000] != 'y' || mem[r][50<<10] != 0 {
			t.Fatalf("replica %d: grown range not replicated as asked", r)
		}
	}
	for _, bad := range []struct {
		prim *core.Map
		reps []*core.Map
		size int
	}{
		{view(0, 64<<10), []*core.Map{view(1, 64<<10)}, 48 << 10},
		{view(0, 64<<10), []*core.Map{view(1, 64<<10), view(2, 64<<10)}, 16 << 10},
		{view(1, 64<<10), []*core.Map{view(1, 64<<10), view(2, 64<<10)}, 48 << 10},
		{view(0, 64<<10), []*core.Map{view(2, 64<<10), view(1, 64<<10)}, 48 << 10},
	} {
		if _, err := core.ReplicateGrown(g, bad.prim, bad.reps, bad.size); err == nil {
			t.Fatal("bad grown Map accepted")
		}
	}
	if _, err := core.ReplicateGrown(view(0, 64<<10), view(0, 64<<10), nil, 4096); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("grown from a Map not replicated: %v", err)
	}
}

// BenchmarkReplicatedPersist: Memcpy of 4 KiB with persist on anonymous
// memory, alone and replicated into one and two replicas: what a local
// replica costs each persist (ratio against "replicas=0").
func BenchmarkReplicatedPersist(b *testing.B) {
	mk := func() *core.Map {
		return core.NewMemoryMap(make([]byte, 1<<20), core.GranularityCacheLine, core.NewPersister(core.GranularityCacheLine, nil), nil)
	}
	src := bytes.Repeat([]byte{7}, 4096)
	for _, n := range []int{0, 1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			m := mk()
			if n > 0 {
				var reps []*core.Map
				for range n {
					reps = append(reps, mk())
				}
				var err error
				if m, err = core.Replicate(m, reps, 1<<20, 4096); err != nil {
					b.Fatal(err)
				}
			}
			defer m.Close()
			b.SetBytes(int64(len(src)))
			off := 4096
			for b.Loop() {
				m.Memcpy(m.Bytes()[off:off+len(src)], src, 0)
				off += len(src)
				if off+len(src) > m.Size() {
					off = 4096
				}
			}
		})
	}
}

// TestPartsMapAtExtendsARange: a part mapped at the end of an earlier
// mapping extends it into one contiguous range; a range in use is refused
// and left as it was.
func TestPartsMapAtExtendsARange(t *testing.T) {
	dir := pmemtest.Dir(t)
	var srcs []*core.Source
	for _, name := range []string{"a", "b"} {
		f, err := os.OpenFile(dir+"/"+name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(1 << 20); err != nil {
			t.Fatal(err)
		}
		src, err := core.FromFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	// Free address space for both: a reservation given back.
	res, err := unix.MmapPtr(-1, 0, nil, 8<<20, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.MunmapPtr(res, 8<<20); err != nil {
		t.Fatal(err)
	}
	at := unsafe.Pointer((uintptr(res) + 2<<20 - 1) &^ (2<<20 - 1))
	first, err := core.NewPartsMapAt(at, []core.Part{{Src: srcs[0], Length: 1 << 20}}, &core.Config{RequiredGranularity: core.GranularityPage})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	end := unsafe.Add(unsafe.Pointer(&first.Bytes()[0]), first.Size())
	second, err := core.NewPartsMapAt(end, []core.Part{{Src: srcs[1], Offset: 4096, Length: 1<<20 - 4096}}, &core.Config{RequiredGranularity: core.GranularityPage})
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.Pointer(&second.Bytes()[0]) != end {
		t.Fatal("not mapped at the end of the first range")
	}
	// The same range again: in use now.
	_, err = core.NewPartsMapAt(end, []core.Part{{Src: srcs[1], Length: 4096}}, nil)
	if !errors.Is(err, core.ErrAddressInUse) {
		t.Fatalf("range in use: %v", err)
	}
	// Two parts whose second page collides: the first is unmapped again.
	before := unsafe.Add(end, -2*4096)
	_, err = core.NewPartsMapAt(unsafe.Add(before, -4096), []core.Part{{Src: srcs[1], Length: 4096}, {Src: srcs[1], Length: 4096}}, nil)
	if !errors.Is(err, core.ErrAddressInUse) {
		t.Fatalf("second part in use: %v", err)
	}
	if _, err := core.NewPartsMapAt(unsafe.Add(end, 1), []core.Part{{Src: srcs[1], Length: 4096}}, nil); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("unaligned address: %v", err)
	}
	// The whole range reads and writes as one: the first range's bytes
	// are still the file's (nothing replaced them).
	whole := unsafe.Slice((*byte)(unsafe.Pointer(&first.Bytes()[0])), 2<<20-4096)
	msg := []byte("across the boundary")
	copy(whole[1<<20-5:], msg)
	first.Persist(first.Bytes()[1<<20-5:])
	second.Persist(second.Bytes()[:len(msg)-5])
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(dir + "/a")
	b, _ := os.ReadFile(dir + "/b")
	if !bytes.Equal(a[1<<20-5:], msg[:5]) || !bytes.Equal(b[4096:4096+len(msg)-5], msg[5:]) {
		t.Fatal("stores did not reach the parts")
	}
}
