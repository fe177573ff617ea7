package pool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

const testSize = 8 << 20

// readHeader decodes the header of the file at path from disk.
func readHeader(t *testing.T, path string) *Header {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := DecodeHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCreateOpenClose(t *testing.T) {
	path := pmemtest.Path(t, "log")
	p, err := Create(path, testSize, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Size() != testSize || p.ReadOnly() {
		t.Fatalf("size %d readonly %v", p.Size(), p.ReadOnly())
	}
	h := readHeader(t, path)
	if h.SDS.Dirty != 1 || !h.SDS.ChecksumOK() {
		t.Fatalf("open pool: SDS %+v, want dirty with valid checksum", h.SDS)
	}
	if err := h.Validate(Log); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("perm %v", st.Mode())
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if h := readHeader(t, path); !h.SDS.IsZero() {
		t.Fatalf("closed pool: SDS %+v, want all zero as C leaves it", h.SDS)
	}
	p, err = Open(path, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header().UUID != h.UUID {
		t.Fatal("reopen: different UUID")
	}
	if _, err := Open(path, Log, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open in the same process: %v, want ErrLocked", err)
	}
	p.Close()
	_, err = Open(path, Blk, nil)
	if !errors.Is(err, ErrWrongType) || errors.Is(err, core.ErrCorrupt) || !strings.Contains(err.Error(), `wrong pool type: "PMEMLOG"`) {
		t.Fatalf("log pool opened as blk: %v, want ErrWrongType, not corruption", err)
	}
	if want := "open " + path + `: wrong pool type: "PMEMLOG"`; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

func TestCreateErrors(t *testing.T) {
	dir := pmemtest.Dir(t)
	path := dir + "/p"
	if _, err := Create(path, Log.MinSize-4096, 0o600, Log, nil); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("small: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a failed create left a file")
	}
	p, err := Create(path, testSize, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := Create(path, testSize, 0o600, Log, nil); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("create over existing: %v", err)
	}
	// size 0: the existing file, which must be empty.
	if _, err := Create(path, 0, 0o600, Log, nil); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("size 0 on a pool: %v", err)
	}
	empty := dir + "/empty"
	if err := os.WriteFile(empty, make([]byte, testSize+100), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err = Create(empty, 0, 0, Log, nil)
	if err != nil {
		t.Fatalf("size 0 on a zero file: %v", err)
	}
	if p.Size() != testSize {
		t.Fatalf("size %d, want rounded down to %d", p.Size(), testSize)
	}
	p.Close()
}

func TestOpenTruncatedAndEmpty(t *testing.T) {
	dir := pmemtest.Dir(t)
	path := dir + "/p"
	p, err := Create(path, testSize, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	for _, n := range []int64{0, 100, HeaderSize, Log.MinSize - 1} {
		if err := os.Truncate(path, n); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, Log, nil); !errors.Is(err, ErrTooSmall) || errors.Is(err, core.ErrCorrupt) {
			t.Fatalf("size %d: %v, want ErrTooSmall", n, err)
		}
	}
	_, err = Open(dir+"/missing", Log, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	if want := "open " + dir + "/missing: no such file or directory"; err.Error() != want {
		t.Fatalf("error %q, want %q (the path once)", err, want)
	}
	for _, ro := range []bool{false, true} {
		if _, err := Open(dir, Log, &Options{ReadOnly: ro}); !errors.Is(err, syscall.EISDIR) {
			t.Fatalf("directory, read-only %v: %v, want EISDIR", ro, err)
		}
	}
}

func TestReadOnlyOpenLeavesFile(t *testing.T) {
	path := pmemtest.Path(t, "p")
	p, err := Create(path, testSize, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	before, _ := os.ReadFile(path)
	p, err = Open(path, Log, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !p.ReadOnly() {
		t.Fatal("not read-only")
	}
	p.Data()[0] = 0xaa // private mapping: must not reach the file
	if err := p.WriteHeader(&Header{}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("WriteHeader read-only: %v", err)
	}
	p.Close()
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("read-only open changed the file")
	}
}

func TestUnknownFeatures(t *testing.T) {
	path := pmemtest.Path(t, "p")
	p, err := Create(path, testSize, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := p.Header()
	h.ROCompat = 0x10
	h.Compat |= 0x100
	if err := p.WriteHeader(&h); err != nil {
		t.Fatal(err)
	}
	p.Close()
	p, err = Open(path, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.ReadOnly() {
		t.Fatal("unknown ro_compat: not forced read-only")
	}
	if p.Header().SDS.Dirty != 1 {
		t.Fatal("forced read-only: SDS not marked dirty as C does")
	}
	p.Close()
	p, _ = Open(path, Log, &Options{ReadOnly: true})
	p.Close()
	rw, err := Open(path, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Reset to writable and set an unknown incompat bit.
	h = rw.Header()
	rw.Close()
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	h.ROCompat = 0
	h.Incompat |= 0x80
	b := make([]byte, HeaderSize)
	h.Encode(b)
	f.WriteAt(b, 0)
	f.Close()
	if _, err := Open(path, Log, nil); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("unknown incompat: %v", err)
	}
}

// fake is a Device with fixed answers.
type fake struct {
	usc    uint64
	id     string
	uscErr error
	idErr  error
}

func (d fake) UnsafeShutdownCount() (uint64, error) { return d.usc, d.uscErr }
func (d fake) DeviceID() (string, error)            { return d.id, d.idErr }

// fakeDevice reports a fixed unsafe shutdown count and device id.
func fakeDevice(usc uint64, id string) func(*os.File) (Device, error) {
	return func(*os.File) (Device, error) { return fake{usc: usc, id: id}, nil }
}

func TestSDSUnsafeShutdown(t *testing.T) {
	path := pmemtest.Path(t, "p")
	dev := fakeDevice(7, "dimm-1")
	p, err := Create(path, testSize, 0o600, Log, &Options{device: dev})
	if err != nil {
		t.Fatal(err)
	}
	h := p.Header()
	if h.SDS.USC != 7 || h.SDS.DeviceID != DeviceIDChecksum("dimm-1", true) || h.SDS.Dirty != 1 {
		t.Fatalf("SDS at create %+v", h.SDS)
	}
	// Simulate a crash: copy the file while open (dirty), then close.
	crashed, _ := os.ReadFile(path)
	p.Close()
	if h := readHeader(t, path); h.SDS.Dirty != 0 || h.SDS.USC != 7 || !h.SDS.ChecksumOK() {
		t.Fatalf("SDS after close %+v", h.SDS)
	}
	restore := func() {
		t.Helper()
		if err := os.WriteFile(path, crashed, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		dev  func(*os.File) (Device, error)
		opt  Options
		want error
	}{
		{"same USC, unclean close", dev, Options{}, nil},
		{"USC changed while open", fakeDevice(8, "dimm-1"), Options{}, ErrUnsafeShutdown},
		{"device changed while open", fakeDevice(7, "dimm-2"), Options{}, ErrUnsafeShutdown},
		{"USC changed, IgnoreSDS", fakeDevice(8, "dimm-1"), Options{IgnoreSDS: true}, nil},
		{"USC changed, read-only", fakeDevice(8, "dimm-1"), Options{ReadOnly: true}, ErrUnsafeShutdown},
		{"USC read error", func(*os.File) (Device, error) { return fake{uscErr: fs.ErrPermission}, nil }, Options{}, fs.ErrPermission},
		{"id read error", func(*os.File) (Device, error) { return fake{idErr: fs.ErrPermission}, nil }, Options{}, fs.ErrPermission},
		{"USC not supported, same id: C's zero USC differs from 7", func(*os.File) (Device, error) {
			return fake{uscErr: core.ErrNotSupported, id: "dimm-1"}, nil
		}, Options{}, ErrUnsafeShutdown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			restore()
			c.opt.device = c.dev
			p, err := Open(path, Log, &c.opt)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if err == nil {
				p.Close()
			}
		})
	}
	// A clean close followed by a USC change reinitialises.
	restore()
	p, err = Open(path, Log, &Options{device: dev})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	p, err = Open(path, Log, &Options{device: fakeDevice(9, "dimm-1")})
	if err != nil {
		t.Fatalf("USC changed while closed: %v", err)
	}
	if h := p.Header(); h.SDS.USC != 9 || h.SDS.Dirty != 1 {
		t.Fatalf("SDS not reinitialised: %+v", h.SDS)
	}
	p.Close()
	// A torn SDS (bad checksum) is reinitialised, even with a new USC.
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{1, 0xee}, offSDS+16)
	f.Close()
	p, err = Open(path, Log, &Options{device: fakeDevice(10, "dimm-1")})
	if err != nil {
		t.Fatalf("torn SDS: %v", err)
	}
	p.Close()
}

func TestOnMap(t *testing.T) {
	mem := make([]byte, testSize)
	m := core.NewMemoryMap(mem, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
	p, err := CreateOnMap(m, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := CreateOnMap(core.NewMemoryMap(mem, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil), Obj, nil); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("create over a pool: %v", err)
	}
	m = core.NewMemoryMap(mem, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
	p, err = OpenOnMap(m, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header().SDS.Dirty != 1 {
		t.Fatal("SDS not dirty while open")
	}
	p.Close()
	small := core.NewMemoryMap(mem[:HeaderSize], core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
	if _, err := OpenOnMap(small, Obj, nil); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("small map: %v", err)
	}
}

// TestLockAcrossProcesses re-executes the test binary as a child that tries
// to open a pool the parent holds open.
func TestLockAcrossProcesses(t *testing.T) {
	if path := os.Getenv("GOPMDK_POOL_LOCK_CHILD"); path != "" {
		_, err := Open(path, Log, nil)
		fmt.Printf("child: %v\n", err)
		if errors.Is(err, ErrLocked) {
			os.Exit(3)
		}
		os.Exit(0)
	}
	path := pmemtest.Path(t, "p")
	p, err := Create(path, testSize, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	child := func() int {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockAcrossProcesses$")
		cmd.Env = append(os.Environ(), "GOPMDK_POOL_LOCK_CHILD="+path)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return 0
	}
	if code := child(); code != 3 {
		t.Fatalf("child opened a locked pool (exit %d)", code)
	}
	p.Close()
	if code := child(); code != 0 {
		t.Fatalf("child could not open the released pool (exit %d)", code)
	}
}

// TestConcurrentOpensOneWins: goroutines racing to open one pool: exactly
// one gets it, the others ErrLocked; after its Close the next one can.
func TestConcurrentOpensOneWins(t *testing.T) {
	path := pmemtest.Path(t, "p")
	p, err := Create(path, testSize, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	const n = 8
	results := make(chan *Pool, n)
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			p, err := Open(path, Log, nil)
			if err != nil {
				errs <- err
				return
			}
			results <- p
		}()
	}
	close(start)
	var winners []*Pool
	for range n {
		select {
		case p := <-results:
			winners = append(winners, p)
		case err := <-errs:
			if !errors.Is(err, ErrLocked) {
				t.Errorf("loser: %v, want ErrLocked", err)
			}
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d opens succeeded, want 1", len(winners))
	}
	winners[0].Close()
	p, err = Open(path, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
}
