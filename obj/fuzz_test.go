package obj

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj/layout"
	"golang.org/x/sys/unix"
)

// cPool returns the image of testdata/cpool.gz: a 16 MiB pool C made
// (testdata/mkpool.c) with a root, objects of run and huge classes, a free,
// a realloc and a publication.
var cPool = sync.OnceValues(func() ([]byte, error) {
	f, err := os.Open("testdata/cpool.gz")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
})

// Regions of the C pool that fuzz patches land in, by pool offset: the
// descriptor and root fields, the first lanes' logs, the heap header, zone
// 0's header and chunk headers, and the first bytes of its first chunks
// (run headers, bitmaps, object headers).
var fuzzRegions = [][2]uint64{
	{layout.DescOffset, layout.RuntimeAt},
	{layout.LanesOffset, layout.LanesOffset + 4*layout.LaneSize},
	{0x302000, 0x302000 + layout.HeapHeaderSize},
	{0x302400, 0x302400 + 64 + 8*64},
	{0x382400, 0x382400 + 4096},
	{0x3c2400, 0x3c2400 + 4096},
	{0x400400, 0x400400 + 4096},
	{0x682400, 0x682400 + 256},
}

// patchPool applies the fuzz input to img: 11-byte records (region,
// 16-bit word index, 64-bit value) store values at 8-byte aligned places;
// a trailing byte's bits recompute the descriptor, heap header and lane
// 0 external log checksums afterwards, so damage can get past them.
func patchPool(img, data []byte) {
	le := binary.LittleEndian
	for len(data) >= 11 {
		r := fuzzRegions[int(data[0])%len(fuzzRegions)]
		off := r[0] + uint64(le.Uint16(data[1:]))*8%(r[1]-r[0])
		le.PutUint64(img[off&^7:], le.Uint64(data[3:]))
		data = data[11:]
	}
	if len(data) == 0 {
		return
	}
	fix := data[len(data)-1]
	if fix&1 != 0 {
		le.PutUint64(img[layout.DescChecksumAt:], layout.DescChecksum(img))
	}
	if fix&2 != 0 {
		h := img[0x302000 : 0x302000+layout.HeapHeaderSize]
		le.PutUint64(h[layout.HeapChecksumAt:], pool.Checksum(h, layout.HeapChecksumAt, 0))
	}
	if fix&4 != 0 {
		log := img[layout.LanesOffset+layout.LaneExternalAt:]
		n := le.Uint64(log[layout.UlogCapacityAt:])
		if n <= layout.LaneExternalCapacity && n%8 == 0 {
			le.PutUint64(log[layout.UlogChecksumAt:], layout.UlogChecksum(log[:layout.UlogHeaderSize+n]))
		}
	}
}

var (
	fuzzMu  sync.Mutex
	fuzzImg []byte // outside the Go heap, reused: restoring the pages an
	// iteration changed costs far less than mapping and filling 16 MiB
)

// fuzzImage locks fuzzMu and returns the reused mapping holding base.
func fuzzImage(base []byte) ([]byte, error) {
	fuzzMu.Lock()
	if fuzzImg == nil {
		img, err := unix.Mmap(-1, 0, len(base), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			fuzzMu.Unlock()
			return nil, err
		}
		fuzzImg = img
	}
	for i := 0; i < len(base); i += 4096 {
		if !bytes.Equal(fuzzImg[i:i+4096], base[i:i+4096]) {
			copy(fuzzImg[i:i+4096], base[i:i+4096])
		}
	}
	return fuzzImg, nil
}

// exercise uses an opened pool every way a program might, to reach the
// code that reads what open let through.
func exercise(t testing.TB, p *Pool) {
	_ = p.Check()
	n := 0
	for o := range p.Objects() {
		if n++; n > 2000 {
			break
		}
		_, _ = p.TypeNum(o)
		_, _ = p.UsableSize(o)
		if b := p.Bytes(o); len(b) > 0 {
			b[0] ^= 0xff
		}
		if n%3 == 0 {
			_, _ = p.Realloc(o, 500, 3)
		} else if n%5 == 0 {
			_ = p.Free(o)
		}
	}
	_, _ = p.Root(0)
	_, _ = p.Root(4096)
	for _, size := range []int{8, 300, 70000, 2_100_000} {
		if o, err := p.Alloc(size, 1, nil); err == nil {
			_ = p.Free(o)
		}
	}
	if o, a, err := p.Reserve(64, 2); err == nil {
		var v uint64
		if err := p.Publish(a, p.SetValue(&v, o.Off)); err == nil {
			_ = p.Free(o)
		}
	}
}

