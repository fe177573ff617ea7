package conformance_test

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	pmemlog "github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/obj"
)

// poolLib is one pool type's library seen through the calls every pool
// type has, for the error model's tests.
type poolLib struct {
	name string
	kind pool.Kind
	// create makes a pool of the library's minimum size at path.
	create func(path string) error
	// open opens the pool; the handle's write changes it, its access
	// reads an accessor that returns a zero value after close.
	open  func(path string, readOnly bool) (handle, error)
	check func(path string) ([]error, error)
	// errs are the package's re-exported shared errors, in the order of
	// sharedErrors.
	errs []error
}

type handle struct {
	write  func() error
	access func() int64
	close  func() error
}

// sharedErrors are core/pool's errors every package re-exports.
var sharedErrors = []error{pool.ErrWrongType, pool.ErrVersion, pool.ErrTooSmall, pool.ErrLocked, pool.ErrReadOnly, pool.ErrClosed}

var poolLibs = []poolLib{
	{
		name: "log", kind: pool.Log,
		create: func(path string) error {
			l, err := pmemlog.Create(path, pmemlog.MinPoolSize, 0o600, nil)
			if err == nil {
				err = l.Close()
			}
			return err
		},
		open: func(path string, ro bool) (handle, error) {
			l, err := pmemlog.Open(path, &pmemlog.Options{Options: pool.Options{ReadOnly: ro}})
			if err != nil {
				return handle{}, err
			}
			return handle{func() error { return l.Append([]byte("x")) }, l.NBytes, l.Close}, nil
		},
		check: func(path string) ([]error, error) { return pmemlog.Check(path, nil) },
		errs: []error{pmemlog.ErrWrongType, pmemlog.ErrVersion, pmemlog.ErrPoolTooSmall, pmemlog.ErrLocked,
			pmemlog.ErrReadOnly, pmemlog.ErrClosed},
	},
	{
		name: "blk", kind: pool.Blk,
		create: func(path string) error {
			p, err := blk.Create(path, blk.MinPoolSize, 0o600, nil)
			if err == nil {
				err = p.Close()
			}
			return err
		},
		open: func(path string, ro bool) (handle, error) {
			p, err := blk.Open(path, &blk.Options{Options: pool.Options{ReadOnly: ro}})
			if err != nil {
				return handle{}, err
			}
			return handle{func() error { return p.WriteBlock(make([]byte, p.BSize()), 0) }, p.NBlock, p.Close}, nil
		},
		check: func(path string) ([]error, error) { return blk.Check(path, nil) },
		errs: []error{blk.ErrWrongType, blk.ErrVersion, blk.ErrPoolTooSmall, blk.ErrLocked,
			blk.ErrReadOnly, blk.ErrClosed},
	},
	{
		name: "obj", kind: pool.Obj,
		create: func(path string) error {
			p, err := obj.Create(path, obj.MinPoolSize, 0o600, nil)
			if err == nil {
				err = p.Close()
			}
			return err
		},
		open: func(path string, ro bool) (handle, error) {
			p, err := obj.Open(path, &obj.Options{Options: pool.Options{ReadOnly: ro}})
			if err != nil {
				return handle{}, err
			}
			return handle{func() error { _, err := p.Zalloc(64, 1); return err }, p.Size, p.Close}, nil
		},
		check: func(path string) ([]error, error) { return obj.Check(path, nil) },
		errs: []error{obj.ErrWrongType, obj.ErrVersion, obj.ErrPoolTooSmall, obj.ErrLocked,
			obj.ErrReadOnly, obj.ErrClosed},
	},
}

// TestSharedErrors: every package's error is core/pool's, not a copy.
func TestSharedErrors(t *testing.T) {
	for _, l := range poolLibs {
		for i, err := range l.errs {
			if err != sharedErrors[i] {
				t.Errorf("%s: %v is not pool's %v", l.name, err, sharedErrors[i])
			}
		}
	}
}

