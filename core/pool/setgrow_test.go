package pool

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
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
	for d, want := range map[string]string{"a": "000000.pmem,000002.pmem", "b": "000001.pmem,000003.pmem"} {
		if got := strings.Join(partFiles(t, filepath.Join(dir, d)), ","); got != want {
			t.Fatalf("directory %s holds %q, want %q", d, got, want)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if p, err = Open(set, Obj, nil); err != nil {
		t.Fatal(err)
	}
	b := p.Map().Bytes()
	if p.Size() != size || b[Obj.MinSize-1] != 0xa1 || b[Obj.MinSize+8<<20-1] != 1 || b[Obj.MinSize+16<<20-1] != 2 || b[size-1] != 3 {
		t.Fatalf("reopened: size %d, bytes not as written", p.Size())
	}
}

// TestSetExtendRefused: Extend fails with ErrExtend on pools it cannot
// grow (a poolset of file parts; a directory poolset with a replica).
func TestSetExtendRefused(t *testing.T) {
	_, set := dirSet(t, []string{"a", "r"}, "OPTION SINGLEHDR", "32M {dir}/a", "REPLICA", "32M {dir}/r")
	p, err := Create(set, 0, 0o600, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Extend(8<<20, 2<<20); !errors.Is(err, ErrExtend) {
		t.Fatalf("extend with a replica: %v, want ErrExtend", err)
	}
}