func fuzzOpen(t *testing.T, data []byte, check bool) {
	base, err := cPool()
	if err != nil {
		t.Fatal(err)
	}
	img, err := fuzzImage(base)
	if err != nil {
		t.Fatal(err)
	}
	defer fuzzMu.Unlock()
	patchPool(img, data)
	m := core.NewMemoryMap(img, core.GranularityCacheLine, core.NewPersister(core.GranularityCacheLine, nil), nil)
	p, err := OpenOnMap(m, &Options{Layout: "fuzz"})
	if err != nil {
		if !errors.Is(err, core.ErrCorrupt) && !errors.Is(err, ErrLayout) {
			t.Fatalf("open error not a corruption: %v", err)
		}
		return
	}
	defer p.Close()
	if check {
		_ = p.Check()
		return
	}
	exercise(t, p)
}

var fuzzSeeds = [][]byte{
	{},
	// chunk header 0 of zone 0: size 0, then unknown type
	append([]byte{3, 8, 0}, 0x04, 0, 0, 0, 0, 0, 0, 0),
	append([]byte{3, 8, 0}, 0x07, 0, 0, 0, 1, 0, 0, 0),
	// zone magic
	append([]byte{3, 0, 0}, 1, 2, 3, 4, 5, 0, 0, 0),
	// run block size 0 and huge, bitmap all ones
	append([]byte{4, 0, 0}, 0, 0, 0, 0, 0, 0, 0, 0),
	append([]byte{4, 0, 0}, 0, 0, 0, 0, 0, 0, 0, 1),
	append([]byte{4, 2, 0}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
	// object header sizes
	append([]byte{6, 0x8a, 0}, 0, 0, 0, 0, 0, 0, 0, 0),
	append([]byte{6, 0x8a, 0}, 0, 0, 0, 0, 1, 0, 0, 0),
	// root offset and size, heap size, run id; fixed descriptor checksum
	append([]byte{0, 0, 1}, 0x10, 0, 0, 0, 0, 0, 0, 0),
	append([]byte{0, 4, 1}, 0, 0, 0, 0, 1, 0, 0, 0),
	append([]byte{0, 3, 1}, 0, 0, 0, 0, 0, 0, 0, 1),
	append(append([]byte{0, 0x80, 0}, 0x40, 0x20, 0, 0, 0, 0, 0, 0), 1),
	append(append([]byte{0, 0x81, 0}, 0, 0, 0, 0, 0, 0, 0, 0), 1),
	// a committed external redo log whose entry targets the pool header
	append(append(append(append([]byte{1, 0x22, 0}, 0x40, 0, 0, 0, 0, 0, 0, 0),
		append([]byte{1, 0x28, 0}, 0x08, 0, 0, 0, 0, 0, 0, 0)...),
		append([]byte{1, 0x29, 0}, 1, 0, 0, 0, 0, 0, 0, 0)...), 4),
	// ... whose capacity is huge; whose next loops to itself
	append([]byte{1, 0x22, 0}, 0, 0, 0, 0, 1, 0, 0, 0),
	append([]byte{1, 0x21, 0}, 0, 0x21, 0, 0, 0, 0, 0, 0),
	// heap header checksum fixed after a chunk size change
	append(append([]byte{2, 5, 0}, 0, 0x10, 0, 0, 0, 0, 0, 0), 2),
}

// FuzzOpen opens damaged copies of a C-made pool and uses them: every
// damage gives an error (wrapping core.ErrCorrupt at open) or a pool that
// works, never a panic or a fault.
func FuzzOpen(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOpen(t, data, false) })
}

// FuzzCheck runs the heap checker on damaged copies of a C-made pool.
func FuzzCheck(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOpen(t, data, true) })
}
