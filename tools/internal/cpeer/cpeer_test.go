package cpeer_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/tools/internal/cpeer"
)

// TestInteropPeerOps runs each op through libpmem and checks the bytes in
// the mapping and, after unmapping, in the file.
func TestInteropPeerOps(t *testing.T) {
	if !cpeer.Available() {
		t.Skip("C peer not built: needs -tags cpeer and Debian's libpmem-dev")
	}
	for _, flush := range []bool{true, false} {
		path := pmemtest.Path(t, "peer.pool")
		m, err := cpeer.MapFile(path, 1<<20, flush)
		if err != nil {
			t.Fatal(err)
		}
		src := bytes.Repeat([]byte("gopmdk!"), 100)[:640]
		slots := cpeer.Slots{Stride: 704, Count: 3}
		if err := m.Run(cpeer.OpMemcpyPersist, 4096, slots, src, len(src), 0, 3); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(cpeer.OpMemsetPersist, 8192, slots, src, 100, 5, 1); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(cpeer.OpPersist, 65536, slots, src, 64, 0, 1); err != nil {
			t.Fatal(err)
		}
		b := m.Bytes()
		for i := range 3 {
			if off := 4096 + i*704; !bytes.Equal(b[off:off+640], src) {
				t.Fatalf("flush=%v: memcpy slot %d wrong", flush, i)
			}
		}
		// Op 5 lands in slot 5 mod 3 = 2 and fills with byte 5.
		if off := 8192 + 2*704; !bytes.Equal(b[off:off+100], bytes.Repeat([]byte{5}, 100)) || b[off+100] != 0 {
			t.Fatalf("flush=%v: memset slot wrong", flush)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file[65536:65536+64], src[:64]) {
			t.Fatalf("flush=%v: persisted range not in the file", flush)
		}
		os.Remove(path)
	}
}

func TestPeerMapFileExisting(t *testing.T) {
	path := pmemtest.Path(t, "exists")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := cpeer.MapFile(path, 1<<20, true)
	if err == nil {
		t.Fatal("mapped over an existing file (want PMEM_FILE_EXCL to refuse)")
	}
	if !cpeer.Available() && !errors.Is(err, cpeer.ErrUnavailable) {
		t.Fatalf("without the peer: %v, want ErrUnavailable", err)
	}
}
