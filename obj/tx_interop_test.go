package obj_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/cobj"
	"github.com/gopmdk/pmdk/obj/objtest"
)

// The transaction interop tests take C libpmemobj as the oracle through a
// C program, testdata/objtx.c, built at test time: it checks the
// invariants of objtest's transaction workload (objtest.TxRoot: the sum
// of the balances, the list against its length field, the blob, exactly
// the accounts, the blob and the list nodes as objects, pmemobj_check) on
// what C's pmemobj_open recovered, and runs a loop of C transactions with
// the same invariants that the tests kill. They skip when the test binary
// is built without the cpeer tag (C PMDK, its headers and gcc absent).

// buildObjTx compiles testdata/objtx.c against C libpmemobj and checks
// that its structures are objtest's.
func buildObjTx(t *testing.T) string {
	t.Helper()
	if !cobj.Available {
		t.Skip("interop: built without -tags cpeer: C libpmemobj is absent")
	}
	bin := t.TempDir() + "/objtx"
	out, err := exec.Command("gcc", "-O1", "-Wall", "-Werror", "-o", bin, "testdata/objtx.c", "-lpmemobj").CombinedOutput()
	if err != nil {
		t.Fatalf("building the C transaction tool: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "layout").Output()
	if err != nil {
		t.Fatalf("objtx layout: %v", err)
	}
	var r objtest.TxRoot
	var a objtest.Account
	var n objtest.Node
	var l loopRoot
	want := fmt.Sprintf("root %d accounts %d head %d len %d blob %d gen %d account %d balance %d id %d node %d next %d value %d looproot %d lock %d\n",
		unsafe.Sizeof(r), unsafe.Offsetof(r.Accounts), unsafe.Offsetof(r.Head), unsafe.Offsetof(r.Len),
		unsafe.Offsetof(r.Blob), unsafe.Offsetof(r.Gen), unsafe.Sizeof(a), unsafe.Offsetof(a.Balance),
		unsafe.Offsetof(a.ID), unsafe.Sizeof(n), unsafe.Offsetof(n.Next), unsafe.Offsetof(n.Value),
		unsafe.Sizeof(l), unsafe.Offsetof(l.Lock))
	if string(out) != want {
		t.Fatalf("testdata/objtx.c's structures are not objtest's:\nC:  %sGo: %s", out, want)
	}
	return bin
}

// Type numbers of the workload's objects (objtest's).
const (
	typeAccount = 1
	typeNode    = 2
	typeBlob    = 3
)

// txView is the workload's state as objtx prints it: State is
// "gen=G blob=B bal=b0,...,b7 list=v0,v1,..." (head first), Objs the
// objects in First/Next order as "off:type,...".
type txView struct {
	State, Objs string
}

func (v txView) String() string { return v.State + " objs=" + v.Objs }

// goTxView reads the workload's state from a Go pool and checks what
// objtx checks in C: the balances sum to objtest.Total, the list's walk
// matches its length field, the blob's bytes are all equal, every object
// is named once (an account, the blob or a list node, of its type number;
// objects of type unnamed, if not 0, need no name) and every named one is
// an object; and the heap checker passes.
func goTxView(p *obj.Pool, unnamed uint64) (txView, error) {
	var v txView
	rootOID, err := p.Root(0)
	if err != nil {
		return v, err
	}
	r, err := obj.PtrTo[objtest.TxRoot](rootOID).Get(p)
	if err != nil {
		return v, err
	}
	type object struct {
		typ   uint64
		named bool
	}
	objs := map[uint64]*object{}
	var list []string
	for o := range p.Objects() {
		tn, err := p.TypeNum(o)
		if err != nil {
			return v, err
		}
		objs[o.Off] = &object{typ: tn, named: unnamed != 0 && tn == unnamed}
		list = append(list, fmt.Sprintf("%d:%d", o.Off, tn))
	}
	v.Objs = strings.Join(list, ",")
	name := func(o obj.OID, typ uint64, what string) error {
		ob := objs[o.Off]
		switch {
		case o.IsNull() || ob == nil:
			return fmt.Errorf("%s %v is not an object of the pool", what, o)
		case ob.typ != typ:
			return fmt.Errorf("%s %v has type %d, want %d", what, o, ob.typ, typ)
		case ob.named:
			return fmt.Errorf("%s %v is named twice", what, o)
		}
		ob.named = true
		return nil
	}
	var bal []string
	var sum int64
	for i, ap := range r.Accounts {
		if err := name(ap.OID(), typeAccount, fmt.Sprintf("account %d", i)); err != nil {
			return v, err
		}
		a, err := ap.Get(p)
		if err != nil {
			return v, err
		}
		sum += a.Balance
		bal = append(bal, strconv.FormatInt(a.Balance, 10))
	}
	if sum != objtest.Total {
		return v, fmt.Errorf("the balances %v sum to %d, not %d", bal, sum, objtest.Total)
	}
	var vals []string
	for n := r.Head; !n.IsNull(); {
		if err := name(n.OID(), typeNode, "list node"); err != nil {
			return v, err
		}
		nv, err := n.Get(p)
		if err != nil {
			return v, err
		}
		vals = append(vals, strconv.FormatUint(nv.Value, 10))
		n = nv.Next
	}
	if uint64(len(vals)) != r.Len {
		return v, fmt.Errorf("a list of %d nodes, length field %d", len(vals), r.Len)
	}
	if err := name(r.Blob, typeBlob, "blob"); err != nil {
		return v, err
	}
	blob := p.Bytes(r.Blob)
	if len(blob) < objtest.BlobSize {
		return v, fmt.Errorf("a blob of %d bytes", len(blob))
	}
	for i, c := range blob[:objtest.BlobSize] {
		if c != blob[0] {
			return v, fmt.Errorf("the blob is torn at byte %d: %d after %d", i, c, blob[0])
		}
	}
	for off, ob := range objs {
		if !ob.named {
			return v, fmt.Errorf("object %#x of type %d is named by nothing (a leak)", off, ob.typ)
		}
	}
	if probs := p.Check(); len(probs) > 0 {
		return v, fmt.Errorf("heap check: %w", errors.Join(probs...))
	}
	v.State = fmt.Sprintf("gen=%d blob=%d bal=%s list=%s", r.Gen, blob[0], strings.Join(bal, ","), strings.Join(vals, ","))
	return v, nil
}

// openGoTxView opens the pool file at path in Go (Go's recovery) and reads
// its view.
func openGoTxView(path string) (txView, error) {
	p, err := obj.Open(path, nil)
	if err != nil {
		return txView{}, fmt.Errorf("Go open: %w", err)
	}
	defer p.Close()
	return goTxView(p, 0)
}

// cTxView runs objtx check on the pool file at path: C opens it (C's
// recovery), checks the invariants (objects of type unnamed, if not 0,
// need no name), closes it and runs pmemobj_check.
func cTxView(bin, path string, unnamed uint64) (txView, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "check", path, strconv.FormatUint(unnamed, 10))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return txView{}, fmt.Errorf("C: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	line, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "state ")
	state, objs, ok2 := strings.Cut(line, " objs=")
	if !ok || !ok2 {
		return txView{}, fmt.Errorf("C: objtx check printed %q", out)
	}
	return txView{state, objs}, nil
}

// txCrashOptions: every crash point with four strategies in full runs
// (CONFORMANCE_FULL=1), else a seeded sample of points (a quarter of them
// with -short) with two.
func txCrashOptions(points int) crashsim.Options {
	if os.Getenv("CONFORMANCE_FULL") == "1" {
		return crashsim.Options{Seed: 7, ExhaustiveLimit: 8,
			Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic, crashsim.Random(7), crashsim.Exhaustive}}
	}
	if testing.Short() {
		points /= 4
	}
	return crashsim.Options{Seed: 7, MaxPoints: points, Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic}}
}

