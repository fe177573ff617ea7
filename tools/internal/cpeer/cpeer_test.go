package cpeer_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal/cpmem"
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
	if !cpeer.Available() && !errors.Is(err, cpmem.ErrUnavailable) {
		t.Fatalf("without the peer: %v, want ErrUnavailable", err)
	}
}

func TestBlockForInRange(t *testing.T) {
	for _, nblock := range []int64{1, 7, 64956, 1 << 40} {
		seen := map[int64]bool{}
		for i := range uint64(200) {
			for _, seed := range []uint64{0, 1, 99} {
				b := cpeer.BlockFor(i, seed, nblock)
				if b < 0 || b >= nblock {
					t.Fatalf("BlockFor(%d, %d, %d) = %d", i, seed, nblock, b)
				}
				seen[b] = true
			}
		}
		if nblock > 1000 && len(seen) < 500 {
			t.Fatalf("nblock %d: only %d distinct blocks of 600", nblock, len(seen))
		}
	}
}

func TestInteropPeerBlk(t *testing.T) {
	if !cpeer.Available() {
		t.Skip("C peer not built: needs -tags cpeer and Debian's libpmemblk-dev")
	}
	p, err := cpeer.CreateBlk(pmemtest.Path(t, "blk.pool"), 512, 32<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.NBlock() < 60000 {
		t.Fatalf("nblock %d for 32 MiB of 512-byte blocks", p.NBlock())
	}
	w := bytes.Repeat([]byte{0x42}, 512)
	if err := p.Run(true, false, w, 3, 0, 10); err != nil {
		t.Fatal(err)
	}
	r := make([]byte, 512)
	if err := p.Run(false, false, r, 3, 9, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r, w) {
		t.Fatal("read back of written block differs")
	}
}

func TestInteropPeerLog(t *testing.T) {
	if !cpeer.Available() {
		t.Skip("C peer not built: needs -tags cpeer and Debian's libpmemlog-dev")
	}
	l, err := cpeer.CreateLog(pmemtest.Path(t, "log.pool"), 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n := l.Walk(64, 1); n != 0 {
		t.Fatalf("walk of an empty log visited %d chunks", n)
	}
	buf := bytes.Repeat([]byte{7}, 4096)
	if err := l.Append(buf, 10); err != nil {
		t.Fatal(err)
	}
	if l.Tell() != 40960 {
		t.Fatalf("tell %d after 10 appends of 4 KiB", l.Tell())
	}
	if n := l.Walk(4096, 1); n != 10 {
		t.Fatalf("walk visited %d chunks, want 10", n)
	}
	// 2 MiB pool: 600 appends of 4 KiB overflow it, so the peer rewinds.
	if err := l.Append(buf, 600); err != nil {
		t.Fatal(err)
	}
	if l.Tell() >= 40960+600*4096 || l.Tell()%4096 != 0 {
		t.Fatalf("tell %d: no rewind happened", l.Tell())
	}
}
