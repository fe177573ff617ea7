package obj_test

import (
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core/crashsim"
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
