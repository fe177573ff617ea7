package blk

import (
	"encoding/binary"
	"testing"

	"github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core"
	"golang.org/x/sys/unix"
)

// fuzzBase is a laid-out pool image (MinPoolSize bytes, bsize 512, a few
// blocks written) and where its BTT areas are.
type fuzzBase struct {
	img     []byte
	regions [][2]int // start, length of each patchable region
}

func newFuzzBase(t testing.TB) *fuzzBase {
	m := anonMap(t, MinPoolSize)
	p, err := CreateOnMap(m, &Options{BlockSize: 512, Zeroed: true})
	if err != nil {
		t.Fatal(err)
	}
	for lba := range int64(8) {
		if err := p.WriteBlock(pattern(lba, 1+int(lba), 512), lba); err != nil {
			t.Fatal(err)
		}
	}
	p.SetZero(5)
	p.SetError(6)
	img := append([]byte(nil), m.Bytes()...)
	in := layout.DecodeInfo(img[dataOff:])
	return &fuzzBase{img: img, regions: [][2]int{
		{0, dataOff},                                       // pool header and pmemblk descriptor
		{dataOff, layout.InfoSize},                         // BTT info
		{dataOff + int(in.FlogOff), 16384},                 // flog
		{dataOff + int(in.MapOff), 4096},                   // map (first entries)
		{dataOff + int(in.InfoOff), layout.InfoSize},       // backup info
		{dataOff + int(in.DataOff), 8 * layout.MinLBASize}, // first data blocks
	}}
}

func anonMap(t testing.TB, size int) *core.Map {
	t.Helper()
	data, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(data) })
	return core.NewMemoryMap(data, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
}

// patch applies records [region u8][offset u16][n u8][n bytes] to img.
func (fb *fuzzBase) patch(img, data []byte) {
	for len(data) >= 4 {
		r := fb.regions[int(data[0])%len(fb.regions)]
		off := int(binary.LittleEndian.Uint16(data[1:])) % r[1]
		n := int(data[3])
		data = data[4:]
		n = min(n, len(data), r[1]-off)
		copy(img[r[0]+off:], data[:n])
		data = data[n:]
		// Keep the BTT info checksum right half of the time, so the
		// fuzzer gets past it.
		if r[0] == dataOff && len(data) > 0 && data[0]&1 == 1 {
			in := layout.DecodeInfo(img[dataOff:])
			in.Encode(img[dataOff : dataOff+layout.InfoSize])
		}
	}
}

// FuzzOpen patches the pool header, BTT info, flog, map and data of a
// laid-out pool and then opens, reads, checks and writes it: every
// outcome must be an error or a working pool, never a panic or a fault.
func FuzzOpen(f *testing.F) {
	fb := newFuzzBase(f)
	f.Add([]byte{})
	f.Add([]byte{1, 100, 0, 1, 0xff})                     // info checksum
	f.Add([]byte{1, 72, 0, 4, 0, 0, 0, 0, 1})             // nfree 0, resealed
	f.Add([]byte{1, 96, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, 1}) // mapoff huge, resealed
	f.Add([]byte{2, 12, 0, 4, 9, 0, 0, 0})                // bad seq
	f.Add([]byte{2, 0, 0, 4, 0xff, 0xff, 0, 0})           // flog lba out of range
	f.Add([]byte{2, 72, 0, 4, 0xff, 0xff, 0xff, 0xbf})    // flog new_map out of range
	f.Add([]byte{3, 0, 0, 4, 0xff, 0xff, 0xff, 0xcf})     // map entry out of range
	f.Add([]byte{3, 4, 0, 4, 1, 0, 0, 0xc0})              // duplicate map entry
	f.Add([]byte{0, 0, 16, 4, 0, 0, 0, 0})                // bsize 0
	f.Add([]byte{0, 0, 0, 1, 'X'})                        // pool signature
	m := anonMap(f, MinPoolSize)
	f.Fuzz(func(t *testing.T, data []byte) {
		img := m.Bytes()
		copy(img, fb.img)
		fb.patch(img, data)
		p, err := OpenOnMap(m, nil)
		if err != nil {
			return
		}
		buf := make([]byte, p.BSize())
		for _, lba := range []int64{0, 1, 2, 5, 6, 7, 100, p.NBlock() - 1} {
			_ = p.ReadBlock(buf, lba)
		}
		_ = p.Check()
		for _, lba := range []int64{0, 1, 2, 3, 100} {
			_ = p.WriteBlock(buf, lba)
			_ = p.SetZero(lba + 1)
			_ = p.SetError(lba + 2)
		}
		_ = p.Check()
	})
}
