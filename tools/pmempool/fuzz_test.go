package pmempool

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/blk"
	pmemlog "github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/obj"
)

var (
	fuzzOnce sync.Once
	fuzzTpl  [4][]byte // log, blk with layout, blk without layout, obj
	fuzzErr  error
)

// fuzzTemplates builds minimum-size pools once per process.
func fuzzTemplates(dir string) error {
	fuzzOnce.Do(func() {
		lp := filepath.Join(dir, "tpl.log")
		l, err := pmemlog.Create(lp, pmemlog.MinPoolSize, 0o644, nil)
		if err == nil {
			err = l.Append([]byte("fuzz"))
			l.Close()
		}
		if err != nil {
			fuzzErr = err
			return
		}
		bp := filepath.Join(dir, "tpl.blk")
		b, err := blk.Create(bp, blk.MinPoolSize, 0o644, &blk.Options{BlockSize: 512})
		if err != nil {
			fuzzErr = err
			return
		}
		b0, _ := os.ReadFile(bp)
		if err = b.WriteBlock(make([]byte, 512), 1); err != nil {
			fuzzErr = err
			return
		}
		b.Close()
		b1, _ := os.ReadFile(bp)
		l0, _ := os.ReadFile(lp)
		op := filepath.Join(dir, "tpl.obj")
		if fuzzErr = fuzzObj(op); fuzzErr != nil {
			return
		}
		o0, _ := os.ReadFile(op)
		fuzzTpl = [4][]byte{l0, b1, b0, o0}
	})
	return fuzzErr
}

// fuzzObj makes a minimum-size obj pool with a root, objects in runs of
// several sizes and types, a huge object, and a hole from a free.
func fuzzObj(path string) error {
	p, err := obj.Create(path, obj.MinPoolSize, 0o644, &obj.Options{Layout: "fuzz", Arenas: 1})
	if err != nil {
		return err
	}
	defer p.Close()
	if _, err := p.Root(100); err != nil {
		return err
	}
	var last obj.OID
	for i := range 20 {
		if last, err = p.Zalloc([]int{1, 200}[i%2], uint64(i%3)); err != nil {
			return err
		}
	}
	if _, err := p.Zalloc(300<<10, 7); err != nil {
		return err
	}
	return p.Free(last)
}

// FuzzCheck damages small log and blk pools at two places (offsets wrap
// around the file; the BTT areas of blk pools are reachable) and checks
// and repairs them: never a panic (which Check reports as ErrInternal), and
// a repaired pool checks again without an internal error.
func FuzzCheck(f *testing.F) {
	f.Add(uint8(0), uint32(0), []byte("X"), uint32(4112), []byte{0xff, 0xff, 0xff, 0xff, 0xff}, true)
	f.Add(uint8(1), uint32(8192+96), []byte{0xff, 0xff, 0xff, 0x7f}, uint32(0), []byte{}, false)
	f.Add(uint8(1), uint32(8192+72), []byte{0, 0, 0, 0}, uint32(8192+4088), []byte{1}, true)
	f.Add(uint8(2), uint32(4096), []byte{0, 0x10}, uint32(16<<20), []byte("BTT_ARENA_INFO"), true)
	f.Add(uint8(1), uint32(0xffffffff), []byte{1, 2, 3, 4, 5, 6, 7, 8}, uint32(8192+80), []byte{0, 0, 0, 0, 0, 0, 0, 1}, true)
	// obj: the descriptor's nlanes, a chunk header and a run header.
	f.Add(uint8(3), uint32(0x1408), []byte{0xff, 0xff}, uint32(0x302444), []byte{0xff, 0xff, 0, 0}, true)
	f.Add(uint8(3), uint32(0x382400), []byte{0, 0, 0, 0, 0, 0, 0, 0}, uint32(0x302440), []byte{4, 0, 9, 0, 0x10, 0, 0, 0}, false)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, kind uint8, off1 uint32, p1 []byte, off2 uint32, p2 []byte, repair bool) {
		if err := fuzzTemplates(dir); err != nil {
			t.Skip(err)
		}
		img := append([]byte(nil), fuzzTpl[int(kind)%len(fuzzTpl)]...)
		n := uint64(len(img))
		for _, p := range []struct {
			off uint32
			b   []byte
		}{{off1, p1}, {off2, p2}} {
			// Offsets near the end count from the end, where the BTT map,
			// flog and backup info live.
			o := uint64(p.off)
			if o >= 1<<31 {
				o = n - (o-1<<31)%n - 1
			}
			o %= n
			copy(img[o:], p.b)
		}
		path := filepath.Join(t.TempDir(), "pool")
		if err := os.WriteFile(path, img, 0o644); err != nil {
			t.Fatal(err)
		}
		res, msgs, err := Check(path, &CheckOptions{Verbose: true})
		if errors.Is(err, ErrInternal) {
			t.Fatalf("check: %v %v", err, msgs)
		}
		if !repair {
			return
		}
		res, msgs, err = Check(path, &CheckOptions{Repair: true, Yes: true, Advanced: true, Verbose: true})
		if errors.Is(err, ErrInternal) {
			t.Fatalf("repair: %v %v", err, msgs)
		}
		if res == Repaired {
			if _, msgs, err := Check(path, nil); errors.Is(err, ErrInternal) {
				t.Fatalf("check after repair: %v %v", err, msgs)
			}
		}
	})
}

