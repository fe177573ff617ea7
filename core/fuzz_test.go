package core_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/gopmdk/pmdk/core"
)

// FuzzNewMapConfig feeds arbitrary configs to NewMap over a small file and
// an anonymous source: the result is a mapping of exactly the asked range,
// or an error wrapping one of core's sentinels, never a panic.
func FuzzNewMapConfig(f *testing.F) {
	page := int64(os.Getpagesize())
	f.Add(int64(0), int64(0), uint8(2), uint8(0), uint8(0), false)
	f.Add(page, 2*page, uint8(2), uint8(1), uint8(1), true)
	f.Add(int64(100), int64(0), uint8(0), uint8(0), uint8(8), false)
	f.Add(7*page, page, uint8(1), uint8(0), uint8(3), false)
	f.Add(int64(-4096), int64(1)<<62, uint8(9), uint8(5), uint8(0xff), true)
	path := f.TempDir() + "/pool"
	if err := os.WriteFile(path, make([]byte, 8*page), 0o600); err != nil {
		f.Fatal(err)
	}
	file, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { file.Close() })
	fileSrc, err := core.FromFile(file)
	if err != nil {
		f.Fatal(err)
	}
	anonSrc, _ := core.Anonymous(8 * page)
	sentinels := []error{core.ErrGranularityNotSupported, core.ErrOffsetUnaligned, core.ErrLengthUnaligned,
		core.ErrMapRange, core.ErrInvalidArgument}
	f.Fuzz(func(t *testing.T, off, length int64, gran, sharing, prot uint8, anon bool) {
		src := fileSrc
		if anon {
			src = anonSrc
		}
		cfg := &core.Config{Offset: off, Length: length, RequiredGranularity: core.Granularity(gran),
			Sharing: core.Sharing(sharing & 0x7f), Protection: core.Protection(prot), ForcePmem: sharing&0x80 != 0}
		m, err := core.NewMap(src, cfg)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			if _, ok := errors.AsType[syscall.Errno](err); ok {
				return // e.g. PROT_EXEC on a noexec mount
			}
			t.Fatalf("%+v: error wraps no sentinel: %v", cfg, err)
		}
		defer m.Close()
		want := length
		if want == 0 {
			want = 8*page - off
		}
		if int64(m.Size()) != want || m.Offset() != off || m.Granularity() > cfg.RequiredGranularity {
			t.Fatalf("%+v: got size %d offset %d granularity %v", cfg, m.Size(), m.Offset(), m.Granularity())
		}
	})
}
