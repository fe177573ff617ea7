package pmempool

import (
	"bytes"
	"encoding/binary"
	"os"
	"reflect"
	"testing"

	"github.com/gopmdk/pmdk/blk"
	blklayout "github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	pmemlog "github.com/gopmdk/pmdk/log"
	loglayout "github.com/gopmdk/pmdk/log/layout"
	"github.com/gopmdk/pmdk/obj"
	objlayout "github.com/gopmdk/pmdk/obj/layout"
)

func newLog(t *testing.T) string {
	t.Helper()
	p := pmemtest.Path(t, "log")
	l, err := pmemlog.Create(p, pmemlog.MinPoolSize, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]byte("hello pmempool")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func newBlk(t *testing.T, write bool) string {
	t.Helper()
	p := pmemtest.Path(t, "blk")
	b, err := blk.Create(p, blk.MinPoolSize, 0o644, &blk.Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if write {
		buf := make([]byte, 512)
		for i := range int64(10) {
			buf[0] = byte(i)
			if err := b.WriteBlock(buf, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func patch(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt(b, off)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckConsistent(t *testing.T) {
	for name, p := range map[string]string{"log": newLog(t), "blk": newBlk(t, true), "blk-nolayout": newBlk(t, false)} {
		t.Run(name, func(t *testing.T) {
			res, msgs, err := Check(p, &CheckOptions{Verbose: true})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res, Consistent; got != want {
				t.Errorf("%v: res = %v, want %v", msgs, got, want)
			}
		})
	}
}

func TestCheckRepairLogWriteOffset(t *testing.T) {
	p := newLog(t)
	patch(t, p, loglayout.WriteOffsetAt, []byte{0xff, 0xff, 0xff, 0xff, 0xff})
	before, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	res, msgs, err := Check(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, NotConsistent; got != want {
		t.Errorf("res = %v, want %v", got, want)
	}
	if got, want := msgs, []Status{{StatusError, "invalid pmemlog.write_offset: 0xffffffffff"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("msgs = %v, want %v", got, want)
	}
	after, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := after, before; !bytes.Equal(got, want) {
		t.Errorf("check without repair changed the pool: after = %q, want %q", got, want)
	}

	res, _, err = Check(p, &CheckOptions{Repair: true, Ask: func(string) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, NotConsistent; got != want {
		t.Errorf("res = %v, want %v", got, want)
	}
	res, _, err = Check(p, &CheckOptions{Repair: true, DryRun: true, Yes: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, Repaired; got != want {
		t.Errorf("res = %v, want %v", got, want)
	}
	after, _ = os.ReadFile(p)
	if got, want := after, before; !bytes.Equal(got, want) {
		t.Errorf("dry run changed the pool: after = %q, want %q", got, want)
	}

	res, _, err = Check(p, &CheckOptions{Repair: true, Yes: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, Repaired; got != want {
		t.Errorf("res = %v, want %v", got, want)
	}
	res, msgs, err = Check(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, Consistent; got != want {
		t.Errorf("%v: res = %v, want %v", msgs, got, want)
	}
}

// TestCheckObj: obj pools get C's shutdown-state and header checks, a bad
// header is repaired as a log or blk pool's (C 1.12.1 repairs no obj
// pool), and obj's heap checker runs after them: a file with an obj pool
// header and nothing else is not consistent; a repair of the header of a
// pool whose heap is damaged writes nothing.
func TestCheckObj(t *testing.T) {
	bare := pmemtest.Path(t, "bare")
	pl, err := pool.Create(bare, pool.Obj.MinSize, 0o644, pool.Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	res, msgs, err := Check(bare, &CheckOptions{Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, NotConsistent; got != want || msgs[len(msgs)-1].Type != StatusError {
		t.Errorf("%v: res = %v, want %v with the heap checker's problem", msgs, got, want)
	}
	p := pmemtest.Path(t, "obj")
	op, err := obj.Create(p, obj.MinPoolSize, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	res, msgs, err = Check(p, &CheckOptions{Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, Consistent; got != want {
		t.Errorf("%v: res = %v, want %v", msgs, got, want)
	}
	// The poolset UUID (the pool's id in every PMEMoid): only a new
	// checksum would make the header valid, which is refused, with -a too.
	orig := readAt(t, p, 30, 1)
	patch(t, p, 30, []byte("X"))
	for _, adv := range []bool{false, true} {
		res, msgs, err = Check(p, &CheckOptions{Repair: true, Yes: true, Advanced: adv})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res, CannotRepair; got != want {
			t.Errorf("advanced %v: res = %v, want %v", adv, got, want)
		}
		if got, want := msgs, []Status{{StatusError, "invalid pool_hdr.checksum"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("advanced %v: msgs = %v, want %v", adv, got, want)
		}
	}
	patch(t, p, 30, orig)
	// A bad signature: set to PMEMOBJ (its checksum then holds again).
	patch(t, p, 0, []byte("X"))
	res, msgs, err = Check(p, &CheckOptions{Repair: true, Yes: true})
	if err != nil || res != Repaired {
		t.Errorf("signature: %v %v %v", res, msgs, err)
	}
	if res, msgs, err = Check(p, nil); err != nil || res != Consistent {
		t.Errorf("after the repair: %v %v %v", res, msgs, err)
	}
	// A damaged heap header signature and nlanes: restored (values
	// every libpmemobj writes), the checksums hold again.
	heap := binary.LittleEndian.Uint64(readAt(t, p, objlayout.HeapOffsetAt, 8))
	patch(t, p, int64(heap), []byte("X"))
	patch(t, p, objlayout.NLanesAt, []byte{7})
	res, msgs, err = Check(p, &CheckOptions{Repair: true, Yes: true})
	if err != nil || res != Repaired {
		t.Errorf("heap header signature and nlanes: %v %v %v", res, msgs, err)
	}
	if res, msgs, err = Check(p, nil); err != nil || res != Consistent {
		t.Errorf("after the repair: %v %v %v", res, msgs, err)
	}
	// A bad signature and a damaged zone header: the header would be
	// repaired, the heap cannot be: nothing is written.
	patch(t, p, 0, []byte("X"))
	patch(t, p, int64(heap)+objlayout.HeapHeaderSize, []byte("X"))
	before, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	res, msgs, err = Check(p, &CheckOptions{Repair: true, Yes: true, Verbose: true})
	if err != nil || res != CannotRepair {
		t.Errorf("header and heap damaged: %v %v %v", res, msgs, err)
	}
	if after, err := os.ReadFile(p); err != nil || !bytes.Equal(after, before) {
		t.Errorf("a refused repair changed the pool (%v)", err)
	}
}

func readAt(t *testing.T, path string, off int64, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b[off : off+int64(n)]
}

// TestCheckQuestions: every question goes to Ask; a no stops the repair
// with nothing written.
func TestCheckQuestions(t *testing.T) {
	p := newBlk(t, true)
	patch(t, p, blklayout.BTTOffset+200, []byte{1}) // info checksum now wrong, backup intact
	before, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	res, _, err := Check(p, &CheckOptions{Repair: true, Ask: func(q string) bool { asked = append(asked, q); return false }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, NotConsistent; got != want {
		t.Errorf("res = %v, want %v", got, want)
	}
	if got, want := asked, []string{"arena 0: BTT Info header checksum incorrect. Restore BTT Info from backup?"}; !reflect.DeepEqual(got, want) {
		t.Errorf("asked = %v, want %v", got, want)
	}
	after, _ := os.ReadFile(p)
	if got, want := after, before; !bytes.Equal(got, want) {
		t.Errorf("after = %q, want %q", got, want)
	}
	res, _, err = Check(p, &CheckOptions{Repair: true, Ask: func(q string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, Repaired; got != want {
		t.Errorf("res = %v, want %v", got, want)
	}
	res, _, err = Check(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, Consistent; got != want {
		t.Errorf("res = %v, want %v", got, want)
	}
}

func TestCheckBackup(t *testing.T) {
	p := newLog(t)
	patch(t, p, loglayout.WriteOffsetAt, []byte{0xff, 0xff, 0xff, 0xff, 0xff})
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	bk := pmemtest.Path(t, "backup")
	res, _, err := Check(p, &CheckOptions{Repair: true, Yes: true, Backup: bk})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, Repaired; got != want {
		t.Errorf("res = %v, want %v", got, want)
	}
	got, err := os.ReadFile(bk)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := got, orig; !bytes.Equal(got, want) {
		t.Errorf("backup is not the pool before the repair: got = %q, want %q", got, want)
	}
	_, _, err = Check(p, &CheckOptions{Backup: bk})
	if err == nil {
		t.Errorf("backup without repair: no error")
	}
}
