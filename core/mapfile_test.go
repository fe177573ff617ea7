package core_test

import (
	"bytes"
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