// cOpenMsg is a C program that opens a pool with C's library for its type
// and prints errno|message of the failure.
const cOpenMsg = `
#include <libpmemlog.h>
#include <libpmemblk.h>
#include <libpmemobj.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
	const char *t = argv[1], *path = argv[2];
	const char *msg = "ok";
	int e = 0;
	if (!strcmp(t, "log")) {
		PMEMlogpool *p = pmemlog_open(path);
		if (p) pmemlog_close(p); else { e = errno; msg = pmemlog_errormsg(); }
	} else if (!strcmp(t, "blk")) {
		PMEMblkpool *p = pmemblk_open(path, 0);
		if (p) pmemblk_close(p); else { e = errno; msg = pmemblk_errormsg(); }
	} else {
		PMEMobjpool *p = pmemobj_open(path, NULL);
		if (p) pmemobj_close(p); else { e = errno; msg = pmemobj_errormsg(); }
	}
	printf("%d|%s", e, msg);
	return 0;
}
`

// cOpen returns errno and message of C's open of path as a pool of lib,
// or ok false where C PMDK is not installed.
func cOpen(t *testing.T, exe, lib, path string) (errno int, msg string) {
	t.Helper()
	out, err := exec.Command(exe, lib, path).Output()
	if err != nil {
		t.Fatalf("C open: %v", err)
	}
	e, m, _ := strings.Cut(string(out), "|")
	for _, c := range e {
		errno = errno*10 + int(c-'0')
	}
	return errno, m
}

// TestInteropOpenErrors: a pool of another type, another version or too small
// is refused by every library with C's words and a sentinel errors.Is
// finds, and is not reported as corrupt; the error names the library and
// the path once.
func TestInteropOpenErrors(t *testing.T) {
	exe := conformance.CompileC(t, cOpenMsg, "pmemlog", "pmemblk", "pmemobj")
	dir := pmemtest.Dir(t)
	pools := map[string]string{}
	for _, l := range poolLibs {
		pools[l.name] = filepath.Join(dir, l.name)
		if err := l.create(pools[l.name]); err != nil {
			t.Fatal(err)
		}
	}
	type tc struct {
		path     string
		sentinel error
		notC     bool // C cannot open the file either way, but dies (SIGBUS)
	}
	for _, l := range poolLibs {
		cases := map[string]tc{}
		for _, other := range poolLibs {
			if other.name != l.name {
				cases["a "+other.name+" pool"] = tc{pools[other.name], pool.ErrWrongType, false}
			}
		}
		// Another major version, checksum left stale: C checks the
		// version first.
		v := filepath.Join(dir, l.name+"-v7")
		b, err := os.ReadFile(pools[l.name])
		if err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint32(b[8:], 7)
		if err := os.WriteFile(v, b, 0o600); err != nil {
			t.Fatal(err)
		}
		cases["version 7"] = tc{v, pool.ErrVersion, false}
		small := filepath.Join(dir, "zero-page")
		if err := os.WriteFile(small, make([]byte, 4096), 0o600); err != nil {
			t.Fatal(err)
		}
		cases["a zero page"] = tc{small, pool.ErrTooSmall, false}
		empty := filepath.Join(dir, "empty")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		cases["an empty file"] = tc{empty, pool.ErrTooSmall, true}
		for name, c := range cases {
			t.Run(l.name+"/"+name, func(t *testing.T) {
				_, err := l.open(c.path, false)
				if !errors.Is(err, c.sentinel) || errors.Is(err, core.ErrCorrupt) {
					t.Fatalf("open: %v, want %v and not ErrCorrupt", err, c.sentinel)
				}
				prefix := l.name + ": open " + c.path + ": "
				if !strings.HasPrefix(err.Error(), prefix) || strings.Count(err.Error(), c.path) != 1 {
					t.Errorf("error %q: want one prefix %q and the path once", err, prefix)
				}
				if c.notC {
					return
				}
				errno, msg := cOpen(t, exe, l.name, c.path)
				got := err.Error()
				if c.sentinel == pool.ErrTooSmall {
					// C names the minimum of one part of a poolset
					// (2 MiB for every type), Go the pool type's:
					// compare up to the number.
					msg, _, _ = strings.Cut(msg, " than ")
					got, _, _ = strings.Cut(got, " than ")
				}
				if errno != int(syscall.EINVAL) || !strings.HasSuffix(got, msg) {
					t.Errorf("error %q; C: errno %d, %q", err, errno, msg)
				}
			})
		}
		_, err = l.open(filepath.Join(dir, "missing"), false)
		if want := l.name + ": open " + filepath.Join(dir, "missing") + ": no such file or directory"; err == nil || err.Error() != want {
			t.Errorf("%s: missing file: %v, want %q", l.name, err, want)
		}
	}
}