// TestInteropTxCrashGoRecoveredByC cuts objtest's transaction workload
// (transfers whose balances keep their sum, list pushes and pops through
// transactional alloc and free, an aborted transaction, transactions
// snapshotting more than the lane's undo log, a nested one) at its fences
// with the crash simulator. Each post-crash image, as the crash left it,
// goes to a file that the C program opens (C's recovery) and checks: the
// sum of the balances, the list against its length field, the objects of
// pmemobj_first/next (exactly the accounts, the blob and the list nodes),
// pmemobj_check. Go recovers the same image on the device, where the
// workload's own check demands the state of exactly the acknowledged
// transactions or those plus the one in flight, and the heap checker; the
// states and objects C and Go see must be equal.
func TestInteropTxCrashGoRecoveredByC(t *testing.T) {
	bin := buildObjTx(t)
	img := pmemtest.Path(t, "image.obj")
	w := objtest.Transactions()
	goCheck := w.Check
	// Check gets the images as the crash left them: Go recovers them in
	// Check, after C got its copy.
	w.Recover = nil
	// No garbage collection during a run: one changes the lanes the
	// workload's transactions take, and so its fences, from run to run
	// (TestCrashTransactionsFencesIndependentOfGC).
	run := w.Run
	w.Run = func(m *core.Map) error {
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		return run(m)
	}
	w.Check = func(m *core.Map, c crashsim.Crash) error {
		if err := obj.WriteImage(img, m.Bytes()); err != nil {
			return err
		}
		defer os.Remove(img)
		p, err := obj.OpenOnMap(objtest.View(m), nil)
		if err != nil {
			return fmt.Errorf("Go recovery: %w", err)
		}
		gv, err := goTxView(p, 0)
		p.Close()
		if err != nil {
			return fmt.Errorf("Go: %w", err)
		}
		if err := goCheck(m, c); err != nil {
			return fmt.Errorf("Go: %w", err)
		}
		cv, err := cTxView(bin, img, 0)
		if err != nil {
			return err
		}
		if cv != gv {
			return fmt.Errorf("C and Go recover different states:\nC:  %v\nGo: %v", cv, gv)
		}
		// Go reads what C recovered as it recovered its own (from the
		// pessimistic images, or all in full runs).
		if c.Strategy != "pessimistic" && os.Getenv("CONFORMANCE_FULL") != "1" {
			return nil
		}
		if gc, err := openGoTxView(img); err != nil || gc != gv {
			return fmt.Errorf("Go reopening what C recovered: %v\nGo after C: %v\nGo:         %v", err, gc, gv)
		}
		return nil
	}
	rep := crashsim.Explore(t, w, txCrashOptions(24))
	if rep.Fences < 20 || rep.Images == 0 {
		t.Fatalf("only %d fences, %d images", rep.Fences, rep.Images)
	}
}

