package hal

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// cpuinfoFlags returns the flag set of the first CPU in /proc/cpuinfo.
func cpuinfoFlags(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		key, val, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(key) == "flags" {
			set := map[string]bool{}
			for _, f := range strings.Fields(val) {
				set[f] = true
			}
			return set
		}
	}
	t.Skip("/proc/cpuinfo has no flags line")
	return nil
}

// TestFeaturesMatchCPUInfo checks every detected flag against the kernel's
// own decoding of CPUID. The kernel clears avx/avx512f when it does not
// save their register state, which is what our OS check must find too.
func TestFeaturesMatchCPUInfo(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("flags compared on linux/amd64 only")
	}
	flags := cpuinfoFlags(t)
	f := CPU()
	for _, c := range []struct {
		name string
		got  bool
	}{
		{"clflush", f.CLFLUSH}, {"clflushopt", f.CLFLUSHOPT}, {"clwb", f.CLWB},
		{"sse2", f.SSE2}, {"avx", f.AVX}, {"avx2", f.AVX2}, {"avx512f", f.AVX512F},
	} {
		if c.got != flags[c.name] {
			t.Errorf("%s: detected %v, /proc/cpuinfo says %v", c.name, c.got, flags[c.name])
		}
	}
	t.Logf("CPU: %s", f)
}

func TestFeaturesCacheLine(t *testing.T) {
	n := CPU().CacheLineSize
	if n < 16 || n > 512 || n&(n-1) != 0 {
		t.Fatalf("cache line size %d: want a power of two in [16, 512]", n)
	}
}

func TestFeaturesString(t *testing.T) {
	cases := []struct {
		f    Features
		want string
	}{
		{Features{CacheLineSize: 64}, "no flush or vector features, cache line 64 B"},
		{Features{CLFLUSH: true, CLWB: true, AVX512F: true, CacheLineSize: 64}, "clflush clwb avx512f, cache line 64 B"},
		{Features{CLFLUSH: true, CLFLUSHOPT: true, CLWB: true, SSE2: true, AVX: true, AVX2: true, AVX512F: true, CacheLineSize: 128},
			"clflush clflushopt clwb sse2 avx avx2 avx512f, cache line 128 B"},
	}
	for _, c := range cases {
		if got := c.f.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestCPUInfoFlushFlags(t *testing.T) {
	cases := []struct {
		text                      string
		clflush, clflushopt, clwb bool
	}{
		{"", false, false, false},
		{"processor\t: 0\nflags\t\t: fpu clflush sse2 clwb\n", true, false, true},
		{"flags\t: clflushopt\nflags\t: clflush clwb\n", false, true, false}, // first CPU only
		{"vendor_id: x\nflags : clflushoptx clwb2 clflush\n", true, false, false},
		{"bugs\t: clwb\nflags\t:\n", false, false, false},
		{"flags clflush\n", false, false, false}, // no colon: not a field
	}
	for _, c := range cases {
		a, b, w := cpuinfoFlushFlags(c.text)
		if a != c.clflush || b != c.clflushopt || w != c.clwb {
			t.Errorf("%q: got %v %v %v, want %v %v %v", c.text, a, b, w, c.clflush, c.clflushopt, c.clwb)
		}
	}
}

func TestDecodeFlushLeaves(t *testing.T) {
	// leaves builds a CPUID with the given highest leaf, leaf 1 EDX and
	// leaf 7 EBX; reading a leaf above the highest fails the test.
	leaves := func(maxLeaf, edx1, ebx7 uint32) cpuidFunc {
		return func(leaf, sub uint32) (a, b, c, d uint32) {
			if leaf > maxLeaf || sub != 0 {
				t.Fatalf("CPUID leaf %d sub %d read, highest leaf %d", leaf, sub, maxLeaf)
			}
			switch leaf {
			case 0:
				return maxLeaf, 0x756e6547, 0x6c65746e, 0x49656e69
			case 1:
				return 0, 0, 0, edx1
			case 7:
				return 0, ebx7, 0, 0
			}
			return 0, 0, 0, 0
		}
	}
	all := ^uint32(0)
	cases := []struct {
		name                      string
		cpu                       cpuidFunc
		clflush, clflushopt, clwb bool
	}{
		{"everything", leaves(0xd, all, all), true, true, true},
		{"only the three bits", leaves(7, 1<<19, 1<<23|1<<24), true, true, true},
		{"clflushopt without clwb", leaves(0x16, 1<<19, 1<<23), true, true, false},
		{"clwb without clflushopt", leaves(7, 1<<19, 1<<24), true, false, true},
		{"neighbour bits only", leaves(7, all&^(1<<19), all&^(1<<23|1<<24)), false, false, false},
		{"no leaf 7", leaves(6, all, all), true, false, false},
		{"no leaf 1", leaves(0, all, all), false, false, false},
	}
	for _, c := range cases {
		a, b, w := decodeFlushLeaves(c.cpu)
		if a != c.clflush || b != c.clflushopt || w != c.clwb {
			t.Errorf("%s: got %v %v %v, want %v %v %v", c.name, a, b, w, c.clflush, c.clflushopt, c.clwb)
		}
	}
}
