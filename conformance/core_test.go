package conformance_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// core's own map and persist cases: what a library relies on from any Map.
func init() {
	conformance.Register("core",
		conformance.Case{Name: "granularity", Run: coreGranularity},
		conformance.Case{Name: "memmove-flags-visible-after-reopen", Run: coreMemmoveFlags},
		conformance.Case{Name: "memset-flags-visible-after-reopen", Run: coreMemsetFlags},
		conformance.Case{Name: "persist-flush-drain-visible-after-reopen", Run: corePersist},
		conformance.Case{Name: "memmove-overlap", Run: coreMemmoveOverlap},
	)
}

const coreSize = 64 << 10

// pattern returns n bytes that differ from any shifted copy of themselves.
func pattern(n, seed int) []byte {
	p := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = byte(x)
	}
	return p
}

func coreGranularity(t *testing.T, b conformance.Backend) {
	m := b.NewMap(t, coreSize)
	if m.Size() != coreSize {
		t.Errorf("size %d, want %d", m.Size(), coreSize)
	}
	if m.Granularity() != b.Granularity {
		t.Errorf("granularity %v, want %v", m.Granularity(), b.Granularity)
	}
}

// flagSets are the MemFlags combinations that persist by themselves, and
// those that need the caller's Drain (NoDrain) or Persist (NoFlush).
var flagSets = []core.MemFlags{
	0, core.MemNonTemporal, core.MemTemporal, core.MemWC, core.MemWB,
	core.MemNoDrain, core.MemNoDrain | core.MemNonTemporal, core.MemNoFlush, core.MemNoFlush | core.MemTemporal,
}

// lengths straddle cache lines and the default non-temporal threshold.
var lengths = []int{0, 1, 7, 8, 63, 64, 65, 127, 255, 256, 257, 1000, 4096 + 13}

// finish makes what flags left undone persistent, as the caller must.
func finish(m *core.Map, dst []byte, flags core.MemFlags) {
	switch {
	case flags&core.MemNoFlush != 0:
		m.Persist(dst)
	case flags&core.MemNoDrain != 0:
		m.Drain()
	}
}

func coreMemmoveFlags(t *testing.T, b conformance.Backend) {
	m := b.NewMap(t, coreSize)
	want := make([]byte, coreSize)
	off := 3
	for fi, flags := range flagSets {
		for li, n := range lengths {
			src := pattern(n, fi*100+li)
			dst := m.Bytes()[off : off+n]
			m.Memmove(dst, src, flags)
			finish(m, dst, flags)
			copy(want[off:], src)
			if !bytes.Equal(dst, src) {
				t.Fatalf("flags %#x len %d: copy wrong before reopen", flags, n)
			}
			off += n + 5
		}
	}
	m = b.Reopen(t, m)
	if i := firstDiff(m.Bytes(), want); i >= 0 {
		t.Fatalf("after reopen byte %d is %#x, want %#x", i, m.Bytes()[i], want[i])
	}
}

func coreMemsetFlags(t *testing.T, b conformance.Backend) {
	m := b.NewMap(t, coreSize)
	want := make([]byte, coreSize)
	off := 1
	for fi, flags := range flagSets {
		for li, n := range lengths {
			c := byte(fi*16 + li + 1)
			dst := m.Bytes()[off : off+n]
			m.Memset(dst, c, flags)
			finish(m, dst, flags)
			for i := range n {
				want[off+i] = c
			}
			off += n + 9
		}
	}
	m = b.Reopen(t, m)
	if i := firstDiff(m.Bytes(), want); i >= 0 {
		t.Fatalf("after reopen byte %d is %#x, want %#x", i, m.Bytes()[i], want[i])
	}
}