// TestInteropTxCheckersCatch proves the checks of the C program and of
// goTxView can fail: a pool whose balances no longer sum up, one with a
// leaked object, one whose list length field is off, one with a torn
// blob. Both must refuse each.
func TestInteropTxCheckersCatch(t *testing.T) {
	bin := buildObjTx(t)
	path := pmemtest.Path(t, "bad.obj")
	for _, bad := range []struct {
		name, want string
		spoil      func(p *obj.Pool, r *objtest.TxRoot) error
	}{
		{"sum", "sum to", func(p *obj.Pool, r *objtest.TxRoot) error {
			a, err := r.Accounts[3].Get(p)
			if err != nil {
				return err
			}
			a.Balance++
			p.Persist(unsafe.Slice((*byte)(unsafe.Pointer(&a.Balance)), 8))
			return nil
		}},
		{"leak", "leak", func(p *obj.Pool, r *objtest.TxRoot) error {
			_, err := p.Zalloc(64, typeNode)
			return err
		}},
		{"len", "length field", func(p *obj.Pool, r *objtest.TxRoot) error {
			return p.Tx(func(tx *obj.Tx) error { return obj.TxSet(tx, &r.Len, r.Len+1) })
		}},
		{"blob", "torn", func(p *obj.Pool, r *objtest.TxRoot) error {
			b := p.Bytes(r.Blob)
			b[5000] ^= 1
			p.Persist(b[5000:5001])
			return nil
		}},
	} {
		t.Run(bad.name, func(t *testing.T) {
			defer os.Remove(path)
			p := createTxPool(t, path)
			r := &txRoot(t, p).TxRoot
			if err := goTxPush(p, r); err != nil {
				t.Fatal(err)
			}
			if err := bad.spoil(p, r); err != nil {
				t.Fatal(err)
			}
			_, gerr := goTxView(p, 0)
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if gerr == nil || !strings.Contains(gerr.Error(), bad.want) {
				t.Errorf("Go: %v, want an error about %q", gerr, bad.want)
			}
			if _, err := cTxView(bin, path, 0); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("C: %v, want an error about %q", err, bad.want)
			}
		})
	}
}

// loopRoot is the root of the pools of the C loop: objtest's, then a
// mutex the transactions of C and Go take.
type loopRoot struct {
	objtest.TxRoot
	Lock obj.Mutex
}

