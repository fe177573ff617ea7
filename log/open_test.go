package log

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"reflect"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/log/layout"
)

func TestCreateReopen(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, 4<<20, 0o640, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Mode().Perm(), fs.FileMode(0o640); got != want {
		t.Errorf("st.Mode().Perm() = %v, want %v", got, want)
	}
	if err := l.Append([]byte("hello, ")); err != nil {
		t.Fatal(err)
	}
	if err := l.Appendv([]byte("persistent "), []byte("log")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got, want := goContent(t, l), []byte("hello, persistent log"); !bytes.Equal(got, want) {
		t.Errorf("goContent(t, l) = %q, want %q", got, want)
	}
	if got, want := l.NBytes(), int64(4<<20-8192); got != want {
		t.Errorf("l.NBytes() = %v, want %v", got, want)
	}
	if l.ReadOnly() {
		t.Error("ReadOnly() = true for a writable open")
	}
}

func TestCreateErrors(t *testing.T) {
	dir := pmemtest.Dir(t)
	_, err := Create(dir+"/small.log", MinPoolSize-1, 0o600, nil)
	if !errors.Is(err, ErrPoolTooSmall) {
		t.Errorf("%v, want %v", err, ErrPoolTooSmall)
	}
	_, err = os.Stat(dir + "/small.log")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed create leaves no file: %v, want %v", err, fs.ErrNotExist)
	}

	_, err = Create(dir+"/neg.log", -1, 0o600, nil)
	if !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("%v, want %v", err, ErrInvalidArgument)
	}

	// poolsize 0 takes an existing file, which must be big enough.
	if err := os.WriteFile(dir+"/tiny.log", make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Create(dir+"/tiny.log", 0, 0o600, nil)
	if !errors.Is(err, ErrPoolTooSmall) {
		t.Errorf("%v, want %v", err, ErrPoolTooSmall)
	}
	_, err = Create(dir+"/missing.log", 0, 0o600, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v, want %v", err, fs.ErrNotExist)
	}

	l, err := Create(dir+"/a.log", MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Create(dir+"/a.log", MinPoolSize, 0o600, nil)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("%v, want %v", err, fs.ErrExist)
	}

	_, err = Open(dir+"/missing.log", nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v, want %v", err, fs.ErrNotExist)
	}
	_, err = Check(dir+"/missing.log", nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v, want %v", err, fs.ErrNotExist)
	}
}

func TestOpenLocked(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, nil)
	if !errors.Is(err, pool.ErrLocked) {
		t.Errorf("%v, want %v", err, pool.ErrLocked)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]byte("kept")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	l, err = Open(path, &Options{Options: pool.Options{ReadOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !l.ReadOnly() {
		t.Error("ReadOnly() = false for a read-only open")
	}
	if err := l.Append([]byte("x")); !errors.Is(err, ErrReadOnly) {
		t.Errorf("%v, want %v", err, ErrReadOnly)
	}
	if err := l.Rewind(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("%v, want %v", err, ErrReadOnly)
	}
	if got, want := goContent(t, l), []byte("kept"); !bytes.Equal(got, want) {
		t.Errorf("goContent(t, l) = %q, want %q", got, want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a read-only open changed the pool")
	}
}

// TestOpenUnknownROCompat: a pool header with a ro-compat feature this
// library does not know opens read-only, as C does.
func TestOpenUnknownROCompat(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := pool.DecodeHeader(img)
	if err != nil {
		t.Fatal(err)
	}
	h.ROCompat |= 0x80
	h.Encode(img[:pool.HeaderSize])
	if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}

	l, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !l.ReadOnly() {
		t.Error("ReadOnly() = false for a read-only open")
	}
	if err := l.Append([]byte("x")); !errors.Is(err, ErrReadOnly) {
		t.Errorf("%v, want %v", err, ErrReadOnly)
	}
}

func TestOpenWrongKind(t *testing.T) {
	path := pmemtest.Path(t, "blk")
	p, err := pool.Create(path, 32<<20, 0o600, pool.Blk, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, nil)
	if err == nil {
		t.Fatal("Open succeeded")
	}
	_, err = Check(path, nil)
	if err == nil {
		t.Fatal("Check succeeded")
	}
}

// TestCheckListsEveryProblem: Check reports each bad descriptor field with
// its offset, and leaves the pool file byte-identical.
func TestCheckListsEveryProblem(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	problems, err := Check(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 {
		t.Errorf("not empty: %v", problems)
	}

	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// start past the end, so also above write_offset.
	layout.Descriptor{StartOffset: MinPoolSize + 4096, EndOffset: MinPoolSize, WriteOffset: 8192 + 4}.Encode(img)
	if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}

	problems, err = Check(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	type where struct {
		off   int64
		field string
	}
	var got []where
	for _, p := range problems {
		ce, ok := errors.AsType[*core.CorruptError](p)
		if !ok {
			t.Fatalf("problem %v is not a *core.CorruptError", p)
		}
		got = append(got, where{ce.Offset, ce.Field})
	}
	if got, want := got, []where{
		{layout.StartOffsetAt, "log descriptor: start_offset"},
		{layout.StartOffsetAt, "log descriptor: start_offset above end_offset"},
		{layout.WriteOffsetAt, "log descriptor: write_offset below start_offset"},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("got = %v, want %v", got, want)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img, after) {
		t.Error("Check changed the pool")
	}
}