func corePersist(t *testing.T, b conformance.Backend) {
	m := b.NewMap(t, coreSize)
	buf := m.Bytes()
	a := pattern(300, 1)
	copy(buf[100:], a)
	m.Persist(buf[100:400])
	c := pattern(5000, 2)
	copy(buf[9000:], c)
	m.Flush(buf[9000:12000])
	m.Flush(buf[12000:14000])
	m.Drain()
	m = b.Reopen(t, m)
	buf = m.Bytes()
	if !bytes.Equal(buf[100:400], a) {
		t.Error("persisted range lost")
	}
	if !bytes.Equal(buf[9000:14000], c) {
		t.Error("flushed and drained ranges lost")
	}
}

func coreMemmoveOverlap(t *testing.T, b conformance.Backend) {
	for _, n := range []int{17, 64, 300, 5000} {
		for _, shift := range []int{-33, -1, 1, 8, 65} {
			t.Run(fmt.Sprintf("%d%+d", n, shift), func(t *testing.T) {
				m := b.NewMap(t, 4*8192)
				buf := m.Bytes()
				src := pattern(n, n+shift)
				copy(buf[8192:], src)
				m.Memmove(buf[8192+shift:8192+shift+n], buf[8192:8192+n], 0)
				if !bytes.Equal(buf[8192+shift:8192+shift+n], src) {
					t.Fatal("overlapping move corrupted the data")
				}
			})
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// core's crash cases: a payload stored with each MemFlags combination and
// then published by a persisted flag. Flags that flush and drain keep the
// payload; MemNoDrain needs the caller's Drain before the flag is stored
// (else flag and payload share one fence and may land in either order),
// MemNoFlush a flush of the caller: without them the simulator must flag
// the case.
func init() {
	for _, fl := range []struct {
		name   string
		flags  core.MemFlags
		drain  bool // the caller drains before storing the flag
		broken bool
	}{
		{"default", 0, false, false},
		{"nontemporal", core.MemNonTemporal, false, false},
		{"temporal", core.MemTemporal, false, false},
		{"nodrain-then-drain", core.MemNoDrain, true, false},
		{"nodrain-nontemporal-then-drain", core.MemNoDrain | core.MemNonTemporal, true, false},
		{"nodrain", core.MemNoDrain, false, true},
		{"nodrain-nontemporal", core.MemNoDrain | core.MemNonTemporal, false, true},
		{"noflush", core.MemNoFlush, false, true},
		{"noflush-nodrain-then-drain", core.MemNoFlush | core.MemNoDrain, true, true},
	} {
		// A missing fence shows only in some orders: Exhaustive samples
		// enough of them to make the verdict independent of the seed.
		all := []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic, crashsim.Random(conformance.Seed()), crashsim.Exhaustive}
		conformance.RegisterCrash("core",
			conformance.CrashCase{Name: "memmove-" + fl.name + "-then-flag", Workload: publish(fl.flags, fl.drain, false), Broken: fl.broken, Strategies: all},
			conformance.CrashCase{Name: "memset-" + fl.name + "-then-flag", Workload: publish(fl.flags, fl.drain, true), Broken: fl.broken, Strategies: all},
		)
	}
}

// publish stores a 1000-byte payload (past the non-temporal threshold) at
// an unaligned offset with flags, drains if asked, then sets and persists a
// flag; Check demands the whole payload wherever the flag is set.
func publish(flags core.MemFlags, drain, memset bool) crashsim.Workload {
	const off, n = 4096 + 17, 1000
	payload := pattern(n, 77)
	if memset {
		payload = bytes.Repeat([]byte{0x5a}, n)
	}
	return crashsim.Workload{
		Size: 16 << 10,
		Run: func(m *core.Map) error {
			b := m.Bytes()
			for i := range 3 {
				dst := b[off+i*2048 : off+i*2048+n]
				if memset {
					m.Memset(dst, 0x5a, flags)
				} else {
					m.Memmove(dst, payload, flags)
				}
				if drain {
					m.Drain()
				}
				b[i*64] = 1
				m.Persist(b[i*64 : i*64+1])
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			b := m.Bytes()
			for i := range 3 {
				if b[i*64] == 1 && !bytes.Equal(b[off+i*2048:off+i*2048+n], payload) {
					return fmt.Errorf("record %d flagged but its payload is not whole", i)
				}
			}
			return nil
		},
	}
}
