package core_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal/cpmem"
)

// cPeer builds testdata/interop/peer.c against C libpmem and libpmem2 and
// returns a function running it. It skips when gcc or the PMDK headers are
// missing.
func cPeer(t *testing.T) func(args ...string) string {
	t.Helper()
	for _, h := range []string{"/usr/include/libpmem.h", "/usr/include/libpmem2.h"} {
		if _, err := os.Stat(h); err != nil {
			t.Skipf("C PMDK not installed (%s missing): interop with libpmem/libpmem2 not tested", h)
		}
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found: interop with libpmem/libpmem2 not tested")
	}
	bin := filepath.Join(t.TempDir(), "peer")
	out, err := exec.Command(gcc, "-O1", "-Wall", "-o", bin, "testdata/interop/peer.c", "-lpmem2", "-lpmem").CombinedOutput()
	if err != nil {
		t.Fatalf("building the C peer: %v\n%s", err, out)
	}
	return func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("peer %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
}

func TestInteropMapFileGoWritesCReadsAndBack(t *testing.T) {
	peer := cPeer(t)
	for _, force := range []string{"", "1"} {
		t.Run("PMEM_IS_PMEM_FORCE="+force, func(t *testing.T) {
			t.Setenv("PMEM_IS_PMEM_FORCE", force)
			path := pmemtest.Path(t, "interop")
			m, err := core.MapFile(path, 1<<20, core.FileCreate|core.FileExcl, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("written by gopmdk")
			core.MemcpyPersist(m.Bytes()[12345:], msg)
			core.MemsetPersist(m.Bytes()[1<<19:(1<<19)+8], 0xa5)
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if got := peer("read", path, "12345", strconv.Itoa(len(msg))); got != hex.EncodeToString(msg) {
				t.Fatalf("C reads %s, want %x", got, msg)
			}
			if got := peer("read", path, strconv.Itoa(1<<19), "8"); got != "a5a5a5a5a5a5a5a5" {
				t.Fatalf("C reads %s after MemsetPersist", got)
			}
			peer("write", path, "777", "written by libpmem")
			m, err = core.MapFile(path, 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if got := m.Bytes()[777 : 777+18]; string(got) != "written by libpmem" {
				t.Fatalf("Go reads %q", got)
			}
		})
	}
}

// goResult renders a MapFile outcome the way the C peer prints its own.
func goResult(m *core.Map, err error) string {
	if err != nil {
		var errno syscall.Errno
		switch {
		case errors.Is(err, core.ErrInvalidArgument):
			errno = syscall.EINVAL
		case errors.Is(err, os.ErrExist):
			errno = syscall.EEXIST
		case errors.Is(err, os.ErrNotExist):
			errno = syscall.ENOENT
		case errors.As(err, &errno):
		default:
			return "err " + err.Error()
		}
		return fmt.Sprintf("err %d", int(errno))
	}
	defer m.Close()
	pm := 0
	if m.IsPmem() {
		pm = 1
	}
	return fmt.Sprintf("ok %d %d", m.Size(), pm)
}

// TestInteropMapFileRulesMatchLibpmem runs pmem_map_file and MapFile on
// identical set-ups and compares length, is_pmem and errno.
func TestInteropMapFileRulesMatchLibpmem(t *testing.T) {
	peer := cPeer(t)
	const (
		create  = core.FileCreate
		excl    = core.FileExcl
		sparse  = core.FileSparse
		tmpfile = core.FileTmpfile
	)
	cases := []struct {
		name     string
		existing int // bytes of a file already there; -1 none
		size     int64
		flags    core.FileFlags
		dir      bool // path is the directory (tmpfile)
	}{
		{"create new", -1, 1 << 20, create, false},
		{"create excl new", -1, 1 << 20, create | excl, false},
		{"create excl existing", 4096, 1 << 20, create | excl, false},
		{"create resizes existing", 3 << 20, 1 << 20, create, false},
		{"create sparse", -1, 4 << 20, create | sparse, false},
		{"create zero size", -1, 0, create, false},
		{"open existing", 64 << 10, 0, 0, false},
		{"open with size", 64 << 10, 4096, 0, false},
		{"open missing", -1, 0, 0, false},
		{"tmpfile", -1, 1 << 20, create | tmpfile, true},
		{"tmpfile without create", -1, 1 << 20, tmpfile, true},
		{"unknown flag", -1, 4096, create | 1<<5, false},
	}
	for _, force := range []string{"", "1"} {
		t.Setenv("PMEM_IS_PMEM_FORCE", force)
		for _, tc := range cases {
			setup := func(dir string) string {
				p := filepath.Join(dir, "pool")
				if tc.existing >= 0 {
					if err := os.WriteFile(p, make([]byte, tc.existing), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				if tc.dir {
					return dir
				}
				return p
			}
			cPath, goPath := setup(t.TempDir()), setup(t.TempDir())
			want := peer("mapfile", cPath, strconv.FormatInt(tc.size, 10), strconv.Itoa(int(tc.flags)))
			got := goResult(core.MapFile(goPath, tc.size, tc.flags, 0o600))
			t.Logf("force=%q %s: %s", force, tc.name, want)
			if got != want {
				t.Errorf("force=%q %s: Go %q, C %q", force, tc.name, got, want)
			}
			if !tc.dir && tc.existing < 0 && strings.HasPrefix(want, "err") {
				if _, err := os.Stat(goPath); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: Go left a file behind after failing", tc.name)
				}
			}
		}
	}
}

// TestInteropGranularityMatchesLibpmem2 asks pmem2_map_new and NewMap for
// every required granularity, sharing and PMEM2_FORCE_GRANULARITY value on
// the same page-cache file. (PMEM_IS_PMEM_FORCE is libpmem's: libpmem2
// ignores it, NewMap honours it on purpose, so it stays unset here.)
func TestInteropGranularityMatchesLibpmem2(t *testing.T) {
	peer := cPeer(t)
	t.Setenv("PMEM_IS_PMEM_FORCE", "")
	f := newFile(t, "pmem2", 1<<20, 0)
	skipIfDAX(t, f.Name())
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, force := range []string{"", "BYTE", "cache_line", "Page", "bogus"} {
		t.Setenv("PMEM2_FORCE_GRANULARITY", force)
		for g := core.GranularityByte; g <= core.GranularityPage; g++ {
			for _, sh := range []core.Sharing{core.SharingShared, core.SharingPrivate} {
				want := peer("pmem2", f.Name(), strconv.Itoa(int(g)), strconv.Itoa(int(sh)))
				m, err := core.NewMap(src, &core.Config{RequiredGranularity: g, Sharing: sh})
				var got string
				switch {
				case err == nil:
					got = fmt.Sprintf("ok %d", m.Granularity())
					m.Close()
				case errors.Is(err, core.ErrGranularityNotSupported):
					got = "err -100009" // PMEM2_E_GRANULARITY_NOT_SUPPORTED
				default:
					got = "err " + err.Error()
				}
				if got != want {
					t.Errorf("force %q required %v sharing %d: Go %q, C %q", force, g, sh, got, want)
				}
			}
		}
	}
}

// TestInteropNVDIMMInfoMatchesLibpmem2 compares what this machine says
// about unsafe shutdown counts and bad blocks of a pool file through C and
// through Go.
func TestInteropNVDIMMInfoMatchesLibpmem2(t *testing.T) {
	peer := cPeer(t)
	f := newFile(t, "nvdimm", 1<<16, 0)
	out := peer("nvdimm", f.Name())
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	_, uscErr := src.UnsafeShutdownCount()
	bbs, bbErr := src.BadBlocks()
	goUSC := "usc 0"
	if errors.Is(uscErr, core.ErrNotSupported) {
		goUSC = "usc -100001" // PMEM2_E_NOSUPP
	} else if uscErr != nil {
		goUSC = "usc " + uscErr.Error()
	}
	goBB := "badblock 0"
	switch {
	case errors.Is(bbErr, core.ErrNotSupported):
		goBB = "badblock -100001"
	case bbErr != nil:
		goBB = "badblock " + bbErr.Error()
	case len(bbs) == 0:
		goBB = "badblock -100029" // PMEM2_E_NO_BAD_BLOCK_FOUND
	}
	if want, got := out, goUSC+"\n"+goBB; got != want {
		t.Fatalf("Go says\n%s\nC says\n%s", got, want)
	}
	if !bytes.Contains([]byte(out), []byte("usc -100001")) {
		t.Logf("this machine reports an unsafe shutdown count: %s", out)
	}
}

func TestInteropHasAutoFlushMatchesLibpmem(t *testing.T) {
	if !cpmem.Available {
		t.Skip("built without the cpeer tag (C PMDK headers missing): pmem_has_auto_flush not compared")
	}
	c := cpmem.HasAutoFlush()
	if c < 0 {
		t.Fatalf("pmem_has_auto_flush failed")
	}
	if got := core.HasAutoFlush(); got != (c == 1) {
		t.Fatalf("Go says eADR %v, C libpmem says %d", got, c)
	}
}
