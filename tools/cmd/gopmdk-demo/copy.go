package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/hal"
)

const demoPoolSize = 4 << 20

// platform reports what hal detects for a pool file in dir and how core
// maps it.
func platform(w io.Writer, dir string) error {
	path := filepath.Join(dir, "probe")
	m, err := core.MapFile(path, 1<<20, core.FileCreate|core.FileExcl, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	g := m.Granularity()
	if err := m.Close(); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	p, derr := hal.DetectFile(f)
	f.Close()
	fmt.Fprintf(w, "pool directory: %s\n", dir)
	if derr != nil {
		// The DAX answer stands even when sysfs could not be read.
		fmt.Fprintf(w, "detection: %v\n", derr)
	}
	fmt.Fprintf(w, "DAX: %v, eADR: %v, persistence domain: %s\n", p.DAX, p.EADR, orNone(p.Domain))
	fmt.Fprintf(w, "mapping granularity: %s (%s)\n", g, describe(g))
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none reported (no nd region)"
	}
	return s
}

func describe(g core.Granularity) string {
	switch g {
	case core.GranularityByte:
		return "eADR: the CPU caches are persistent, a fence is enough"
	case core.GranularityCacheLine:
		if os.Getenv("PMEM_IS_PMEM_FORCE") == "1" {
			return "treated as pmem because PMEM_IS_PMEM_FORCE=1: CPU flush + fence"
		}
		return "DAX: CPU flush + fence"
	}
	return "page cache: persisted with msync"
}

// persistedCopy maps a fresh file, copies a message into it with a
// persisting memcpy, unmaps it, and reads the file back.
func persistedCopy(w io.Writer, dir string) error {
	path := filepath.Join(dir, "copy.pool")
	m, err := core.MapFile(path, demoPoolSize, core.FileCreate|core.FileExcl, 0o600)
	if err != nil {
		return err
	}
	msg := []byte("hello from gopmdk: this message was made persistent by Map.Memcpy")
	const off = 4096 + 17 // unaligned on purpose
	m.Memcpy(m.Bytes()[off:], msg, 0)
	fmt.Fprintf(w, "mapped %s (%d bytes, granularity %s)\n", path, m.Size(), m.Granularity())
	fmt.Fprintf(w, "Memcpy of %d bytes at offset %d, persisted\n", len(msg), off)
	if err := m.Close(); err != nil {
		return err
	}
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(got) != demoPoolSize || !bytes.Equal(got[off:off+len(msg)], msg) {
		return fmt.Errorf("message lost: read back %q", safeSlice(got, off, len(msg)))
	}
	fmt.Fprintf(w, "unmapped, read back with os.ReadFile: %q\n", got[off:off+len(msg)])
	fmt.Fprintln(w, "round trip: ok")
	return nil
}

func safeSlice(b []byte, off, n int) []byte {
	if off >= len(b) {
		return nil
	}
	return b[off:min(len(b), off+n)]
}
