package obj_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/objtest"
)

var crashStrategies = []crashsim.Strategy{
	crashsim.Pessimistic, crashsim.Optimistic,
	crashsim.Random(1), crashsim.Random(2), crashsim.Exhaustive,
}

// crashBudget returns the exploration options: every crash point with
// CONFORMANCE_FULL=1 (make conformance-full), a seeded sample of at most
// full points in make test, short points with -short.
func crashBudget(full, short int) crashsim.Options {
	o := crashsim.Options{Strategies: crashStrategies, ExhaustiveLimit: 16, RecoveryPoints: 2}
	switch {
	case os.Getenv("CONFORMANCE_FULL") == "1":
	case testing.Short():
		o.MaxPoints = short
	default:
		o.MaxPoints = full
	}
	return o
}

// TestCrashAtomicOps explores every crash point of the atomic API with
// every strategy, and crashes during the recovery of some images: the
// reopened pool always holds the objects of the acknowledged operations,
// possibly of the one in flight, never half of one, and passes the heap
// checker.
func TestCrashAtomicOps(t *testing.T) {
	if rep := crashsim.Explore(t, objtest.AtomicOps(), crashBudget(40, 12)); rep.Fences < 20 {
		t.Fatalf("only %d fences", rep.Fences)
	}
}

// TestCrashPublishExtended explores a publication whose redo log needs an
// extension from the heap.
func TestCrashPublishExtended(t *testing.T) {
	if rep := crashsim.Explore(t, objtest.PublishExtended(), crashBudget(40, 10)); rep.Fences < 6 {
		t.Fatalf("only %d fences: the extension path was not taken", rep.Fences)
	}
}

// TestCrashCheckerCatchesUnloggedPublish proves the crash check can fail:
// an OID stored outside the allocation's redo log tears.
func TestCrashCheckerCatchesUnloggedPublish(t *testing.T) {
	rep, err := crashsim.Run(objtest.UnloggedPublish(), crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Fatalf("an allocation durable before its link went unnoticed: %v", rep)
	}
}

// TestCrashTransactions explores every crash point of transfers, list
// pushes and pops, an aborted, a large and a nested transaction.
func TestCrashTransactions(t *testing.T) {
	if rep := crashsim.Explore(t, objtest.Transactions(), crashBudget(40, 12)); rep.Fences < 20 {
		t.Fatalf("only %d fences", rep.Fences)
	}
}

// staleRoot is the root of TestCrashUndoStaleEntries: a pair whose sum
// holds and a buffer whose snapshots leave look-alike entries in the undo
// log.
type staleRoot struct {
	Pair struct{ A, B int64 }
	Buf  [1536]byte
}

// TestCrashUndoStaleEntries checks the undo log's end mark: a transaction
// leaves, as snapshot data in the lane's undo log, bytes that read as SET
// entries aimed at A; the next, small, transaction must terminate its
// entries durably before they count (the clobber of the next header), or
// a crash in it would let recovery apply the look-alikes.
func TestCrashUndoStaleEntries(t *testing.T) {
	opts := &obj.Options{Layout: "stale", Arenas: 1}
	open := func(m *core.Map) (*obj.Pool, *staleRoot, error) {
		p, err := obj.OpenOnMap(objtest.View(m), opts)
		if err != nil {
			return nil, nil, err
		}
		rp, err := obj.RootPtr[staleRoot](p)
		if err != nil {
			p.Close()
			return nil, nil, err
		}
		r, err := rp.Get(p)
		if err != nil {
			p.Close()
			return nil, nil, err
		}
		return p, r, nil
	}
	const total = 1000
	// snapshotBuf puts the look-alikes in the undo log as snapshot data.
	snapshotBuf := func(p *obj.Pool, r *staleRoot) error {
		return p.Tx(func(tx *obj.Tx) error {
			if err := tx.AddRangeDirect(r.Buf[:]); err != nil {
				return err
			}
			r.Buf[0]++ // the look-alikes stay for the next snapshot
			return nil
		})
	}
	// transfer moves 10 from A to B: one 16-byte snapshot, one entry.
	transfer := func(p *obj.Pool, r *staleRoot) error {
		return p.Tx(func(tx *obj.Tx) error {
			return obj.TxUpdate(tx, &r.Pair, func(pr *struct{ A, B int64 }) { pr.A -= 10; pr.B += 10 })
		})
	}
	// From the log's first read (look-alikes a snapshot of Setup left)
	// or from its bookkeeping (those of a snapshot in this run).
	for _, fromSetup := range []bool{true, false} {
		w := crashsim.Workload{
			Size: 8 << 20,
			Setup: func(m *core.Map) error {
				p, err := obj.CreateOnMap(objtest.View(m), opts)
				if err != nil {
					return err
				}
				defer p.Close()
				rp, err := obj.RootPtr[staleRoot](p)
				if err != nil {
					return err
				}
				r, _ := rp.Get(p)
				r.Pair.A = total
				p.Persist(unsafe.Slice((*byte)(unsafe.Pointer(r)), 16))
				// Look-alike SET entries of A, where the data lines of a
				// snapshot of Buf land in the undo log (past its first line,
				// which holds the entry header and 40 data bytes).
				aOff := rp.OID().Off
				for at := 40; at+16 <= len(r.Buf); at += 64 {
					binary.LittleEndian.PutUint64(r.Buf[at:], aOff) // SET is op 0
					binary.LittleEndian.PutUint64(r.Buf[at+8:], 4242)
				}
				p.Persist(r.Buf[:])
				if fromSetup {
					return snapshotBuf(p, r)
				}
				return nil
			},
			Run: func(m *core.Map) error {
				p, r, err := open(m)
				if err != nil {
					return err
				}
				if !fromSetup {
					if err := snapshotBuf(p, r); err != nil {
						return err
					}
				}
				if err := transfer(p, r); err != nil {
					return err
				}
				return p.Close()
			},
			Check: func(m *core.Map, c crashsim.Crash) error {
				p, r, err := open(m)
				if err != nil {
					return err
				}
				defer p.Close()
				if a, b := r.Pair.A, r.Pair.B; a+b != total || (a != total && a != total-10) {
					return fmt.Errorf("A=%d B=%d: a look-alike entry was applied or the transfer tore", a, b)
				}
				return nil
			},
		}
		t.Run(fmt.Sprintf("from-setup=%v", fromSetup), func(t *testing.T) {
			crashsim.Explore(t, w, crashBudget(60, 20))
		})
	}
}
