package core_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
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

// FuzzNVDIMMSysfs writes arbitrary values into the sysfs attributes the
// NVDIMM queries parse (DIMM list, counters, ids, region and namespace
// bounds, region bad blocks) and runs the queries on a device DAX source:
// each answers or fails with an error, never a panic, and bad blocks stay
// inside the namespace.
func FuzzNVDIMMSysfs(f *testing.F) {
	f.Add("1\n", "nmem2,0,17179869184,0\n", "17\n", "cafe\n", "0x1000000000\n", "0x1000200000\n", "16777216\n", "8 8\n4088 16\n8200 1\n41000 8\n")
	f.Add("2\n", "nmem2,0,0,0\n", "-1\n", "\n", "0x0\n", "0x10\n", "0\n", "1 1\n")
	f.Add("99999999999\n", "../x\n", "18446744073709551615\n", "id", "zz", "0xffffffffffffffff\n", "9223372036854775807\n", "18014398509481983 1\n")
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		f.Skip(err)
	}
	f.Cleanup(func() { null.Close() })
	var st syscall.Stat_t
	if syscall.Fstat(int(null.Fd()), &st) != nil || core.DevString(st.Rdev) != "1:3" {
		f.Skip("/dev/null is not 1:3 here")
	}
	root := sysfsFixture(f, "devdax")
	src, err := core.FromFDIn(int(null.Fd()), root)
	if err != nil {
		f.Fatal(err)
	}
	const (
		region = "devices/ndbus0/region1/"
		dax    = "bus/nd/devices/dax1.0/"
		nmem   = "bus/nd/devices/nmem2/"
	)
	f.Fuzz(func(t *testing.T, mappings, mapping0, usc, id, regionRes, daxRes, daxSize, badblocks string) {
		for p, v := range map[string]string{
			region + "mappings": mappings, region + "mapping0": mapping0, nmem + "dirty_shutdown": usc,
			nmem + "id": id, region + "resource": regionRes, dax + "resource": daxRes, dax + "size": daxSize,
			region + "badblocks": badblocks,
		} {
			writeAttr(t, root, p, v)
		}
		_, _ = src.UnsafeShutdownCount()
		_, _ = src.DeviceID()
		bbs, err := src.BadBlocks()
		if err != nil {
			return
		}
		size, err := strconv.ParseUint(strings.TrimSpace(daxSize), 0, 63)
		if err != nil {
			t.Fatalf("bad blocks %v from an unparsable namespace size %q", bbs, daxSize)
		}
		for _, b := range bbs {
			if b.Offset < 0 || b.Length <= 0 || uint64(b.Offset)+uint64(b.Length) > size {
				t.Fatalf("bad block %+v outside a namespace of %d bytes", b, size)
			}
		}
	})
}
