package pool

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/poolset"
)

// dirSet makes the directories names under dir and writes the poolset
// file lines ({dir} as in pmemtest.Poolset).
func dirSet(t *testing.T, names []string, lines ...string) (dir, set string) {
	t.Helper()
	dir = pmemtest.Dir(t)
	for _, n := range names {
		if err := os.Mkdir(filepath.Join(dir, n), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir, pmemtest.Poolset(t, dir, "d.set", lines...)
}

// partFiles lists the part files in directory d.
func partFiles(t *testing.T, d string) []string {
	t.Helper()
	ents, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestSetDirCreateOpen: Create on a directory poolset makes, as C, one part
// file of the kind's minimum size (000000.pmem) in the first directory of
// every replica, linked like any part; Open finds it again, and a part
// file added beside it (as C's heap growth adds them) grows the pool.
func TestSetDirCreateOpen(t *testing.T) {
	dir, set := dirSet(t, []string{"a", "b", "r"}, "OPTION SINGLEHDR", "32M {dir}/a", "32M {dir}/b", "REPLICA", "64M {dir}/r")
	p, err := Create(set, 0, 0o600, Obj, nil)
	requireSetPool(t, p, err, Obj.MinSize, 2)
	for d, want := range map[string]string{"a": "000000.pmem", "b": "", "r": "000000.pmem"} {
		if got := strings.Join(partFiles(t, filepath.Join(dir, d)), ","); got != want {
			t.Fatalf("directory %s holds %q, want %q", d, got, want)
		}
	}
	h0, r0 := partHeader(t, dir+"/a/000000.pmem"), partHeader(t, dir+"/r/000000.pmem")
	if h0.Incompat&FeatSingleHdr == 0 || h0.NextReplUUID != r0.UUID || r0.PoolsetUUID != h0.PoolsetUUID {
		t.Fatalf("headers not linked: %+v %+v", h0, r0)
	}
	// Two more parts in each replica, the next ones where C puts them
	// (000001 in the second directory of the primary).
	for _, f := range []string{"b/000001.pmem", "a/000002.pmem", "r/000001.pmem", "r/000002.pmem"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(filepath.Join(dir, f), 4<<20); err != nil {
			t.Fatal(err)
		}
	}
	p, err = Open(set, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if want := Obj.MinSize + 8<<20; p.Size() != want {
		t.Fatalf("size %d after growth, want %d", p.Size(), want)
	}
	// The pool spans the parts: the last byte, in b/000001.pmem's
	// successor a/000002.pmem, reaches the replica's last part.
	b := p.Map().Bytes()
	b[len(b)-1] = 0x5a
	p.Map().Persist(b[len(b)-1:])
	last, err := os.ReadFile(filepath.Join(dir, "r/000002.pmem"))
	if err != nil || last[len(last)-1] != 0x5a {
		t.Fatalf("replica's last part: %v", err)
	}
}

// TestSetDirRefused: what C refuses for directory poolsets is refused
// with nothing left behind: a create without SINGLEHDR, a reservation
// below the kind's minimum, NOHDRS; an open without parts, parts numbered
// with a gap.
func TestSetDirRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		lines  []string
		create bool
		want   error
		files  []string
	}{
		{"no SINGLEHDR", []string{"32M {dir}/a"}, true, ErrPoolsetNotSupported, nil},
		{"reservation", []string{"OPTION SINGLEHDR", "4M {dir}/a"}, true, ErrTooSmall, nil},
		{"NOHDRS", []string{"OPTION NOHDRS", "32M {dir}/a"}, true, ErrPoolsetNotSupported, nil},
		{"no parts", []string{"OPTION SINGLEHDR", "32M {dir}/a"}, false, fs.ErrNotExist, nil},
		{"gap", []string{"OPTION SINGLEHDR", "32M {dir}/a"}, false, nil, []string{"000000.pmem", "000002.pmem"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, set := dirSet(t, []string{"a"}, c.lines...)
			for _, f := range c.files {
				if err := os.WriteFile(filepath.Join(dir, "a", f), make([]byte, 8<<10), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			if c.create {
				_, err = Create(set, 0, 0o600, Obj, nil)
			} else {
				_, err = Open(set, Obj, nil)
			}
			if err == nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if got := partFiles(t, filepath.Join(dir, "a")); len(got) != len(c.files) {
				t.Fatalf("directory holds %v after the failure", got)
			}
		})
	}
}

// TestSetDirCreateFailureRemovesParts: a create that fails after it made
// part files removes the ones it made.
func TestSetDirCreateFailureRemovesParts(t *testing.T) {
	dir, set := dirSet(t, []string{"a", "r"}, "OPTION SINGLEHDR", "32M {dir}/a", "REPLICA", "32M {dir}/r")
	// The replica has a part the primary lacks: as in C, the primary
	// gets the replica's part list with paths in its first directory,
	// and the create makes a/000000.pmem; the replica's part has a
	// non-zero header, which fails the create after that.
	junk := make([]byte, 8<<20)
	junk[0] = 1
	if err := os.WriteFile(filepath.Join(dir, "r", poolset.PartName(0)), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(set, 0, 0o600, Obj, nil); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("create: %v", err)
	}
	if got := partFiles(t, filepath.Join(dir, "a")); len(got) != 0 {
		t.Fatalf("primary directory holds %v after the failed create", got)
	}
}

// TestInteropDirPoolsets: a directory poolset pmempool creates opens here,
// and one Go creates passes pmempool check and info, which see it as
// directory based.
func TestInteropDirPoolsets(t *testing.T) {
	pmempool := needPmempool(t)
	lines := []string{"OPTION SINGLEHDR", "32M {dir}/a", "32M {dir}/b", "REPLICA", "64M {dir}/r"}
	t.Run("C-to-Go", func(t *testing.T) {
		dir, set := dirSet(t, []string{"a", "b", "r"}, lines...)
		if out, err := exec.Command(pmempool, "create", "obj", set).CombinedOutput(); err != nil {
			t.Fatalf("pmempool create: %v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "r", "000000.pmem")); err != nil {
			t.Fatal(err)
		}
		p, err := Open(set, Obj, nil)
		requireSetPool(t, p, err, Obj.MinSize, 2)
		requirePmempoolCheck(t, pmempool, set)
	})
	t.Run("Go-to-C", func(t *testing.T) {
		_, set := dirSet(t, []string{"a", "b"}, lines[:3]...)
		requireGoLogSetInC(t, pmempool, set, "Directory-based Poolset", "size                     : 2097152")
	})
}

// requireSetPool checks a pool just created or opened (p, err): its size
// and number of replicas; it closes it.
func requireSetPool(t *testing.T, p *Pool, err error, size int64, replicas int) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if p.Size() != size || p.Replicas() != replicas {
		t.Fatalf("size %d replicas %d, want %d, %d", p.Size(), p.Replicas(), size, replicas)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// requireGoLogSetInC creates a log pool (with an empty log, so that check
// has a whole pool to look at) on the poolset file set and requires
// pmempool check to find it consistent and pmempool info to say every
// one of infos.
func requireGoLogSetInC(t *testing.T, pmempool, set string, infos ...string) {
	t.Helper()
	p, err := Create(set, 0, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeEmptyLog(p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	requirePmempoolCheck(t, pmempool, set)
	out, err := exec.Command(pmempool, "info", set).CombinedOutput()
	for _, want := range infos {
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("pmempool info: %v, want %q\n%s", err, want, out)
		}
	}
}