// createTxPool creates at path a Go pool holding the workload's start
// (setupTx) under a loopRoot.
func createTxPool(t *testing.T, path string) *obj.Pool {
	t.Helper()
	p, err := obj.Create(path, 32<<20, 0o600, &obj.Options{Layout: "txloop"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.RootPtr[loopRoot](p); err != nil {
		p.Close()
		t.Fatal(err)
	}
	if err := setupTx(p); err != nil {
		p.Close()
		t.Fatal(err)
	}
	return p
}

// setupTx makes the workload's start in a new pool: eight accounts of
// objtest.Total/8 and a zeroed blob, made in one transaction.
func setupTx(p *obj.Pool) error {
	root, err := obj.RootPtr[objtest.TxRoot](p)
	if err != nil {
		return err
	}
	return p.Tx(func(tx *obj.Tx) error {
		r, err := root.Get(p)
		if err != nil {
			return err
		}
		if err := obj.TxAdd(tx, r); err != nil {
			return err
		}
		for i := range r.Accounts {
			a, av, err := obj.TxNew[objtest.Account](tx, typeAccount)
			if err != nil {
				return err
			}
			av.Balance, av.ID = objtest.Total/int64(len(r.Accounts)), uint64(i)
			r.Accounts[i] = a
		}
		r.Blob, err = tx.Zalloc(objtest.BlobSize, typeBlob)
		return err
	})
}

func txRoot(t *testing.T, p *obj.Pool) *loopRoot {
	t.Helper()
	oid, err := p.Root(0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := obj.PtrTo[loopRoot](oid).Get(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// goTxPush pushes a node valued gen+1 in a transaction that bumps gen, as
// the C loop's pushes do.
func goTxPush(p *obj.Pool, r *objtest.TxRoot) error {
	return p.Tx(func(tx *obj.Tx) error {
		n, nv, err := obj.TxNew[objtest.Node](tx, typeNode)
		if err != nil {
			return err
		}
		nv.Value, nv.Next = r.Gen+1, r.Head
		return obj.TxUpdate(tx, r, func(r *objtest.TxRoot) { r.Head = n; r.Len++; r.Gen++ })
	})
}

// goTxStep is Go's transaction between two rounds of the C loop, holding
// the root's mutex as C's do: a transfer, a push or a pop, on some rounds
// a rewrite of the whole blob (which leaves the lane's undo log extended)
// or a reallocation of it, bumping gen as C's transactions do.
func goTxStep(p *obj.Pool, lr *loopRoot, round int) error {
	r := &lr.TxRoot
	a, err := r.Accounts[round%8].Get(p)
	if err != nil {
		return err
	}
	b, err := r.Accounts[(round+3)%8].Get(p)
	if err != nil {
		return err
	}
	var next obj.Ptr[objtest.Node]
	if r.Len > 0 {
		n, err := r.Head.Get(p)
		if err != nil {
			return err
		}
		next = n.Next
	}
	// The mutex C's killed transaction may have held is free in this run
	// (a guard against a hang, not a timing).
	if err := lr.Lock.TimedLock(p, time.Now().Add(time.Minute)); err != nil {
		return fmt.Errorf("the root's mutex: %w", err)
	}
	if err := lr.Lock.Unlock(p); err != nil {
		return err
	}
	if round%2 == 0 && r.Len < 16 {
		if err := goTxPush(p, r); err != nil {
			return err
		}
	}
	return p.Tx(func(tx *obj.Tx) error {
		if err := obj.TxSet(tx, &a.Balance, a.Balance-3); err != nil {
			return err
		}
		if err := obj.TxSet(tx, &b.Balance, b.Balance+3); err != nil {
			return err
		}
		if round%2 == 1 && r.Len > 0 {
			head := r.Head
			if err := obj.TxUpdate(tx, r, func(r *objtest.TxRoot) { r.Head = next; r.Len-- }); err != nil {
				return err
			}
			if err := tx.Free(head.OID()); err != nil {
				return err
			}
		}
		switch round % 4 {
		case 0:
			bl := p.Bytes(r.Blob)[:objtest.BlobSize]
			if err := tx.AddRangeDirect(bl); err != nil {
				return err
			}
			g := (bl[0] + 1) % 251
			for i := range bl {
				bl[i] = g
			}
		case 1:
			sizes := []int{objtest.BlobSize, 90 << 10, 300 << 10}
			blob, err := tx.Realloc(r.Blob, sizes[round/4%3], typeBlob)
			if err != nil {
				return err
			}
			if err := obj.TxSet(tx, &r.Blob, blob); err != nil {
				return err
			}
		}
		return obj.TxSet(tx, &r.Gen, r.Gen+1)
	}, obj.WithMutex(&lr.Lock))
}

// killedRun is what one round of the C loop printed before it was killed.
type killedRun struct {
	start    string // the state C found at open
	acked    string // the state of its last ended transaction ("" if none)
	inFlight string // the state its transaction in progress would leave ("" if none)
	op       string // the name of that transaction
	txs      int    // transactions ended
}

// runCLoop runs objtx loop on the pool at path and kills it with SIGKILL:
// after acks ended transactions and then delay, or (acks < 0) delay after
// its start, in its open maybe. The process is always killed and waited
// for.
func runCLoop(bin, path string, seed uint64, acks int, delay time.Duration) (killedRun, error) {
	var run killedRun
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "loop", path, strconv.FormatUint(seed, 10))
	// A kill leaves every store C made in the page cache: how C flushes
	// does not matter, and its flushes are cheaper than msync.
	cmd.Env = append(os.Environ(), "PMEM_IS_PMEM_FORCE=1")
	// A test binary that dies (a timeout) takes the loop with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return run, err
	}
	if err := cmd.Start(); err != nil {
		return run, err
	}
	lines := make(chan string, 1<<14)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var next string
	parse := func(line string) error {
		switch {
		case strings.HasPrefix(line, "start "):
			run.start = line[len("start "):]
		case strings.HasPrefix(line, "next "):
			run.op, next, _ = strings.Cut(line[len("next "):], " ")
		case line == "ok" && next != "":
			run.acked, next = next, ""
			run.txs++
		default:
			return fmt.Errorf("objtx loop printed %q", line)
		}
		return nil
	}
	var perr error
	for acks >= 0 && run.txs < acks {
		line, ok := <-lines
		if !ok {
			break
		}
		if err := parse(line); err != nil && perr == nil {
			perr = err
		}
	}
	time.Sleep(delay)
	cmd.Process.Kill()
	for line := range lines {
		if err := parse(line); err != nil && perr == nil {
			perr = err
		}
	}
	werr := cmd.Wait()
	run.inFlight = next
	var exit *exec.ExitError
	if !errors.As(werr, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		// An exit, or SIGALRM: objtx's guard against waiting forever (for
		// a lock the pool says is held, say).
		return run, fmt.Errorf("objtx loop ended before it was killed: %v: %s", werr, bytes.TrimSpace(stderr.Bytes()))
	}
	return run, perr
}

// TestInteropTxCKilledRecoveredByGo runs the C program's loop of
// transactions (transfers, pushes and pops through pmemobj_tx_zalloc and
// pmemobj_tx_free, aborted transactions, transactions snapshotting the
// whole 40 KiB blob so the undo log goes on in extensions, nested ones)
// on a pool Go made, and kills it with SIGKILL at a random point (after a
// seeded number of transactions and a seeded delay, sometimes during its
// open), round after round on the same pool: 30 rounds, 300 with
// CONFORMANCE_FULL=1. After most kills Go opens the pool (Go's recovery),
// which must hold the state of C's last ended transaction or of the one
// in flight, pass the invariants and the heap checker, and then runs a
// transaction of its own; the next round's C opens what Go left and must
// find the same state. After the other kills the next round's C recovers
// the pool itself and is killed early, often during that recovery: Go
// then recovers what C's cut-off recovery left. Every third round also
// copies the killed pool for C to recover: C and Go must recover the same
// state and objects, C must accept what Go recovered (pmemobj_open, the
// invariants and pmemobj_check), and Go what C recovered.
func TestInteropTxCKilledRecoveredByGo(t *testing.T) {
	bin := buildObjTx(t)
	rounds := 30
	if os.Getenv("CONFORMANCE_FULL") == "1" {
		rounds = 300
	} else if testing.Short() {
		rounds = 8
	}
	dir := pmemtest.Dir(t)
	path, cpath := dir+"/loop.obj", dir+"/loop.c.obj"
	defer os.Remove(path)
	defer os.Remove(cpath)
	p := createTxPool(t, path)
	v, err := goTxView(p, 0)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// allowed are the states the pool may hold: the one Go left, or those
	// of the last transaction C ended and of the one it was killed in.
	allowed := []string{v.State}
	flightOp := "" // the transaction of allowed[1]
	rng := rand.New(rand.NewPCG(14, 0))
	var txs, killedInOpen, cRecoveries int
	// Kills in a transaction, and those recovered as committed, by name.
	killedIn, committed := map[string]int{}, map[string]int{}
	// Whether this round's C recovers what the last one's kill left.
	cRecovers := false
	for round := range rounds {
		seed := rng.Uint64()
		acks := rng.IntN(40)
		delay := time.Duration(rng.IntN(2000)) * time.Microsecond
		switch {
		case cRecovers:
			acks, delay = -1, time.Duration(rng.IntN(60))*time.Millisecond
			cRecoveries++
		case rng.IntN(10) == 0:
			acks = -1
		}
		run, err := runCLoop(bin, path, seed, acks, delay)
		if err != nil {
			t.Fatalf("round %d (seed %d): %v", round, seed, err)
		}
		if run.start == "" {
			killedInOpen++
		} else if !slices.Contains(allowed, run.start) {
			t.Fatalf("round %d: C opens the pool as\n%s\nnot as one of\n%s", round, run.start, strings.Join(allowed, "\n"))
		} else {
			allowed = []string{run.start}
		}
		if run.acked != "" {
			allowed = []string{run.acked}
		}
		if run.inFlight != "" {
			allowed, flightOp = append(allowed[:1], run.inFlight), run.op
			killedIn[run.op]++
		}
		txs += run.txs
		// Now and then the next round's C recovers this kill.
		if cRecovers = round < rounds-1 && rng.IntN(5) == 0; cRecovers {
			continue
		}
		cross := round%3 == 0
		var cv txView
		if cross {
			if err := obj.CopyFile(cpath, path); err != nil {
				t.Fatal(err)
			}
			if cv, err = cTxView(bin, cpath, 0); err != nil {
				t.Fatalf("round %d: C recovery of the killed pool: %v", round, err)
			}
		}
		p, err := obj.Open(path, nil)
		if err != nil {
			t.Fatalf("round %d: Go recovery of the killed pool: %v", round, err)
		}
		gv, err := goTxView(p, 0)
		if err != nil {
			p.Close()
			t.Fatalf("round %d: after Go's recovery: %v", round, err)
		}
		if !slices.Contains(allowed, gv.State) {
			p.Close()
			t.Fatalf("round %d (seed %d, %d transactions): Go recovers\n%s\nnot one of the last acknowledged state and the one in flight\n%s",
				round, seed, run.txs, gv.State, strings.Join(allowed, "\n"))
		}
		if len(allowed) > 1 && gv.State == allowed[1] && gv.State != allowed[0] {
			committed[flightOp]++
		}
		if cross {
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if cv != gv {
				t.Fatalf("round %d: C and Go recover different states:\nC:  %v\nGo: %v", round, cv, gv)
			}
			// C accepts what Go recovered, Go what C recovered.
			if cg, err := cTxView(bin, path, 0); err != nil || cg != gv {
				t.Fatalf("round %d: C reopening what Go recovered: %v\nC:  %v\nGo: %v", round, err, cg, gv)
			}
			if gc, err := openGoTxView(cpath); err != nil || gc != gv {
				t.Fatalf("round %d: Go reopening what C recovered: %v\nGo: %v\nC:  %v", round, err, gc, gv)
			}
			os.Remove(cpath)
			if p, err = obj.Open(path, nil); err != nil {
				t.Fatal(err)
			}
		}
		r := txRoot(t, p)
		if err := goTxStep(p, r, round); err != nil {
			p.Close()
			t.Fatalf("round %d: Go's transaction: %v", round, err)
		}
		v, err := goTxView(p, 0)
		if cerr := p.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("round %d: after Go's transaction: %v", round, err)
		}
		allowed = []string{v.State}
	}
	t.Logf("%d rounds: %d C transactions ended; killed in a transaction: %v, of which recovered as committed: %v; "+
		"killed before the loop: %d; %d rounds began with C's own recovery of a kill",
		rounds, txs, killedIn, committed, killedInOpen, cRecoveries)
	if txs == 0 {
		t.Fatal("no C transaction ended in any round")
	}
}

// userRoot is the root of the user log workload: objtest's, then the log
// buffers the transactions are given.
type userRoot struct {
	objtest.TxRoot
	Undo, Intent, Small obj.OID
}

// typeLogBuffer is the type number of the user log buffers, objects no
// list or account names.
const typeLogBuffer = 4

// userLogSteps are the transactions of the user log workload, each given
// user log buffers (pmemobj_tx_log_append_buffer): the whole blob
// snapshotted into a user buffer with automatic log growth off, 45
// pushes, a commit whose 46 intents fill a user intent buffer, an aborted
// transaction restoring the blob from a user buffer, and a snapshot of
// the blob that fills the lane's log, a small user buffer and then an
// extension of the heap.
var userLogSteps = []struct {
	name string
	do   func(p *obj.Pool, r *userRoot) error
}{
	{"user-undo", func(p *obj.Pool, r *userRoot) error {
		return p.Tx(func(tx *obj.Tx) error {
			tx.LogAutoAlloc(obj.LogSnapshot, false)
			if err := tx.LogAppendBuffer(obj.LogSnapshot, p.Bytes(r.Undo)); err != nil {
				return err
			}
			return rewriteBlob(tx, p, &r.TxRoot, 1)
		})
	}},
	{"pushes", func(p *obj.Pool, r *userRoot) error {
		return p.Tx(func(tx *obj.Tx) error {
			for range 45 {
				n, nv, err := obj.TxNew[objtest.Node](tx, typeNode)
				if err != nil {
					return err
				}
				nv.Value, nv.Next = r.Gen+1+r.Len, r.Head
				if err := obj.TxUpdate(tx, &r.TxRoot, func(r *objtest.TxRoot) { r.Head = n; r.Len++ }); err != nil {
					return err
				}
			}
			return obj.TxSet(tx, &r.Gen, r.Gen+1)
		})
	}},
	{"user-intents", func(p *obj.Pool, r *userRoot) error {
		return p.Tx(func(tx *obj.Tx) error {
			tx.LogAutoAlloc(obj.LogIntent, false)
			if err := tx.LogAppendBuffer(obj.LogIntent, p.Bytes(r.Intent)); err != nil {
				return err
			}
			var acts []obj.Action
			for n := r.Head; !n.IsNull(); {
				nv, err := n.Get(p)
				if err != nil {
					return err
				}
				acts = append(acts, p.SetValue(&nv.Value, nv.Value+1000))
				n = nv.Next
			}
			if err := tx.Publish(acts...); err != nil {
				return err
			}
			return obj.TxSet(tx, &r.Gen, r.Gen+1)
		})
	}},
	{"user-undo-aborted", func(p *obj.Pool, r *userRoot) error {
		err := p.Tx(func(tx *obj.Tx) error {
			if err := tx.LogAppendBuffer(obj.LogSnapshot, p.Bytes(r.Undo)); err != nil {
				return err
			}
			if err := rewriteBlob(tx, p, &r.TxRoot, 0xee); err != nil {
				return err
			}
			return errAborted
		})
		if !errors.Is(err, errAborted) {
			return fmt.Errorf("aborted transaction: %v", err)
		}
		return nil
	}},
	{"user-undo-then-extension", func(p *obj.Pool, r *userRoot) error {
		return p.Tx(func(tx *obj.Tx) error {
			if err := tx.LogAppendBuffer(obj.LogSnapshot, p.Bytes(r.Small)); err != nil {
				return err
			}
			return rewriteBlob(tx, p, &r.TxRoot, 2)
		})
	}},
}

var errAborted = errors.New("aborted on purpose")

// rewriteBlob snapshots the whole blob and fills it with g, moves 7 from
// account 2 to account 3 and bumps gen.
func rewriteBlob(tx *obj.Tx, p *obj.Pool, r *objtest.TxRoot, g byte) error {
	bl := p.Bytes(r.Blob)[:objtest.BlobSize]
	if err := tx.AddRangeDirect(bl); err != nil {
		return err
	}
	for i := range bl {
		bl[i] = g
	}
	a, err := r.Accounts[2].Get(p)
	if err != nil {
		return err
	}
	b, err := r.Accounts[3].Get(p)
	if err != nil {
		return err
	}
	if err := obj.TxSet(tx, &a.Balance, a.Balance-7); err != nil {
		return err
	}
	if err := obj.TxSet(tx, &b.Balance, b.Balance+7); err != nil {
		return err
	}
	return obj.TxSet(tx, &r.Gen, r.Gen+1)
}

// TestInteropTxCrashGoUserLogsRecoveredByC cuts Go transactions given
// user log buffers (userLogSteps) at their fences: C recovers each image
// (the undo log going on in a user-owned buffer, the commit's redo log in
// one) to the state and objects Go recovers, the log buffers kept, and
// that state is the one after the acknowledged transactions or after the
// one in flight too.
func TestInteropTxCrashGoUserLogsRecoveredByC(t *testing.T) {
	bin := buildObjTx(t)
	img := pmemtest.Path(t, "image.obj")
	opts := &obj.Options{Layout: "txuser", Arenas: 1}
	open := func(m *core.Map) (*obj.Pool, *userRoot, error) {
		p, err := obj.OpenOnMap(objtest.View(m), opts)
		if err != nil {
			return nil, nil, err
		}
		root, err := obj.RootPtr[userRoot](p)
		if err != nil {
			p.Close()
			return nil, nil, err
		}
		r, err := root.Get(p)
		if err != nil {
			p.Close()
			return nil, nil, err
		}
		return p, r, nil
	}
	// views[i] is the state after i steps, acked[i] the fences step i
	// ended after in the last run (uncut runs are checked at the last
	// point, after Run returned).
	var views []txView
	acked := make([]int, len(userLogSteps))
	cFreedUserBuf := 0
	w := crashsim.Workload{
		Size: 16 << 20,
		Setup: func(m *core.Map) error {
			p, err := obj.CreateOnMap(objtest.View(m), opts)
			if err != nil {
				return err
			}
			defer p.Close()
			r, err := obj.RootPtr[userRoot](p)
			if err != nil {
				return err
			}
			if err := setupTx(p); err != nil {
				return err
			}
			rv, err := r.Get(p)
			if err != nil {
				return err
			}
			for _, b := range []struct {
				dst  *obj.OID
				size int
			}{
				{&rv.Undo, obj.TxLogSnapshotsMaxSize(objtest.BlobSize, 8, 8, 8) + 64},
				{&rv.Intent, obj.TxLogIntentsMaxSize(60) + 64},
				{&rv.Small, 8 << 10},
			} {
				if err := p.ZallocTo(b.dst, b.size, typeLogBuffer); err != nil {
					return err
				}
			}
			return nil
		},
		Run: func(m *core.Map) error {
			dev, _ := m.Persister().(*crashsim.Device)
			// Each image is judged by the fences of the run that left it
			// (the lane a transaction takes, and so its fences, may vary
			// from run to run: see TestCrashTransactionsFencesIndependentOfGC).
			for i := range acked {
				acked[i] = math.MaxInt
			}
			// No deferred Close: a crash stops Run with the pool as it is.
			p, r, err := open(m)
			if err != nil {
				return err
			}
			record := views == nil
			if record {
				v, err := goTxView(p, typeLogBuffer)
				if err != nil {
					return err
				}
				views = append(views, v)
			}
			for i, st := range userLogSteps {
				if err := st.do(p, r); err != nil {
					return fmt.Errorf("step %d (%s): %w", i, st.name, err)
				}
				if dev != nil {
					acked[i] = dev.Fences()
				}
				if record {
					v, err := goTxView(p, typeLogBuffer)
					if err != nil {
						return fmt.Errorf("after step %d (%s): %w", i, st.name, err)
					}
					views = append(views, v)
				}
			}
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			done := 0
			for done < len(userLogSteps) && (c.Point > c.Fences || acked[done] < c.Point) {
				done++
			}
			if err := obj.WriteImage(img, m.Bytes()); err != nil {
				return err
			}
			defer os.Remove(img)
			p, r, err := open(m)
			if err != nil {
				return fmt.Errorf("Go recovery: %w", err)
			}
			snapBufs := map[string]bool{
				fmt.Sprintf("%d:%d", r.Undo.Off, typeLogBuffer):  true,
				fmt.Sprintf("%d:%d", r.Small.Off, typeLogBuffer): true,
			}
			gv, err := goTxView(p, typeLogBuffer)
			p.Close()
			if err != nil {
				return fmt.Errorf("Go, after %d transactions: %w", done, err)
			}
			if gv != views[done] && (done == len(userLogSteps) || gv != views[done+1]) {
				return fmt.Errorf("Go recovers, after %d transactions,\n%v\nneither\n%v\nnor the next", done, gv, views[done])
			}
			cv, err := cTxView(bin, img, typeLogBuffer)
			if err != nil {
				return err
			}
			// C's recovery frees the user's snapshot buffer the crash left
			// linked in the lane's undo log (as it does in its own pools):
			// the object the root names is gone. Go's only unlinks it.
			want := gv
			want.Objs = dropObjs(gv.Objs, func(o string) bool { return snapBufs[o] && !strings.Contains(cv.Objs, o) })
			if want.Objs != gv.Objs {
				cFreedUserBuf++
			}
			if cv != want {
				return fmt.Errorf("C and Go recover different states:\nC:  %v\nGo: %v", cv, gv)
			}
			return nil
		},
	}
	rep := crashsim.Explore(t, w, txCrashOptions(16))
	if len(views) != len(userLogSteps)+1 || rep.Images == 0 {
		t.Fatalf("%d states recorded, %d images", len(views), rep.Images)
	}
	t.Logf("C's recovery freed the user's snapshot buffer in %d of %d images", cFreedUserBuf, rep.Images)
}

// dropObjs returns the objects of the list objs ("off:type,...") but
// those drop reports.
func dropObjs(objs string, drop func(string) bool) string {
	var keep []string
	for _, o := range strings.Split(objs, ",") {
		if !drop(o) {
			keep = append(keep, o)
		}
	}
	return strings.Join(keep, ",")
}
