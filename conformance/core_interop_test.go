package conformance_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal/haltest"
)

// libpmemPeer checks or writes a file through libpmem: "check SEED" demands
// the pattern of SEED in the whole file, "write SEED" stores it with
// pmem_memcpy/pmem_memset in pieces of every flag kind and persists.
const libpmemPeer = `
#include <libpmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char pat(size_t i, unsigned seed) {
	return (unsigned char)((i * 7 + seed * 13) ^ (i >> 8));
}

int main(int argc, char **argv) {
	if (argc != 4) return 3;
	size_t len; int is_pmem;
	unsigned char *p = pmem_map_file(argv[1], 0, 0, 0, &len, &is_pmem);
	if (p == NULL) { perror("pmem_map_file"); return 2; }
	unsigned seed = (unsigned)atoi(argv[3]);
	if (strcmp(argv[2], "check") == 0) {
		for (size_t i = 0; i < len; i++)
			if (p[i] != pat(i, seed)) { printf("byte %zu is %#x, want %#x\n", i, p[i], pat(i, seed)); return 1; }
		printf("ok %zu bytes is_pmem %d\n", len, is_pmem);
		return 0;
	}
	unsigned char *buf = malloc(len);
	for (size_t i = 0; i < len; i++) buf[i] = pat(i, seed);
	unsigned flags[] = {0, PMEM_F_MEM_NONTEMPORAL, PMEM_F_MEM_TEMPORAL, PMEM_F_MEM_NODRAIN, PMEM_F_MEM_WC, PMEM_F_MEM_WB};
	size_t off = 0;
	for (unsigned k = 0; off < len; k++) {
		size_t n = (k * 977) % 9000 + 1;
		if (n > len - off) n = len - off;
		pmem_memcpy(p + off, buf + off, n, flags[k % 6]);
		off += n;
	}
	pmem_drain();
	if (!is_pmem) pmem_msync(p, len);
	printf("wrote %zu bytes is_pmem %d\n", len, is_pmem);
	pmem_unmap(p, len);
	return 0;
}
`

func pat(i, seed int) byte { return byte((i*7 + seed*13) ^ (i >> 8)) }

// TestInteropLibpmem: files written through every gopmdk kernel set read
// back right in C libpmem, and files libpmem wrote read back right in
// gopmdk, with and without PMEM_IS_PMEM_FORCE.
func TestInteropLibpmem(t *testing.T) {
	prog := conformance.CompileC(t, libpmemPeer, "pmem")
	const size = 1 << 20
	for _, k := range haltest.All(0) {
		t.Run("go-writes/"+k.Name(), func(t *testing.T) {
			b := conformance.FileBackend(k)
			m := b.NewMap(t, size)
			buf := m.Bytes()
			src := make([]byte, size)
			for i := range src {
				src[i] = pat(i, 5)
			}
			flags := []core.MemFlags{0, core.MemNonTemporal, core.MemTemporal, core.MemWC, core.MemWB}
			for off, j := 0, 0; off < size; j++ {
				n := min((j*1231)%7000+1, size-off)
				m.Memcpy(buf[off:off+n], src[off:off+n], flags[j%len(flags)])
				off += n
			}
			path := b.Path(m)
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(prog, path, "check", "5").CombinedOutput()
			if err != nil {
				t.Fatalf("libpmem check: %v\n%s", err, out)
			}
		})
	}
	for _, force := range []string{"0", "1"} {
		t.Run("c-writes/force="+force, func(t *testing.T) {
			path := pmemtest.Path(t, "pool")
			if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(prog, path, "write", "9")
			cmd.Env = append(os.Environ(), "PMEM_IS_PMEM_FORCE="+force)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("libpmem write: %v\n%s", err, out)
			}
			m, err := core.MapFile(path, 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			for i, c := range m.Bytes() {
				if c != pat(i, 9) {
					t.Fatalf("byte %d is %#x, want %#x", i, c, pat(i, 9))
				}
			}
		})
	}
}
