package crashsim

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

func anon(t *testing.T, n int) []byte {
	t.Helper()
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return b
}

// copyChanged must give dst the content of src whatever either side's pages
// went through, and leave pages untouched when both sides never were.
func TestCopyChanged(t *testing.T) {
	const pages = 64
	src, dst := anon(t, pages*pageSize), anon(t, pages*pageSize)
	src[3*pageSize] = 1    // only in src
	dst[5*pageSize+7] = 2  // only in dst: must become zero
	_ = dst[9*pageSize]    // read-faulted in dst, zero
	src[11*pageSize+1] = 3 // in both, different
	dst[11*pageSize+1] = 4 //
	src[13*pageSize] = 5   // in both, equal
	dst[13*pageSize] = 5   //
	copyChanged(dst, src, true)
	// Look at the pages before comparing: reading touches them.
	if got, ok := touchedPages(dst, nil); ok {
		if got[5] != 0 {
			t.Error("page zero in src still allocated in dst")
		}
		if got[20] != 0 {
			t.Error("untouched page got touched")
		}
	} else {
		t.Log("pagemap unavailable: compared every page")
	}
	if !bytes.Equal(dst, src) {
		t.Fatal("dst differs from src")
	}
	// An untrusted source (a file mapping, say) is compared page by page.
	dst2 := anon(t, pages*pageSize)
	dst2[5*pageSize] = 9
	copyChanged(dst2, src, false)
	if !bytes.Equal(dst2, src) {
		t.Fatal("dst2 differs from src")
	}
}

// A large device costs what its workload touches: a crash image of a
// mostly empty 64 MiB device is correct where written and zero elsewhere.
func TestLargeSparseDevice(t *testing.T) {
	d, err := NewDevice(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m := d.Map()
	b := m.Bytes()
	copy(b[40<<20:], "persisted")
	m.Persist(b[40<<20 : 40<<20+9])
	copy(b[50<<20:], "unflushed")
	d.Crash()
	scratch, err := NewDevice(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Close()
	cs := d.state()
	for _, s := range []Strategy{Optimistic, Pessimistic, Optimistic} {
		if !scratch.loadCrash(cs, s, 0, 0) {
			t.Fatal("load failed")
		}
		got := scratch.mem
		if string(got[40<<20:40<<20+9]) != "persisted" {
			t.Errorf("%v: persisted data lost", s)
		}
		want := "unflushed"
		if s.kind == kindPessimistic {
			want = string(make([]byte, 9))
		}
		if string(got[50<<20:50<<20+9]) != want {
			t.Errorf("%v: unflushed data %q", s, got[50<<20:50<<20+9])
		}
	}
}