// TestInteropLockedReadOnlyClosed: a pool open in Go is locked for C and for a
// second open (ErrLocked, EWOULDBLOCK); a read-only pool refuses changes
// (ErrReadOnly); a closed one refuses calls (ErrClosed) and its accessors
// return zero.
func TestInteropLockedReadOnlyClosed(t *testing.T) {
	exe := conformance.CompileC(t, cOpenMsg, "pmemlog", "pmemblk", "pmemobj")
	for _, l := range poolLibs {
		t.Run(l.name, func(t *testing.T) {
			path := pmemtest.Path(t, l.name)
			if err := l.create(path); err != nil {
				t.Fatal(err)
			}
			h, err := l.open(path, false)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.open(path, true); !errors.Is(err, pool.ErrLocked) || !errors.Is(err, unix.EWOULDBLOCK) {
				t.Errorf("second open: %v, want ErrLocked and EWOULDBLOCK", err)
			}
			if errno, msg := cOpen(t, exe, l.name, path); errno != int(unix.EWOULDBLOCK) {
				t.Errorf("C open of a pool Go holds: errno %d %q, want EWOULDBLOCK", errno, msg)
			}
			if h.access() == 0 {
				t.Error("accessor of an open pool returns 0")
			}
			if err := h.close(); err != nil {
				t.Fatal(err)
			}
			if err := h.write(); !errors.Is(err, pool.ErrClosed) {
				t.Errorf("write after close: %v, want ErrClosed", err)
			}
			if n := h.access(); n != 0 {
				t.Errorf("accessor after close: %d, want 0", n)
			}
			if err := h.close(); err != nil {
				t.Errorf("second close: %v", err)
			}
			ro, err := l.open(path, true)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.close()
			if err := ro.write(); !errors.Is(err, pool.ErrReadOnly) {
				t.Errorf("write to a read-only pool: %v, want ErrReadOnly", err)
			}
		})
	}
}

// TestCheckMeaning: Check means the same for every pool type. err: the
// file cannot be checked as a pool of this type (missing, a directory,
// empty, another type, locked); problems: what is wrong with a pool of
// this type (a damaged header among them).
func TestCheckMeaning(t *testing.T) {
	for _, l := range poolLibs {
		t.Run(l.name, func(t *testing.T) {
			dir := pmemtest.Dir(t)
			good := filepath.Join(dir, "good")
			if err := l.create(good); err != nil {
				t.Fatal(err)
			}
			if probs, err := l.check(good); err != nil || len(probs) != 0 {
				t.Fatalf("good pool: %v, %v", probs, err)
			}
			empty := filepath.Join(dir, "empty")
			if err := os.WriteFile(empty, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			other := filepath.Join(dir, "other")
			otherLib := poolLibs[0]
			if l.name == otherLib.name {
				otherLib = poolLibs[1]
			}
			if err := otherLib.create(other); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name, path string
				is         error
			}{
				{"missing", filepath.Join(dir, "missing"), os.ErrNotExist},
				{"directory", dir, syscall.EISDIR},
				{"empty", empty, pool.ErrTooSmall},
				{"another type", other, pool.ErrWrongType},
			} {
				probs, err := l.check(c.path)
				if !errors.Is(err, c.is) || probs != nil {
					t.Errorf("%s: problems %v, err %v; want no problems and %v", c.name, probs, err, c.is)
				}
			}
			h, err := l.open(good, false)
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.check(good)
			h.close()
			if !errors.Is(err, pool.ErrLocked) {
				t.Errorf("locked: %v, want ErrLocked", err)
			}
			b, err := os.ReadFile(good)
			if err != nil {
				t.Fatal(err)
			}
			b[40] ^= 1 // the UUID: the header checksum no longer matches
			bad := filepath.Join(dir, "bad")
			if err := os.WriteFile(bad, b, 0o600); err != nil {
				t.Fatal(err)
			}
			probs, err := l.check(bad)
			if err != nil || len(probs) == 0 || !errors.Is(probs[0], core.ErrCorrupt) {
				t.Errorf("damaged header: problems %v, err %v; want a corruption problem", probs, err)
			}
		})
	}
}
