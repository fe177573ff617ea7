package pool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/poolset"
)

// partHeader decodes the header at the start of the part file at path.
func partHeader(t *testing.T, path string) *Header {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, HeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	h, err := DecodeHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSetCreateLinksAndReplicas(t *testing.T) {
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "s.set", "8M {dir}/a0", "8M {dir}/a1", "# replica", "REPLICA", "16M {dir}/b0")
	p, err := Create(set, 0, 0o600, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantSize := int64(8<<20 + 8<<20 - HeaderSize)
	if p.Size() != wantSize || p.Replicas() != 2 {
		t.Fatalf("size %d (want %d), replicas %d", p.Size(), wantSize, p.Replicas())
	}
	// Write across the part boundary and persist: the second part and
	// the replica must hold it.
	b := p.Data()
	at := 8<<20 - HeaderSize - 100
	msg := bytes.Repeat([]byte("gopmdk"), 50)
	copy(b[at:], msg)
	p.Map().Persist(b[at : at+len(msg)])
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	a0, a1, b0 := partHeader(t, dir+"/a0"), partHeader(t, dir+"/a1"), partHeader(t, dir+"/b0")
	for _, h := range []*Header{a0, a1, b0} {
		if err := h.ValidateFormat(Obj); err != nil {
			t.Fatal(err)
		}
		if h.PoolsetUUID != a0.PoolsetUUID {
			t.Fatal("poolset uuid differs")
		}
	}
	if a0.NextPartUUID != a1.UUID || a0.PrevPartUUID != a1.UUID || a1.NextPartUUID != a0.UUID ||
		b0.PrevPartUUID != b0.UUID || b0.NextPartUUID != b0.UUID {
		t.Fatal("part links wrong")
	}
	for _, h := range []*Header{a0, a1} {
		if h.PrevReplUUID != b0.UUID || h.NextReplUUID != b0.UUID {
			t.Fatal("replica links of the primary wrong")
		}
	}
	if b0.PrevReplUUID != a0.UUID || b0.NextReplUUID != a0.UUID {
		t.Fatal("replica links of the replica wrong")
	}
	if a0.SDS.Dirty != 0 || b0.SDS.Dirty != 0 || !a0.SDS.ChecksumOK() || !a1.SDS.IsZero() {
		t.Fatalf("sds %+v %+v %+v", a0.SDS, a1.SDS, b0.SDS)
	}
	// The data: in a1 after its header, in b0 at the same pool offset.
	part1, _ := os.ReadFile(dir + "/a1")
	rep, _ := os.ReadFile(dir + "/b0")
	off1 := HeaderSize + HeaderSize + at - (8 << 20) // offset in a1
	if !bytes.Contains(part1, msg[len(msg)-50:]) || !bytes.Equal(rep[HeaderSize+at:HeaderSize+at+len(msg)], msg) {
		t.Fatalf("data not in part 1 / replica (offset %d)", off1)
	}
	p, err = Open(set, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Data()[at:at+len(msg)], msg) {
		t.Fatal("data lost across reopen")
	}
	p.Close()
	// Read-only: the data is there, stores stay private, the parts are
	// locked all the same.
	before := snapshot(t, dir)
	p, err = Open(set, Obj, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !p.ReadOnly() || !bytes.Equal(p.Data()[at:at+len(msg)], msg) {
		t.Fatal("read-only open")
	}
	if _, err := Open(set, Obj, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("open beside a read-only open: %v", err)
	}
	p.Data()[at] ^= 0xff
	p.Map().Persist(p.Data()[at : at+1])
	p.Close()
	if snapshot(t, dir) != before {
		t.Fatal("a read-only open changed the files")
	}
}

func TestSetSingleHdr(t *testing.T) {
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "s.set", "OPTION SINGLEHDR", "8M {dir}/a0", "8M {dir}/a1")
	p, err := Create(set, 0, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Size() != 16<<20 || p.Header().Incompat&FeatSingleHdr == 0 {
		t.Fatalf("size %d incompat %#x", p.Size(), p.Header().Incompat)
	}
	p.Close()
	if h := partHeader(t, dir+"/a1"); !IsZero(h.Signature[:]) {
		t.Fatal("second part got a header with SINGLEHDR")
	}
	p, err = Open(set, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	// The same files under a poolset without the option: refused.
	set2 := pmemtest.Poolset(t, dir, "s2.set", "8M {dir}/a0", "8M {dir}/a1")
	if _, err := Open(set2, Log, nil); !errors.Is(err, core.ErrCorrupt) {
		t.Fatalf("open without SINGLEHDR: %v", err)
	}
}

// TestSetFaults: every damaged or mismatched poolset gives a clear error,
// and nothing is written to a file that is not a part of the pool.
func TestSetFaults(t *testing.T) {
	dir := pmemtest.Dir(t)
	mk := func(name string, lines ...string) string {
		set := pmemtest.Poolset(t, dir, name+".set", lines...)
		p, err := Create(set, 0, 0o600, Log, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		return set
	}
	x := mk("x", "8M {dir}/x0", "8M {dir}/x1", "REPLICA", "16M {dir}/xr")
	y := mk("y", "8M {dir}/y0", "8M {dir}/y1", "REPLICA", "16M {dir}/yr")
	open := func(lines ...string) error {
		set := pmemtest.Poolset(t, dir, "t.set", lines...)
		p, err := Open(set, Log, nil)
		if err == nil {
			p.Close()
		}
		return err
	}
	for _, c := range []struct {
		name  string
		lines []string
		want  error
		in    string
	}{
		{"part of another poolset", []string{"8M {dir}/x0", "8M {dir}/y1", "REPLICA", "16M {dir}/xr"}, core.ErrCorrupt, "uuid"},
		{"parts swapped", []string{"8M {dir}/x1", "8M {dir}/x0", "REPLICA", "16M {dir}/xr"}, core.ErrCorrupt, ""},
		{"stale replica", []string{"8M {dir}/x0", "8M {dir}/x1", "REPLICA", "16M {dir}/yr"}, core.ErrCorrupt, "uuid"},
		{"replica missing from the set", []string{"8M {dir}/x0", "8M {dir}/x1"}, core.ErrCorrupt, "repl_uuid"},
		{"missing part", []string{"8M {dir}/x0", "8M {dir}/gone", "REPLICA", "16M {dir}/xr"}, fs.ErrNotExist, "gone"},
		{"wrong size", []string{"8M {dir}/x0", "16M {dir}/x1", "REPLICA", "16M {dir}/xr"}, ErrPartSize, "x1"},
		{"part twice", []string{"8M {dir}/x0", "REPLICA", "8M {dir}/x0"}, fs.ErrInvalid, "listed twice"},
		{"too small part", []string{"1M {dir}/x0"}, ErrPartSize, "x0"},
		{"remote replica", []string{"8M {dir}/x0", "8M {dir}/x1", "REPLICA node set.set"}, ErrRemoteReplica, ""},
		{"nohdrs", []string{"OPTION NOHDRS", "8M {dir}/x0"}, ErrPoolsetNotSupported, "NOHDRS"},
		{"syntax", []string{"8M relative"}, poolset.ErrSyntax, ":2:"},
	} {
		before := snapshot(t, dir)
		err := open(c.lines...)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.in) {
			t.Errorf("%s: %v, want %v containing %q", c.name, err, c.want, c.in)
		}
		if after := snapshot(t, dir); after != before {
			t.Errorf("%s: a failed open changed files", c.name)
		}
	}
	if p, err := Open(x, Log, nil); err != nil {
		t.Fatal(err)
	} else {
		p.Close()
	}
	_ = y
	// A part deleted between runs.
	if err := os.Remove(dir + "/y1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(y, Log, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("deleted part: %v", err)
	}
	if _, err := os.Stat(dir + "/y1"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("open recreated a deleted part")
	}
	// Create over parts that are in use by another pool: refused, and
	// the existing parts are untouched.
	before := snapshot(t, dir)
	set := pmemtest.Poolset(t, dir, "c.set", "8M {dir}/new0", "8M {dir}/x1")
	if _, err := Create(set, 0, 0o600, Log, nil); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("create over a used part: %v", err)
	}
	if _, err := os.Stat(dir + "/new0"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("failed create left a part it created")
	}
	if snapshot(t, dir) != before {
		t.Fatal("failed create changed files")
	}
	// Locked: a second open of the same set.
	p, err := Open(x, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(x, Log, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	p.Close()
}

// snapshot summarises every file in dir but poolset files: name, size,
// modification time (stores through a mapping update it too) and a
// checksum of the header area.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".set") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		h := make([]byte, 2*HeaderSize)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		f.ReadAt(h, 0)
		f.Close()
		fmt.Fprintf(&sb, "%s %d %d %x\n", e.Name(), st.Size(), st.ModTime().UnixNano(), Checksum(h, -1, 0))
	}
	return sb.String()
}

// TestSetReplicaRepair: a replica that lags the primary (a crash between
// their persists) is brought up to date by the next open.
func TestSetReplicaRepair(t *testing.T) {
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "s.set", "8M {dir}/a0", "REPLICA", "8M {dir}/b0")
	p, err := Create(set, 0, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	f, err := os.OpenFile(dir+"/a0", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("only in the primary"), 3<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p, err = Open(set, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	b, _ := os.ReadFile(dir + "/b0")
	if string(b[3<<20:3<<20+19]) != "only in the primary" {
		t.Fatal("replica not repaired")
	}
}

// TestSetSDSPerReplica: each replica's first part records the sums over
// its parts (C's shutdown_state_add_part); an unsafe shutdown under one
// replica's devices refuses the open, naming the replica.
func TestSetSDSPerReplica(t *testing.T) {
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "s.set", "8M {dir}/a0", "8M {dir}/a1", "REPLICA", "16M {dir}/b0")
	// Every part file sits on a DIMM with USC 5 whose id is its name.
	dev := func(usc uint64) func(f *os.File) (Device, error) {
		return func(f *os.File) (Device, error) { return fake{usc: usc, id: filepath.Base(f.Name())}, nil }
	}
	p, err := Create(set, 0, 0o600, Log, &Options{device: dev(5)})
	if err != nil {
		t.Fatal(err)
	}
	// A crash: the parts as they are while open (dirty).
	crashed := map[string][]byte{}
	for _, n := range []string{"a0", "a1", "b0"} {
		crashed[n], _ = os.ReadFile(filepath.Join(dir, n))
	}
	p.Close()
	a0, b0 := partHeader(t, dir+"/a0"), partHeader(t, dir+"/b0")
	if want := DeviceIDChecksum("a0", true) + DeviceIDChecksum("a1", true); a0.SDS.USC != 10 || a0.SDS.DeviceID != want || a0.SDS.Dirty != 0 {
		t.Fatalf("primary SDS %+v, want USC 10 and id sum %#x", a0.SDS, want)
	}
	if b0.SDS.USC != 5 || b0.SDS.DeviceID != DeviceIDChecksum("b0", true) {
		t.Fatalf("replica SDS %+v", b0.SDS)
	}
	for n, b := range crashed {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The replica's DIMM lost power while the pool was open.
	replicaLost := func(f *os.File) (Device, error) {
		usc := uint64(5)
		if filepath.Base(f.Name()) == "b0" {
			usc = 6
		}
		return fake{usc: usc, id: filepath.Base(f.Name())}, nil
	}
	if _, err := Open(set, Log, &Options{device: replicaLost}); !errors.Is(err, ErrUnsafeShutdown) || !strings.Contains(err.Error(), "replica 1") {
		t.Fatalf("open after an unsafe shutdown of the replica: %v", err)
	}
	if p, err = Open(set, Log, &Options{device: replicaLost, IgnoreSDS: true}); err != nil {
		t.Fatal(err)
	}
	p.Close()
}

// FuzzOpenOnMaps: a replicated pool whose headers the fuzzer damages (a
// byte string XORed into the header of the primary or of the replica,
// the header checksum optionally fixed up so the link checks are reached)
// opens or fails with an error, never panics; a pool that opens has the
// links it was made with.
func FuzzOpenOnMaps(f *testing.F) {
	f.Add(uint8(0), uint16(offPoolsetUUID), []byte{1}, true)
	f.Add(uint8(1), uint16(offNextReplUUID), []byte{0xff, 0, 3}, true)
	f.Add(uint8(1), uint16(offIncompat), []byte{1}, false)
	f.Add(uint8(0), uint16(offSDS), []byte{9, 9, 9}, false)
	const size = 2 << 20
	var clean [2][]byte
	{
		mems := [2][]byte{make([]byte, size), make([]byte, size)}
		maps := []*core.Map{
			core.NewMemoryMap(mems[0], core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil),
			core.NewMemoryMap(mems[1], core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil),
		}
		p, err := CreateOnMaps(maps, Log, nil)
		if err != nil {
			f.Fatal(err)
		}
		p.Close()
		clean = [2][]byte{mems[0][:HeaderSize], mems[1][:HeaderSize]}
	}
	f.Fuzz(func(t *testing.T, which uint8, at uint16, xor []byte, fix bool) {
		mems := [2][]byte{make([]byte, size), make([]byte, size)}
		copy(mems[0], clean[0])
		copy(mems[1], clean[1])
		h := mems[which%2][:HeaderSize]
		for i, b := range xor {
			h[(int(at)+i)%HeaderSize] ^= b
		}
		if fix {
			binary.LittleEndian.PutUint64(h[offChecksum:], headerChecksum(h, binary.LittleEndian.Uint32(h[offIncompat:])))
		}
		maps := []*core.Map{
			core.NewMemoryMap(mems[0], core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil),
			core.NewMemoryMap(mems[1], core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil),
		}
		p, err := OpenOnMaps(maps, Log, &Options{IgnoreSDS: true})
		if err != nil {
			if !errors.Is(err, core.ErrCorrupt) && !errors.Is(err, ErrTooSmall) && !refusedAsNotCorrupt(err) {
				t.Fatalf("open error %v: not corruption nor a refusal", err)
			}
			return
		}
		defer p.Close()
		h0, _ := DecodeHeader(mems[0])
		h1, _ := DecodeHeader(mems[1])
		if h0.PoolsetUUID != h1.PoolsetUUID || h0.NextReplUUID != h1.UUID || h1.NextReplUUID != h0.UUID {
			t.Fatal("opened a replicated pool with broken links")
		}
	})
}
