package blk

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
)

// pattern is the content the tests write to block lba in generation gen
// (the C peer in testdata/cpeer.c computes the same bytes). gen 0 is all
// zeros.
func pattern(lba int64, gen int, n int) []byte {
	p := make([]byte, n)
	if gen == 0 {
		return p
	}
	for i := range p {
		p[i] = byte(lba ^ int64(i*7) ^ int64(gen))
	}
	p[0] = byte(gen)
	return p
}

func mustRead(t testing.TB, p *Pool, lba int64, gen int) {
	t.Helper()
	buf := make([]byte, p.BSize())
	if err := p.ReadBlock(buf, lba); err != nil {
		t.Fatalf("read %d: %v", lba, err)
	}
	if !bytes.Equal(buf, pattern(lba, gen, p.BSize())) {
		t.Fatalf("block %d: got gen %d, want %d", lba, buf[0], gen)
	}
}

func TestCreateWriteReopen(t *testing.T) {
	path := pmemtest.Path(t, "p.blk")
	p, err := Create(path, 32<<20, 0o600, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if p.NBlock() != 64700 || p.BSize() != 512 {
		t.Fatalf("NBlock %d BSize %d, C gives 64700 and 512", p.NBlock(), p.BSize())
	}
	mustRead(t, p, 10, 0)
	for lba := range int64(8) {
		if err := p.WriteBlock(pattern(lba, 1, 512), lba); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.SetZero(2); err != nil {
		t.Fatal(err)
	}
	if err := p.SetError(3); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteBlock(pattern(0, 1, 512), p.NBlock()); !errors.Is(err, ErrRange) {
		t.Fatalf("write past the end: %v", err)
	}
	if err := p.WriteBlock(pattern(0, 1, 512), -1); !errors.Is(err, ErrRange) {
		t.Fatalf("write at -1: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.ReadBlock(make([]byte, 512), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}

	if _, err := Open(path, &Options{BlockSize: 4096}); !errors.Is(err, ErrBlockSize) {
		t.Fatalf("open with bsize 4096: %v", err)
	}
	p, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mustRead(t, p, 1, 1)
	mustRead(t, p, 2, 0)
	mustRead(t, p, 7, 1)
	if err := p.ReadBlock(make([]byte, 512), 3); !errors.Is(err, ErrBlockError) {
		t.Fatalf("read of error block: %v", err)
	}
	if probs := p.Check(); len(probs) != 0 {
		t.Fatalf("check: %v", probs)
	}
}

func TestCreateArguments(t *testing.T) {
	dir := pmemtest.Dir(t)
	if _, err := Create(dir+"/n", 32<<20, 0o600, &Options{BlockSize: -1}); !errors.Is(err, ErrBlockSize) {
		t.Fatalf("bsize -1: %v", err)
	}
	for name, o := range map[string]*Options{"a": {BlockSize: 0}, "nil": nil} {
		p, err := Create(dir+"/"+name, 32<<20, 0o600, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.BSize() != DefaultBlockSize {
			t.Fatalf("%s: block size %d, want DefaultBlockSize", name, p.BSize())
		}
		p.Close()
	}
	if _, err := Create(dir+"/b", MinPoolSize-4096, 0o600, &Options{BlockSize: 512}); err == nil {
		t.Fatal("pool below MinPoolSize created")
	}
	p, err := Create(dir+"/c", MinPoolSize, 0o600, &Options{BlockSize: 100})
	if err != nil {
		t.Fatalf("minimum pool with small blocks: %v", err)
	}
	defer p.Close()
	if p.BSize() != 100 {
		t.Fatalf("BSize %d", p.BSize())
	}
	if err := p.WriteBlock(pattern(5, 3, 100), 5); err != nil {
		t.Fatal(err)
	}
	mustRead(t, p, 5, 3)
}

func TestCheckReadOnly(t *testing.T) {
	path := pmemtest.Path(t, "p.blk")
	p, err := Create(path, 32<<20, 0o600, &Options{BlockSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteBlock(pattern(1, 1, 4096), 1); err != nil {
		t.Fatal(err)
	}
	p.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := Check(path, nil)
	if err != nil || len(probs) != 0 {
		t.Fatalf("check: %v %v", probs, err)
	}
	probs, err = Check(path, &Options{BlockSize: 512})
	if err != nil || len(probs) != 1 || !errors.Is(probs[0], ErrBlockSize) {
		t.Fatalf("check with the wrong bsize: %v %v", probs, err)
	}
	after, _ := os.ReadFile(path)
	// The SDS is not touched by a read-only open either.
	if !bytes.Equal(before, after) {
		t.Fatal("Check changed the pool file")
	}
	// Break the BTT info checksum: Check names it.
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{0xff}, dataOff+200)
	f.Close()
	probs, err = Check(path, nil)
	if err != nil || len(probs) == 0 || !errors.Is(probs[0], core.ErrCorrupt) {
		t.Fatalf("check of a bad info block: %v %v", probs, err)
	}
	t.Log(probs[0])
}

// TestReadOnlyPool: a pool with an unknown ro_compat feature opens
// read-only (core/pool decides): reads work, every change is refused.
func TestReadOnlyPool(t *testing.T) {
	path := pmemtest.Path(t, "ro.blk")
	p, err := Create(path, 32<<20, 0o600, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteBlock(pattern(1, 1, 512), 1); err != nil {
		t.Fatal(err)
	}
	p.Close()
	pp, err := pool.Open(path, pool.Blk, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := pp.Header()
	h.ROCompat |= 0x100
	if err := pp.WriteHeader(&h); err != nil {
		t.Fatal(err)
	}
	pp.Close()

	p, err = Open(path, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mustRead(t, p, 1, 1)
	for name, err := range map[string]error{
		"write": p.WriteBlock(pattern(2, 1, 512), 2), "set zero": p.SetZero(1), "set error": p.SetError(1),
	} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only pool: %v", name, err)
		}
	}
}

// TestCreateExistingFile: poolsize 0 takes an existing (zero) file, as C
// does; a failed create leaves a file it did not make in place.
func TestCreateExistingFile(t *testing.T) {
	dir := pmemtest.Dir(t)
	path := dir + "/existing"
	if err := os.WriteFile(path, make([]byte, 20<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, 0, 0o600, &Options{BlockSize: 1 << 30}); err == nil {
		t.Fatal("block size larger than the pool accepted")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("failed create removed the caller's file: %v", err)
	}
	p, err := Create(path, 0, 0o600, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.WriteBlock(pattern(9, 3, 512), 9); err != nil {
		t.Fatal(err)
	}
	mustRead(t, p, 9, 3)
	mustRead(t, p, 10, 0)
}

// TestBufferSizes: WriteBlock takes exactly one block (a longer buffer is
// refused, not cut, and nothing is written); ReadBlock needs one block of
// room.
func TestBufferSizes(t *testing.T) {
	p, err := Create(pmemtest.Path(t, "p"), MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bs := p.BSize()
	for _, n := range []int{1, bs - 1, bs + 1, 2 * bs} {
		if err := p.WriteBlock(pattern(1, 1, n), 1); !errors.Is(err, ErrBlockSize) {
			t.Errorf("write of %d bytes: %v, want ErrBlockSize", n, err)
		}
	}
	mustRead(t, p, 1, 0)
	if err := p.ReadBlock(make([]byte, bs-1), 1); !errors.Is(err, ErrBlockSize) {
		t.Errorf("read into %d bytes: %v, want ErrBlockSize", bs-1, err)
	}
}
