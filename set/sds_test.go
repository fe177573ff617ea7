package set_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/hal/sysfs/sysfstest"
	"github.com/gopmdk/pmdk/set"
)

// nvdimmFile makes a 4 MiB file on disk (t.TempDir: bad blocks need its
// FIEMAP extents) and a copy of core's fsdax fixture tree in which pmem0 is
// the file's block device: two DIMMs, unsafe shutdown counts 3 and 4.
func nvdimmFile(t *testing.T) (*os.File, fstest.MapFS) {
	t.Helper()
	root := sysfstest.Load(t, filepath.Join("testdata", "fsdax.txtar"))
	path := filepath.Join(t.TempDir(), "part")
	if err := os.WriteFile(path, make([]byte, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	setAttr(t, root, "block/pmem0/dev", fmt.Sprintf("%d:%d\n", unix.Major(st.Dev), unix.Minor(st.Dev)))
	return f, root
}

func setAttr(t *testing.T, root fstest.MapFS, name, val string) {
	t.Helper()
	if err := sysfstest.Set(root, name, []byte(val)); err != nil {
		t.Fatal(err)
	}
}

// source makes a set source of f read through root, with sds.
func source(t *testing.T, f *os.File, root fstest.MapFS, sds *set.SDS, st *set.PartState) *set.Source {
	t.Helper()
	cs, err := core.FromFDIn(int(f.Fd()), root)
	if err != nil {
		t.Fatal(err)
	}
	src := set.FromCore(cs)
	if err := src.SetSDS(sds, st); err != nil {
		t.Fatal(err)
	}
	if err := src.SetSDS(sds, st); !errors.Is(err, set.ErrSDSAlreadySet) {
		t.Fatalf("second SDS: %v", err)
	}
	return src
}

// TestSDSPerPart: the shutdown state of a source through a clean run, an
// interrupted one, an unsafe shutdown while mapped, and a move to other
// DIMMs.
func TestSDSPerPart(t *testing.T) {
	f, root := nvdimmFile(t)
	var sds set.SDS // as the application keeps it durably
	var st set.PartState
	var r recorder
	cfg := set.Config{RequiredGranularity: core.GranularityPage, OnEvent: r.on}

	// A new SDS adopts the devices' id and count; the part counts.
	src := source(t, f, root, &sds, &st)
	s := set.New(cfg)
	if _, err := s.Map(src, set.MapConfig{Length: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if st != set.StateOK || sds.USC != 7 || sds.ID != "8089-a2-1740-000000018089-a2-1740-00000002" || sds.Refcount != 1 {
		t.Fatalf("first part: state %#x, sds %+v", st, sds)
	}
	if got := r.types(); len(got) != 2 || got[0] != set.EventPartAdd || got[1] != set.EventSDSUpdate || r.evs[1].SDS != &sds || r.evs[1].Source != src {
		t.Fatalf("events %v", got)
	}
	// A second part of the same source: already open, not acceptable
	// by default.
	if _, err := s.Map(src, set.MapConfig{Offset: 1 << 20, Length: 1 << 20}); !errors.Is(err, set.ErrUndesirablePartState) || st != set.StateOKButAlreadyOpen {
		t.Fatalf("second part: %v, state %#x", err, st)
	}
	crashed := sds // the durable SDS if the program died now
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if sds.Refcount != 0 || r.evs[len(r.evs)-1].Type != set.EventSDSUpdate {
		t.Fatalf("after close: %+v, last event %v", sds, r.evs[len(r.evs)-1].Type)
	}

	// The next run finds the part count the dead program left:
	// interrupted, refused unless accepted.
	sds = crashed
	src = source(t, f, root, &sds, &st)
	s = set.New(set.Config{RequiredGranularity: core.GranularityPage})
	if _, err := s.Map(src, set.MapConfig{Length: 1 << 20}); !errors.Is(err, set.ErrUndesirablePartState) || st != set.StateOKButInterrupted {
		t.Fatalf("interrupted: %v, state %#x", err, st)
	}
	s = set.New(set.Config{RequiredGranularity: core.GranularityPage, AcceptableStates: set.StateOK | set.StateOKButInterrupted})
	if _, err := s.Map(src, set.MapConfig{Length: 1 << 20}); err != nil || st != set.StateOKButInterrupted {
		t.Fatalf("interrupted, accepted: %v, state %#x", err, st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// An unsafe shutdown while a part was mapped: corrupted.
	setAttr(t, root, "bus/nd/devices/nmem0/nfit/dirty_shutdown", "5\n")
	sds = crashed
	src = source(t, f, root, &sds, &st)
	s = set.New(set.Config{RequiredGranularity: core.GranularityPage, AcceptableStates: set.StateOKButInterrupted})
	if _, err := s.Map(src, set.MapConfig{Length: 1 << 20}); !errors.Is(err, set.ErrUndesirablePartState) || st != set.StateCorrupted {
		t.Fatalf("unsafe shutdown while mapped: %v, state %#x", err, st)
	}
	// With nothing mapped at the time, the new count is adopted.
	sds.Refcount = 0
	if _, err := s.Map(src, set.MapConfig{Length: 1 << 20}); !errors.Is(err, set.ErrUndesirablePartState) || st != set.StateOK || sds.USC != 9 {
		t.Fatalf("unsafe shutdown while closed: %v, state %#x, sds %+v", err, st, sds)
	}

	// Other DIMMs with a part counted: indeterminate.
	setAttr(t, root, "bus/nd/devices/nmem1/nfit/id", "8089-a2-1740-00000009\n")
	sds.Refcount = 1
	s = set.New(set.Config{RequiredGranularity: core.GranularityPage, AcceptableStates: set.StateIndeterminate})
	if _, err := s.Map(src, set.MapConfig{Length: 1 << 20}); err != nil || st != set.StateIndeterminate {
		t.Fatalf("moved: %v, state %#x", err, st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// No NVDIMM under the file: no shutdown state.
	delete(root, "bus/nd/devices/nmem1/nfit/dirty_shutdown")
	sds = set.SDS{}
	src = source(t, f, root, &sds, &st)
	if _, err := set.New(cfg).Map(src, set.MapConfig{Length: 1 << 20}); !errors.Is(err, set.ErrSDSNotSupported) {
		t.Fatalf("DIMM without a count: %v", err)
	}
}

// TestBadBlockDetection: each bad block of a source is reported; the map
// fails unless the callback clears them: Source.ClearBadBlock gives the
// file fresh blocks reading zeros, and the callback also empties the
// fixture's list, as the device would once its poison is cleared.
func TestBadBlockDetection(t *testing.T) {
	f, root := nvdimmFile(t)
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xab}, 4<<20), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	phys, err := firstExtent(f)
	if err != nil {
		t.Skipf("no FIEMAP extent for %s: %v", f.Name(), err)
	}
	setAttr(t, root, "block/pmem0/badblocks", fmt.Sprintf("%d 1\n%d 1\n", phys/512, phys/512+64))
	cs, err := core.FromFDIn(int(f.Fd()), root)
	if err != nil {
		t.Fatal(err)
	}
	src := set.FromCore(cs)
	src.SetBadBlockDetection(true)
	var r recorder
	s := set.New(set.Config{RequiredGranularity: core.GranularityPage, OnEvent: r.on})
	defer s.Close()
	if _, err := s.Map(src, set.MapConfig{Length: 1 << 20}); !errors.Is(err, set.ErrBadBlocks) {
		t.Fatalf("bad blocks not cleared: %v", err)
	}
	if got := r.types(); len(got) != 2 || got[0] != set.EventBadBlock || got[1] != set.EventBadBlock || r.evs[0].Source != src {
		t.Fatalf("events %v", got)
	}
	r.evs = nil
	var cleared []core.BadBlock
	clear := func(s2 *set.Set, ev set.Event) {
		r.on(s2, ev)
		if ev.Type == set.EventBadBlock {
			if err := ev.Source.ClearBadBlock(ev.BadBlock); err != nil {
				t.Error(err)
			}
			cleared = append(cleared, ev.BadBlock)
			if len(cleared) == 2 {
				setAttr(t, root, "block/pmem0/badblocks", "")
			}
		}
	}
	s = set.New(set.Config{RequiredGranularity: core.GranularityPage, OnEvent: clear})
	defer s.Close()
	if _, err := s.Map(src, set.MapConfig{Length: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	want := []set.EventType{set.EventBadBlock, set.EventBadBlock, set.EventBadBlocksCleared, set.EventPartAdd}
	got := r.types()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	data := make([]byte, 4<<20)
	if _, err := f.ReadAt(data, 0); err != nil {
		t.Fatal(err)
	}
	for _, bb := range cleared {
		if !bytes.Equal(data[bb.Offset:bb.Offset+bb.Length], make([]byte, bb.Length)) || data[bb.Offset+bb.Length] != 0xab {
			t.Fatalf("bad block %+v not cleared to zeros alone", bb)
		}
	}
	if err := src.ClearBadBlock(core.BadBlock{Offset: -1, Length: 1}); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("negative offset: %v", err)
	}
}

// firstExtent returns the physical offset of f's first extent (FIEMAP).
func firstExtent(f *os.File) (int64, error) {
	// struct fiemap (32 bytes) and one struct fiemap_extent (56 bytes).
	var buf [32 + 56]byte
	binary.NativeEndian.PutUint64(buf[8:], ^uint64(0)) // fm_length
	binary.NativeEndian.PutUint32(buf[16:], 1)         // fm_flags: FIEMAP_FLAG_SYNC
	binary.NativeEndian.PutUint32(buf[24:], 1)         // fm_extent_count
	const fsIocFiemap = 0xc020660b
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
		return 0, errno
	}
	if binary.NativeEndian.Uint32(buf[20:]) == 0 { // fm_mapped_extents
		return 0, errors.New("no extents")
	}
	return int64(binary.NativeEndian.Uint64(buf[32+8:])), nil // fe_physical
}
