package core_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

func TestMapFileCreatePersistReopen(t *testing.T) {
	path := pmemtest.Path(t, "pool")
	m, err := core.MapFile(path, 1<<20, core.FileCreate|core.FileExcl, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size() != 1<<20 {
		t.Fatalf("size %d", m.Size())
	}
	msg := bytes.Repeat([]byte("gopmdk"), 1000)
	m.Memcpy(m.Bytes()[4096:], msg, 0)
	m.Memset(m.Bytes()[100:200], 0xab, 0)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := core.MapFile(path, 1<<20, core.FileCreate|core.FileExcl, 0o600); !os.IsExist(err) {
		t.Fatalf("excl create of existing file: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[4096:4096+len(msg)], msg) || got[150] != 0xab || got[99] != 0 {
		t.Fatal("content not persisted")
	}
}

func TestMapFileEmpty(t *testing.T) {
	path := pmemtest.Path(t, "empty")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := core.MapFile(path, 0, 0, 0); err == nil {
		t.Fatal("mapped an empty file")
	}
}

// TestSourceReadWriteAt: pread/pwrite of a file source, bounds checked.
func TestSourceReadWriteAt(t *testing.T) {
	f, err := os.Create(pmemtest.Path(t, "rw"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(8192); err != nil {
		t.Fatal(err)
	}
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := src.WriteAt([]byte("hello"), 8190-3); err != nil || n != 5 {
		t.Fatalf("write: %d %v", n, err)
	}
	got := make([]byte, 5)
	if n, err := src.ReadAt(got, 8187); err != nil || n != 5 || string(got) != "hello" {
		t.Fatalf("read: %d %v %q", n, err, got)
	}
	if _, err := src.ReadAt(got, 8190); !errors.Is(err, core.ErrMapRange) {
		t.Fatalf("read past the end: %v", err)
	}
	if _, err := src.WriteAt(got, -1); !errors.Is(err, core.ErrMapRange) {
		t.Fatalf("negative offset: %v", err)
	}
	anon, err := core.Anonymous(4096)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.ReadAt(got, 0); !errors.Is(err, core.ErrNotSupported) {
		t.Fatalf("anonymous: %v", err)
	}
}