// FuzzInfo prints damaged pools with every option of pmempool info: an
// error or text, never a panic.
func FuzzInfo(f *testing.F) {
	f.Add(uint8(1), uint32(8192+96), []byte{0xff, 0xff, 0xff, 0x7f}, "0-10")
	f.Add(uint8(1), uint32(8192+60), []byte{0xff, 0xff, 0xff, 0xff}, "")
	f.Add(uint8(0), uint32(4112), []byte{0xff, 0xff, 0xff, 0xff, 0xff}, "3-")
	f.Add(uint8(1), uint32(8192+88), []byte{0, 0, 0, 0, 0, 0, 0, 0x40}, "-5")
	f.Add(uint8(2), uint32(8192), []byte("BTT_ARENA_INFO"), "1,2,3")
	f.Add(uint8(3), uint32(0x1800), []byte{0, 0x24, 0x38, 0, 0, 0, 0, 0}, "0-3")                  // root offset
	f.Add(uint8(3), uint32(0x302440), []byte{4, 0, 9, 0, 0xff, 0xff, 0, 0}, "")                   // chunk 0: a huge run
	f.Add(uint8(3), uint32(0x382400), []byte{0, 0, 0, 0, 0, 0, 0, 0}, "1-")                       // a run's block size 0
	f.Add(uint8(3), uint32(0x302400), []byte{0xd2, 0xa2, 0xf0, 0xc3, 0xff, 0xff, 0xff, 0xff}, "") // zone 0's size
	f.Add(uint8(3), uint32(0x1820), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "0")  // heap size
	f.Add(uint8(3), uint32(0x2000+0x110), []byte{0, 0, 0, 1, 0, 0, 0, 0}, "")                     // lane 0's undo capacity
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, kind uint8, off uint32, p []byte, rng string) {
		if err := fuzzTemplates(dir); err != nil {
			t.Skip(err)
		}
		img := append([]byte(nil), fuzzTpl[int(kind)%len(fuzzTpl)]...)
		copy(img[uint64(off)%uint64(len(img)):], p)
		path := filepath.Join(t.TempDir(), "pool")
		if err := os.WriteFile(path, img, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, walk := range []uint64{0, 7} {
			o := &InfoOptions{Data: true, Map: true, Flog: true, Backup: true, Range: rng, Walk: walk, Stats: true, HeadersHex: true}
			_ = WriteInfo(&limitWriter{n: 1 << 18}, path, o)
		}
		// obj: every part of the pool, read as obj whatever it is.
		for _, r := range []string{"", rng} {
			o := &InfoOptions{Type: TypeObj, Data: true, Stats: true, HeadersHex: true, Verbose: true, Range: r,
				Obj: ObjOptions{Lanes: true, LaneRange: "0-2", Objects: true, AllocHeader: true, Root: true, Heap: true,
					Zones: true, ZoneRange: rng, Chunks: true, ChunkRange: r, ChunkTypes: "footer,free,used,run", Bitmap: true, Types: r}}
			_ = WriteInfo(&limitWriter{n: 1 << 18}, path, o)
		}
		if _, err := Info(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			_ = err // a refusal is fine; a panic is not
		}
	})
}

// limitWriter takes n bytes, then fails: listings of a huge damaged map
// stop there.
type limitWriter struct{ n int }

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		l.n = 0
		return 0, io.ErrShortWrite
	}
	l.n -= len(p)
	return len(p), nil
}
