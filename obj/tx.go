package obj

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/internal/ulog"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Stage is where a transaction stands (enum pobj_tx_stage).
type Stage int

const (
	StageNone     Stage = iota // no transaction
	StageWork                  // in progress: changes may be made
	StageOnCommit              // committed
	StageOnAbort               // aborted: every change undone
	StageFinally               // ending, after OnCommit or OnAbort
)

func (s Stage) String() string {
	switch s {
	case StageNone:
		return "none"
	case StageWork:
		return "work"
	case StageOnCommit:
		return "oncommit"
	case StageOnAbort:
		return "onabort"
	case StageFinally:
		return "finally"
	}
	return fmt.Sprintf("stage(%d)", int(s))
}

// TxFlags tune the X calls of a transaction, with C's values
// (POBJ_XADD_*, POBJ_XALLOC_*...).
type TxFlags uint64

const (
	// TxNoFlush: commit does not flush the range or object (the caller
	// persists it, or needs no persistence) (POBJ_XADD_NO_FLUSH).
	TxNoFlush TxFlags = 1 << 1
	// TxNoSnapshot: the range is registered (flushed at commit) but its
	// old content is not logged: an abort leaves it as it is
	// (POBJ_XADD_NO_SNAPSHOT).
	TxNoSnapshot TxFlags = 1 << 2
	// TxAssumeInitialized is accepted for C's sake; it only matters to
	// Valgrind (POBJ_XADD_ASSUME_INITIALIZED).
	TxAssumeInitialized TxFlags = 1 << 3
	// TxNoAbort: a failure of this call returns an error without aborting
	// the transaction (POBJ_FLAG_TX_NO_ABORT).
	TxNoAbort TxFlags = 1 << 4
	// TxZero zeroes a transactional allocation (POBJ_XALLOC_ZERO).
	TxZero TxFlags = TxFlags(FlagZero)
)

// Errors of transactions.
var (
	// ErrAborted is what a transaction aborted without a cause of its own
	// ends with (ECANCELED).
	ErrAborted = errors.New("obj: transaction aborted")
	// ErrTxStage: a call a transaction's stage does not allow: a change
	// after commit or abort, a commit twice, an end without commit.
	ErrTxStage = errors.New("obj: call not allowed in this transaction stage")
	// ErrTxBusy: two calls on one transaction at once (a transaction
	// belongs to one goroutine at a time).
	ErrTxBusy = errors.New("obj: transaction used by two goroutines at once")
	// ErrRange: a range to snapshot that is not inside the pool's heap or
	// the object named (EINVAL).
	ErrRange = errors.New("obj: range outside the object or the heap")
	// ErrLogFull: the transaction's logs are full and may not grow
	// (LogAutoAlloc off and no user buffer left).
	ErrLogFull = ulog.ErrFull
)

// LogType names the log a user buffer extends (enum pobj_log_type).
type LogType int

const (
	LogSnapshot LogType = iota // the undo log (TX_LOG_TYPE_SNAPSHOT)
	LogIntent                  // the redo log of the commit (TX_LOG_TYPE_INTENT)
)

// FailureBehavior says what an error inside a transaction does (enum
// pobj_tx_failure_behavior).
type FailureBehavior int

const (
	// FailureAbort: an error aborts the transaction (the default).
	FailureAbort FailureBehavior = iota
	// FailureReturn: an error is returned, the transaction goes on.
	FailureReturn
)

// TxParam is something a transaction takes at begin: a lock, held until
// it ends (TX_PARAM_MUTEX, TX_PARAM_RWLOCK), or a stage callback
// (TX_PARAM_CB).
type TxParam struct {
	mutex *Mutex
	rw    *RWMutex
	cb    func(*Tx, Stage)
}

// WithMutex locks m at begin and unlocks it when the transaction ends.
func WithMutex(m *Mutex) TxParam { return TxParam{mutex: m} }

// WithRWMutex write-locks m at begin and unlocks it at the end.
func WithRWMutex(m *RWMutex) TxParam { return TxParam{rw: m} }

// WithCallback calls cb at each stage change of the outermost transaction
// (TX_PARAM_CB): StageWork before commit, StageOnCommit or StageOnAbort,
// StageFinally, and StageNone at the end.
func WithCallback(cb func(*Tx, Stage)) TxParam { return TxParam{cb: cb} }

// Tx is a transaction (the thread-local transaction of C, made explicit).
// Changes made through it (snapshotted ranges, allocations, frees,
// publications) become durable at once when it commits, or are all undone
// when it aborts or the process dies before commit. A Tx belongs to one
// goroutine at a time; nested transactions use the same Tx (flat nesting:
// an inner abort aborts the outermost).
type Tx struct {
	s   *txState
	gen uint64 // the generation of s it was made for
}

// errEnded is what a handle of an ended transaction gets.
var errEnded = fmt.Errorf("%w: the transaction has ended", ErrTxStage)

// target returns the state the handle names, current or not: the calls
// check the generation as they enter.
func (t *Tx) target() (*txState, error) {
	if t == nil || t.s == nil {
		return nil, fmt.Errorf("%w: no transaction", ErrTxStage)
	}
	return t.s, nil
}

// state returns the transaction's state if the handle is current, for the
// calls that do not enter.
func (t *Tx) state() (*txState, error) {
	if t == nil || t.s == nil || t.s.word.Load()>>txGenShift != t.gen {
		return nil, errEnded
	}
	return t.s, nil
}

// The transaction word of a lane: the generation of its transaction (in
// progress, or next), whether the one before it aborted, and whether a
// call is in progress. One word, so that a call checks its handle's
// generation and marks itself busy in one compare-and-swap, and an end
// bumps the generation, records its outcome and leaves in one store.
const (
	txBusy     = 1 << 0
	txAborted  = 1 << 1 // the previous generation aborted
	txGenShift = 2
)

// handleBatch is how many handles a lane allocates at once: each
// transaction gets a handle of its own (so a kept one is detectably
// stale), without an allocation each.
const handleBatch = 64

// txState is a transaction's state. Each lane has one, reused by the
// transactions that run in the lane; a Tx handle names one use of it.
type txState struct {
	// word: see txBusy. Atomic, like cause, because a stale handle may be
	// used by another goroutine than the lane's.
	word  atomic.Uint64
	cause atomic.Pointer[genErr] // an aborted generation's error, for Err after End
	// The handles: the one of the transaction in progress is hs[hi]. An
	// index, not a pointer, so that a transaction writes no pointer (a
	// write barrier while the garbage collector marks).
	hs    *[handleBatch]Tx
	hi    int
	p     *Pool
	l     *lane
	stage Stage
	depth int   // nesting: 1 for the outermost
	err   error // why it aborted (pmemobj_tx_errno)

	ranges                     rangeSet
	acts                       []heap.Action
	undo                       ulog.Undo
	undoOn                     bool    // undo has been started for this transaction
	ext                        laneExt // undoExt's, kept to not allocate one per call
	snapped                    bool    // the undo generation bump is among the actions
	done                       bool    // committed or rolled back: the logs are released
	locks                      []TxParam
	cb                         func(*Tx, Stage)
	onCommit, onAbort, finally []func()
	failure                    FailureBehavior

	userUndo  bool        // a user buffer extends the undo log
	redoBufs  [][2]uint64 // user buffers for the commit's redo log
	verified  [][2]uint64 // user buffers registered as in use (tx.debug.verify_user_buffers)
	noAutoLog [2]bool     // LogAutoAlloc(type, false)
}

// Begin starts a transaction (pmemobj_tx_begin) and takes its params'
// locks. It returns the transaction in StageWork; the caller must Commit
// (or Abort) and End it. [Pool.Tx] does all of that around a function.
func (p *Pool) Begin(params ...TxParam) (*Tx, error) {
	l, err := p.enterWrite()
	if err != nil {
		return nil, err
	}
	tx := &l.tx
	tx.reset(p, l)
	h := tx.handle()
	if !l.undoShort {
		tx.startUndo()
	}
	if err := tx.takeParams(params); err != nil {
		tx.abort(err)
		return h, err
	}
	return h, nil
}

// handle returns a new handle for the lane's next generation.
func (tx *txState) handle() *Tx {
	if tx.hi++; tx.hs == nil || tx.hi == handleBatch {
		tx.hs, tx.hi = new([handleBatch]Tx), 0
		for i := range tx.hs {
			tx.hs[i].s = tx
		}
	}
	h := &tx.hs[tx.hi]
	h.gen = tx.word.Load() >> txGenShift
	return h
}

// current returns the handle of the transaction in progress.
func (tx *txState) current() *Tx { return &tx.hs[tx.hi] }

// reset prepares a lane's transaction state for a new transaction,
// keeping its buffers.
func (tx *txState) reset(p *Pool, l *lane) {
	// Field by field, and no pointer unless it changes: a whole-struct
	// assignment copies with write barriers, which showed in the empty
	// transaction's profile.
	if tx.l != l {
		tx.p, tx.l = p, l
	}
	tx.stage, tx.depth, tx.err = StageWork, 1, nil
	if len(tx.ranges.r) > 0 {
		tx.ranges.r = tx.ranges.r[:0]
	}
	if len(tx.acts) > 0 {
		clear(tx.acts)
		tx.acts = tx.acts[:0]
	}
	tx.snapped, tx.done, tx.undoOn = false, false, false
	if len(tx.locks) > 0 {
		tx.locks = tx.locks[:0]
	}
	if tx.cb != nil {
		tx.cb = nil
	}
	if len(tx.onCommit)+len(tx.onAbort)+len(tx.finally) > 0 {
		tx.onCommit, tx.onAbort, tx.finally = tx.onCommit[:0], tx.onAbort[:0], tx.finally[:0]
	}
	tx.failure = FailureAbort
	tx.userUndo = false
	if len(tx.redoBufs) > 0 {
		tx.redoBufs = tx.redoBufs[:0]
	}
	tx.noAutoLog = [2]bool{}
}

// startUndo reads the lane's undo log chain, on the transaction's first
// use of it: a transaction that snapshots nothing never touches it. Until
// a lane's chain is known to be short (no extension past the one kept),
// every transaction starts it so its end trims the chain.
func (tx *txState) startUndo() {
	if tx.undoOn {
		return
	}
	tx.undoOn = true
	tx.undo.Start(tx.p.m, tx.l.off+layout.LaneUndoAt, layout.LaneUndoCapacity)
	tx.l.undoShort = tx.undo.Logs() <= 2
}

// finishUndo ends the transaction's use of the undo log, which trims the
// chain: the lane's next transactions need not read it unless that failed.
func (tx *txState) finishUndo(aborted bool) error {
	err := tx.undo.Finish(aborted, tx.userUndo, tx.undoExt())
	tx.l.undoShort = err == nil
	return err
}

func (tx *txState) Begin(gen uint64, params ...TxParam) error {
	if err := tx.enter(gen); err != nil {
		return err
	}
	defer tx.leave()
	if tx.stage != StageWork {
		return fmt.Errorf("%w: begin in stage %v", ErrTxStage, tx.stage)
	}
	tx.depth++
	if err := tx.takeParams(params); err != nil {
		tx.abort(err)
		return err
	}
	return nil
}

func (tx *txState) takeParams(params []TxParam) error {
	for _, prm := range params {
		switch {
		case prm.cb != nil:
			tx.cb = prm.cb
		case prm.mutex != nil || prm.rw != nil:
			if err := tx.lock(prm); err != nil {
				return err
			}
		}
	}
	return nil
}

// lock takes a lock for the transaction, once (add_to_tx_and_lock).
func (tx *txState) lock(prm TxParam) error {
	for _, h := range tx.locks {
		if h.mutex != nil && h.mutex == prm.mutex || h.rw != nil && h.rw == prm.rw {
			return nil
		}
	}
	var err error
	if prm.mutex != nil {
		err = prm.mutex.Lock(tx.p)
	} else {
		err = prm.rw.Lock(tx.p)
	}
	if err != nil {
		return err
	}
	tx.locks = append(tx.locks, prm)
	return nil
}

func (tx *txState) Lock(gen uint64, m *Mutex) error {
	return tx.xlock(gen, TxParam{mutex: m}, TxNoAbort)
}

func (tx *txState) LockRW(gen uint64, m *RWMutex) error {
	return tx.xlock(gen, TxParam{rw: m}, TxNoAbort)
}

func (tx *txState) Xlock(gen uint64, m *Mutex, flags TxFlags) error {
	return tx.xlock(gen, TxParam{mutex: m}, flags)
}

func (tx *txState) xlock(gen uint64, prm TxParam, flags TxFlags) error {
	if err := tx.work(gen, flags, TxNoAbort); err != nil {
		return err
	}
	defer tx.leave()
	return tx.fail(tx.lock(prm), flags)
}

// enter starts a call on the transaction of generation gen: one goroutine
// at a time, and only while that transaction is the lane's.
func (tx *txState) enter(gen uint64) error {
	w := tx.word.Load()
	if w>>txGenShift == gen && w&txBusy == 0 && tx.word.CompareAndSwap(w, w|txBusy) {
		return nil
	}
	if tx.word.Load()>>txGenShift != gen {
		return errEnded
	}
	return ErrTxBusy
}

// enterWait is enter for the end of Pool.Tx's function: a call the
// function left running in another goroutine is waited for.
func (tx *txState) enterWait(gen uint64) error {
	for {
		err := tx.enter(gen)
		if err != ErrTxBusy {
			return err
		}
		runtime.Gosched()
	}
}

// takeOver marks the transaction of generation gen busy for a panicking
// run, whether or not it is: a panic that unwound a call of this
// goroutine's may have left the mark set (a crash, a panicking callback).
// It returns false if the transaction has ended.
func (tx *txState) takeOver(gen uint64) bool {
	for {
		w := tx.word.Load()
		if w>>txGenShift != gen {
			return false
		}
		if tx.word.CompareAndSwap(w, w|txBusy) {
			return true
		}
	}
}

// leave ends a call.
func (tx *txState) leave() { tx.storeWord(tx.word.Load() &^ txBusy) }

// storeWord stores the transaction word as the goroutine holding its busy
// mark (or ending it): no other writes it meanwhile, so a release store
// does (no locked instruction; the others load it or compare-and-swap).
func (tx *txState) storeWord(w uint64) {
	hal.StoreRelease64((*uint64)(unsafe.Pointer(&tx.word)), w)
}

// work enters a call that needs StageWork and flags within valid.
func (tx *txState) work(gen uint64, flags, valid TxFlags) error {
	if err := tx.enter(gen); err != nil {
		return err
	}
	if tx.stage != StageWork {
		tx.leave()
		return fmt.Errorf("%w: %v", ErrTxStage, tx.stage)
	}
	if flags&^valid != 0 {
		err := tx.fail(fmt.Errorf("%w: %#x", ErrFlags, uint64(flags&^valid)), flags)
		tx.leave()
		return err
	}
	return nil
}

// fail handles a failed call: it aborts the transaction unless the flags
// or the failure behavior say to just return (obj_tx_fail_err).
func (tx *txState) fail(err error, flags TxFlags) error {
	if err == nil {
		return nil
	}
	if flags&TxNoAbort == 0 && tx.failure == FailureAbort && tx.stage == StageWork {
		tx.abort(err)
	}
	return err
}

func (tx *txState) Stage() Stage { return tx.stage }

func (tx *txState) Err() error { return tx.err }

func (tx *txState) SetFailureBehavior(b FailureBehavior) { tx.failure = b }

func (tx *txState) OnCommit(fn func()) { tx.onCommit = append(tx.onCommit, fn) }

func (tx *txState) OnAbort(fn func()) { tx.onAbort = append(tx.onAbort, fn) }

func (tx *txState) Finally(fn func()) { tx.finally = append(tx.finally, fn) }

func (tx *txState) callback(s Stage) {
	if tx.cb != nil && tx.depth == 1 {
		tx.cb(tx.current(), s)
	}
}

func (tx *txState) Abort(gen uint64, err error) error {
	if e := tx.enter(gen); e != nil {
		return e
	}
	defer tx.leave()
	if tx.stage != StageWork {
		return fmt.Errorf("%w: abort in stage %v", ErrTxStage, tx.stage)
	}
	tx.abort(err)
	return nil
}

// abort rolls back (outermost) or marks the abort (nested).
func (tx *txState) abort(err error) {
	if err == nil {
		err = ErrAborted
	}
	tx.stage = StageOnAbort
	tx.err = err
	if tx.depth == 1 {
		tx.rollback()
	}
	tx.callback(StageOnAbort)
}

// rollback undoes the outermost transaction (tx_abort): snapshots copied
// back (but for the locks it holds), the undo log invalidated, the
// reservations given back.
func (tx *txState) rollback() {
	p := tx.p
	if tx.done {
		return
	}
	switch {
	case !tx.undoOn:
	case !tx.undo.Empty():
		_ = tx.undo.Rollback(p.valid, tx.keepRanges)
		tx.finishUndo(true)
	case tx.userUndo || tx.undo.Logs() > 2:
		tx.finishUndo(false)
	}
	var res []heap.Action
	for _, a := range tx.acts {
		if a.Kind == heap.ActAlloc {
			res = append(res, a)
		}
	}
	p.heap.Cancel(res)
	tx.acts, tx.ranges.r = tx.acts[:0], tx.ranges.r[:0]
	tx.done = true
}

// keepRanges returns the parts of [off, off+n) an abort restores: all but
// the locks the transaction holds (tx_restore_range).
func (tx *txState) keepRanges(off, n uint64) [][2]uint64 {
	out := [][2]uint64{{off, n}}
	for _, h := range tx.locks {
		var lp unsafe.Pointer
		if h.mutex != nil {
			lp = unsafe.Pointer(h.mutex)
		} else {
			lp = unsafe.Pointer(h.rw)
		}
		lo, ok := tx.p.m.Offset(lp)
		if !ok {
			continue
		}
		var next [][2]uint64
		for _, r := range out {
			s, e := r[0], r[0]+r[1]
			if lo >= e || lo+64 <= s {
				next = append(next, r)
				continue
			}
			if lo > s {
				next = append(next, [2]uint64{s, lo - s})
			}
			if lo+64 < e {
				next = append(next, [2]uint64{lo + 64, e - lo - 64})
			}
		}
		out = next
	}
	return out
}

func (tx *txState) Commit(gen uint64) error {
	if err := tx.enter(gen); err != nil {
		return err
	}
	defer tx.leave()
	return tx.commitEntered()
}

// commitEntered is Commit for a caller that has entered tx.
func (tx *txState) commitEntered() error {
	if tx.stage != StageWork {
		return fmt.Errorf("%w: commit in stage %v", ErrTxStage, tx.stage)
	}
	tx.callback(StageWork)
	if tx.depth == 1 {
		if err := tx.commit(); err != nil {
			tx.abort(err)
			return err
		}
	}
	tx.stage = StageOnCommit
	tx.callback(StageOnCommit)
	return nil
}

func (tx *txState) commit() error {
	p, l := tx.p, tx.l
	longUndo := tx.undoOn && tx.undo.Logs() > 2
	if len(tx.ranges.r) == 0 && len(tx.acts) == 0 && !tx.userUndo && !longUndo {
		tx.done = true // nothing to make durable
		return nil
	}
	for _, r := range tx.ranges.r {
		if r.flags&TxNoFlush == 0 {
			p.m.Flush(r.off, r.size)
		}
	}
	// heap.Publish drains before its redo log: the ranges are durable
	// before the commit is.
	var redo ulog.Extender = l
	if len(tx.redoBufs) > 0 || tx.noAutoLog[LogIntent] {
		redo = &userLogs{l: l, bufs: tx.redoBufs, auto: !tx.noAutoLog[LogIntent]}
	}
	if err := p.heap.Publish(tx.acts, &l.redo, l.externalLog(), layout.LaneExternalCapacity, redo); err != nil {
		return err
	}
	if tx.userUndo || longUndo {
		if err := tx.finishUndo(false); err != nil {
			return err
		}
	}
	tx.acts, tx.ranges.r = tx.acts[:0], tx.ranges.r[:0]
	tx.done = true
	return nil
}

func (tx *txState) End(gen uint64) error {
	if err := tx.enter(gen); err != nil {
		return err
	}
	return tx.endEntered()
}

// endEntered is End for a caller that has entered tx; it leaves tx before
// it returns, and before the lane is given back at the outermost End (the
// lane's next transaction must find tx free).
func (tx *txState) endEntered() error {
	switch tx.stage {
	case StageWork:
		tx.leave()
		return fmt.Errorf("%w: end without commit or abort", ErrTxStage)
	case StageNone:
		tx.leave()
		return fmt.Errorf("%w: end of an ended transaction", ErrTxStage)
	}
	if tx.depth > 1 {
		tx.depth--
		tx.stage = StageWork
		if tx.err != nil {
			tx.abort(tx.err)
		}
		tx.leave()
		return tx.err
	}
	fns := tx.onCommit
	if tx.stage == StageOnAbort {
		fns = tx.onAbort
	}
	for _, fn := range fns {
		fn()
	}
	tx.stage = StageFinally
	tx.callback(StageFinally)
	for _, fn := range tx.finally {
		fn()
	}
	for i := len(tx.locks) - 1; i >= 0; i-- {
		if h := tx.locks[i]; h.mutex != nil {
			_ = h.mutex.Unlock(tx.p)
		} else {
			_ = h.rw.Unlock(tx.p)
		}
	}
	tx.locks = tx.locks[:0]
	if len(tx.verified) > 0 {
		tx.p.userBufs.remove(tx.verified)
		tx.verified = tx.verified[:0]
	}
	tx.stage = StageNone
	tx.callback(StageNone)
	tx.depth = 0
	err := tx.err
	l := tx.l
	g := tx.current().gen
	// The next generation, this one's outcome, and not busy: the handle
	// is stale from now on.
	next := (g + 1) << txGenShift
	if err != nil {
		tx.cause.Store(&genErr{g, err})
		next |= txAborted
	}
	tx.storeWord(next)
	tx.p.leave(l)
	return err
}

func (tx *txState) Process(gen uint64) error {
	switch tx.stage {
	case StageWork:
		return tx.Commit(gen)
	case StageOnCommit, StageOnAbort:
		tx.stage = StageFinally
		tx.callback(StageFinally)
	case StageFinally:
		tx.stage = StageNone
	}
	return nil
}

// Tx runs fn in a transaction (the TX_BEGIN..TX_END block as a closure):
// fn's changes commit when it returns nil; an error it returns aborts the
// transaction and is returned, as is the cause of an abort fn did not
// report (tx.Abort, a failed call); a panic aborts and goes on.
func (p *Pool) Tx(fn func(*Tx) error, params ...TxParam) error {
	h, err := p.Begin(params...)
	if err != nil {
		if h != nil {
			h.End()
		}
		return err
	}
	return h.s.run(h.gen, fn)
}

// Tx runs fn in a transaction nested in tx: its changes are tx's (they
// commit with the outermost); an error aborts the outermost too.
func (tx *txState) Tx(gen uint64, fn func(*Tx) error, params ...TxParam) error {
	if err := tx.Begin(gen, params...); err != nil {
		if err != ErrTxBusy && err != errEnded {
			tx.End(gen)
		}
		return err
	}
	return tx.run(gen, fn)
}

// run runs fn in the transaction of generation gen, then commits or
// aborts and ends it (one level of nesting).
func (tx *txState) run(gen uint64, fn func(*Tx) error) (err error) {
	entered := false // run holds the transaction's busy mark
	defer func() {
		if r := recover(); r != nil {
			if entered || tx.takeOver(gen) {
				if tx.stage == StageWork {
					tx.abort(fmt.Errorf("%w: panic: %v", ErrAborted, r))
				}
				tx.endEntered()
			}
			panic(r)
		}
	}()
	ferr := fn(tx.current())
	if err := tx.enterWait(gen); err != nil {
		// fn ended the transaction itself.
		if ferr != nil {
			return ferr
		}
		return err
	}
	entered = true
	if tx.stage == StageWork {
		if ferr != nil {
			tx.abort(ferr)
		} else if cerr := tx.commitEntered(); cerr != nil {
			ferr = cerr
		}
	}
	eerr := tx.endEntered()
	entered = false
	if ferr != nil {
		return ferr
	}
	return eerr
}

func (tx *txState) AddRange(gen uint64, oid OID, off, size int) error {
	return tx.XAddRange(gen, oid, off, size, 0)
}

func (tx *txState) XAddRange(gen uint64, oid OID, off, size int, flags TxFlags) error {
	if err := tx.work(gen, flags, TxNoFlush|TxNoSnapshot|TxAssumeInitialized|TxNoAbort); err != nil {
		return err
	}
	defer tx.leave()
	if oid.PoolUUIDLo != tx.p.uuidLo || off < 0 || size < 0 {
		return tx.fail(fmt.Errorf("%w: %v+%d, %d bytes", ErrRange, oid, off, size), flags)
	}
	b, err := tx.p.heap.BlockAt(oid.Off)
	if err != nil {
		// Objects allocated in this transaction are not published yet.
		if i := tx.ranges.find(oid.Off); i < 0 || !tx.allocatedHere(oid.Off) {
			return tx.fail(fmt.Errorf("%w: %v", ErrInvalidOID, oid), flags)
		}
		b.Size = tx.ranges.r[tx.ranges.find(oid.Off)].size
	}
	if uint64(off)+uint64(size) > b.Size {
		return tx.fail(fmt.Errorf("%w: %d+%d bytes of a %d-byte object", ErrRange, off, size, b.Size), flags)
	}
	return tx.fail(tx.add(oid.Off+uint64(off), uint64(size), flags), flags)
}

func (tx *txState) AddRangeDirect(gen uint64, b []byte) error { return tx.XAddRangeDirect(gen, b, 0) }

func (tx *txState) XAddRangeDirect(gen uint64, b []byte, flags TxFlags) error {
	if err := tx.work(gen, flags, TxNoFlush|TxNoSnapshot|TxAssumeInitialized|TxNoAbort); err != nil {
		return err
	}
	defer tx.leave()
	if len(b) == 0 {
		return nil
	}
	off, ok := tx.p.m.Offset(unsafe.Pointer(unsafe.SliceData(b)))
	if !ok {
		return tx.fail(fmt.Errorf("%w: not in the pool", ErrRange), flags)
	}
	return tx.fail(tx.add(off, uint64(len(b)), flags), flags)
}

// add snapshots [off, off+size), which must lie in the heap
// (pmemobj_tx_add_common).
func (tx *txState) add(off, size uint64, flags TxFlags) error {
	if size > MaxAllocSize || !tx.p.heap.Contains(off, size) {
		return fmt.Errorf("%w: %#x, %d bytes", ErrRange, off, size)
	}
	return tx.ranges.add(off, size, flags, func(o, n uint64) error {
		if flags&TxNoSnapshot != 0 {
			return nil
		}
		tx.startUndo()
		if !tx.snapped {
			// The commit's redo log invalidates the undo log.
			tx.snapped = true
			gen := tx.l.off + layout.LaneUndoAt + layout.UlogGenNumAt
			tx.acts = append(tx.acts, heap.Action{Kind: heap.ActSet, Dst: gen, Val: tx.undo.Gen() + 1})
		}
		var ext ulog.Extender
		if !tx.noAutoLog[LogSnapshot] {
			ext = tx.undoExt()
		}
		return tx.undo.Add(o, n, ext)
	})
}

// allocatedHere reports whether off is an object this transaction
// allocated.
func (tx *txState) allocatedHere(off uint64) bool {
	for _, a := range tx.acts {
		if a.Kind == heap.ActAlloc && a.Block.Off == off {
			return true
		}
	}
	return false
}

// undoExt returns the extender of the undo log: 32 KiB extensions (C's
// tx.cache.size) with the first log's generation.
func (tx *txState) undoExt() ulog.Extender {
	tx.ext = laneExt{l: tx.l, size: undoExtRequest(uint64(tx.p.ctlState.txCacheSize.Load())), gen: tx.undo.Gen()}
	return &tx.ext
}

func (tx *txState) Alloc(gen uint64, size int, typeNum uint64) (OID, error) {
	return tx.Xalloc(gen, size, typeNum, 0)
}

func (tx *txState) Zalloc(gen uint64, size int, typeNum uint64) (OID, error) {
	return tx.Xalloc(gen, size, typeNum, TxZero)
}

func (tx *txState) Xalloc(gen uint64, size int, typeNum uint64, flags TxFlags) (OID, error) {
	valid := TxZero | TxNoFlush | TxNoAbort | TxFlags(classMask|arenaMask)
	if err := tx.work(gen, flags, valid); err != nil {
		return OID{}, err
	}
	defer tx.leave()
	oid, err := tx.alloc(size, typeNum, flags, nil)
	return oid, tx.fail(err, flags)
}

// alloc reserves an object for the transaction (tx_alloc_common).
func (tx *txState) alloc(size int, typeNum uint64, flags TxFlags, ctor func([]byte) error) (OID, error) {
	req, err := request(size, typeNum, AllocFlags(flags)&(FlagZero|classMask|arenaMask), ctor)
	if err != nil {
		return OID{}, err
	}
	// The commit flushes the object's range unless TxNoFlush.
	req.Flushed = flags&TxNoFlush == 0
	a, err := tx.p.arena(tx.l, AllocFlags(flags))
	if err != nil {
		return OID{}, err
	}
	act, err := tx.p.heap.Reserve(a, req)
	if err != nil {
		return OID{}, err
	}
	tx.acts = append(tx.acts, act)
	_ = tx.ranges.add(act.Block.Off, act.Block.Size, flags&TxNoFlush|TxNoSnapshot, func(o, n uint64) error { return nil })
	return OID{tx.p.uuidLo, act.Block.Off}, nil
}

func (tx *txState) Strdup(gen uint64, s string, typeNum uint64) (OID, error) {
	if err := tx.work(gen, 0, 0); err != nil {
		return OID{}, err
	}
	defer tx.leave()
	oid, err := tx.alloc(len(s)+1, typeNum, 0, strCtor(s))
	return oid, tx.fail(err, 0)
}

func (tx *txState) Realloc(gen uint64, oid OID, size int, typeNum uint64) (OID, error) {
	return tx.realloc(gen, oid, size, typeNum, 0)
}

func (tx *txState) Zrealloc(gen uint64, oid OID, size int, typeNum uint64) (OID, error) {
	return tx.realloc(gen, oid, size, typeNum, TxZero)
}

func (tx *txState) realloc(gen uint64, oid OID, size int, typeNum uint64, flags TxFlags) (OID, error) {
	if err := tx.work(gen, flags, TxZero); err != nil {
		return OID{}, err
	}
	defer tx.leave()
	if oid.IsNull() {
		if size == 0 {
			return OID{}, nil
		}
		o, err := tx.alloc(size, typeNum, flags, nil)
		return o, tx.fail(err, 0)
	}
	if size == 0 {
		return OID{}, tx.fail(tx.free(oid), 0)
	}
	old, err := tx.objectBytes(oid)
	if err != nil {
		return OID{}, tx.fail(err, 0)
	}
	n := min(len(old), size)
	o, err := tx.alloc(size, typeNum, 0, func(b []byte) error {
		copy(b, old[:n])
		if flags&TxZero != 0 {
			clear(b[n:])
		}
		return nil
	})
	if err != nil {
		return OID{}, tx.fail(err, 0)
	}
	if err := tx.free(oid); err != nil {
		return OID{}, tx.fail(err, 0)
	}
	return o, nil
}

// objectBytes returns the usable bytes of oid: an allocated object, or one
// reserved by this transaction.
func (tx *txState) objectBytes(oid OID) ([]byte, error) {
	if oid.PoolUUIDLo == tx.p.uuidLo {
		if b, err := tx.p.heap.BlockAt(oid.Off); err == nil {
			return tx.p.m.Slice(b.Off, b.Size), nil
		}
		for _, a := range tx.acts {
			if a.Kind == heap.ActAlloc && a.Block.Off == oid.Off {
				return tx.p.m.Slice(a.Block.Off, a.Block.Size), nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %v", ErrInvalidOID, oid)
}

func (tx *txState) Free(gen uint64, oid OID) error { return tx.Xfree(gen, oid, 0) }

func (tx *txState) Xfree(gen uint64, oid OID, flags TxFlags) error {
	if err := tx.work(gen, flags, TxNoAbort); err != nil {
		return err
	}
	defer tx.leave()
	if oid.IsNull() {
		return nil
	}
	return tx.fail(tx.free(oid), flags)
}

func (tx *txState) free(oid OID) error {
	if oid.PoolUUIDLo != tx.p.uuidLo {
		return fmt.Errorf("%w: %v", ErrInvalidOID, oid)
	}
	if i := tx.ranges.find(oid.Off); i >= 0 {
		for j, a := range tx.acts {
			if a.Kind == heap.ActAlloc && a.Block.Off == oid.Off {
				tx.ranges.remove(i)
				tx.p.heap.Cancel(tx.acts[j : j+1])
				tx.acts = append(tx.acts[:j], tx.acts[j+1:]...)
				return nil
			}
		}
	}
	for _, a := range tx.acts {
		if a.Kind == heap.ActFree && a.Block.Off == oid.Off {
			return fmt.Errorf("%w: freed twice in the transaction: %v", ErrInvalidOID, oid)
		}
	}
	b, err := tx.p.block(oid)
	if err != nil {
		return err
	}
	tx.acts = append(tx.acts, heap.Action{Kind: heap.ActFree, Block: b})
	return nil
}

func (tx *txState) Publish(gen uint64, acts ...Action) error { return tx.Xpublish(gen, 0, acts...) }

func (tx *txState) Xpublish(gen uint64, flags TxFlags, acts ...Action) error {
	if err := tx.work(gen, flags, TxNoAbort); err != nil {
		return err
	}
	defer tx.leave()
	for _, a := range acts {
		if a.p != tx.p {
			return tx.fail(errors.New("obj: publish: an action of another pool"), flags)
		}
	}
	for _, a := range acts {
		tx.acts = append(tx.acts, a.a)
	}
	return nil
}

func (tx *txState) LogAppendBuffer(gen uint64, t LogType, b []byte) error {
	if err := tx.work(gen, 0, 0); err != nil {
		return err
	}
	defer tx.leave()
	start, ok := tx.p.m.Offset(unsafe.Pointer(unsafe.SliceData(b)))
	if !ok || !tx.p.heap.Contains(start, uint64(len(b))) {
		return tx.fail(fmt.Errorf("%w: log buffer not in the pool's heap", ErrRange), 0)
	}
	off := layout.AlignedUlogOffset(start)
	if off-start+layout.UlogHeaderSize+layout.CacheLine > uint64(len(b)) {
		return tx.fail(fmt.Errorf("%w: log buffer of %d bytes too small", ErrRange, len(b)), 0)
	}
	capacity := (uint64(len(b)) - (off - start) - layout.UlogHeaderSize) &^ (layout.CacheLine - 1)
	if tx.p.ctlState.verifyUserBuffers.Load() != 0 {
		r := [2]uint64{off, off + layout.UlogHeaderSize + capacity}
		if !tx.p.userBufs.insert(r) {
			return tx.fail(fmt.Errorf("%w: [%#x, %#x)", ErrLogBufferInUse, r[0], r[1]), 0)
		}
		tx.verified = append(tx.verified, r)
	}
	if t == LogIntent {
		tx.redoBufs = append(tx.redoBufs, [2]uint64{off, capacity})
		return nil
	}
	tx.startUndo()
	if err := tx.undo.AppendUser(off, capacity); err != nil {
		return tx.fail(err, 0)
	}
	tx.userUndo = true
	return nil
}

func (tx *txState) LogAutoAlloc(t LogType, on bool) { tx.noAutoLog[t] = !on }

// TxLogSnapshotsMaxSize returns the bytes of user log buffer that
// snapshots of the given sizes take at most
// (pmemobj_tx_log_snapshots_max_size).
func TxLogSnapshotsMaxSize(sizes ...int) int {
	const bufOverhead = layout.UlogHeaderSize
	result := uint64(bufOverhead)
	for _, s := range sizes {
		result += layout.BufEntrySize(uint64(s))
	}
	result += result / MaxAllocSize * (bufOverhead + layout.BufEntryHeaderSize)
	return int(result)
}

// TxLogIntentsMaxSize returns the bytes of user log buffer n intents
// (allocations, frees, values) take at most
// (pmemobj_tx_log_intents_max_size).
func TxLogIntentsMaxSize(n int) int {
	result := (uint64(n)*layout.ValEntrySize + layout.CacheLine - 1) &^ (layout.CacheLine - 1)
	result += layout.UlogHeaderSize
	result += result / MaxAllocSize * (layout.UlogHeaderSize + layout.ValEntrySize)
	return int(result)
}

// Tx runs fn in a transaction nested in t: its changes are t's (they
// commit with the outermost); an error aborts the outermost too.
func (t *Tx) Tx(fn func(*Tx) error, params ...TxParam) error {
	s, err := t.target()
	if err != nil {
		return err
	}
	return s.Tx(t.gen, fn, params...)
}

// The handle methods: each checks that the transaction is still the one
// the handle was made for (a Tx used after its End fails), then runs it.

func (h *Tx) Begin(params ...TxParam) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Begin(h.gen, params...)
}

func (h *Tx) Lock(m *Mutex) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Lock(h.gen, m)
}

func (h *Tx) LockRW(m *RWMutex) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.LockRW(h.gen, m)
}

func (h *Tx) Xlock(m *Mutex, flags TxFlags) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Xlock(h.gen, m, flags)
}

func (h *Tx) Stage() Stage {
	st, err := h.state()
	if err != nil {
		return StageNone
	}
	return st.Stage()
}

// Err returns why the transaction aborted (pmemobj_tx_errno), nil if it
// did not. After End it still answers, until the lane's next transaction
// ends (as C's answers until the thread's next transaction).
func (h *Tx) Err() error {
	if st, err := h.state(); err == nil {
		return st.Err()
	}
	if h == nil || h.s == nil {
		return fmt.Errorf("%w: no transaction", ErrTxStage)
	}
	// The word first: the cause is stored before the word that names it,
	// and a later abort's cause carries its own generation.
	if w := h.s.word.Load(); w>>txGenShift == h.gen+1 {
		if w&txAborted == 0 {
			return nil
		}
		if c := h.s.cause.Load(); c != nil && c.gen == h.gen {
			return c.err
		}
	}
	return errEnded
}

// genErr is the error a generation aborted with.
type genErr struct {
	gen uint64
	err error
}

func (h *Tx) SetFailureBehavior(b FailureBehavior) {
	if st, err := h.state(); err == nil {
		st.SetFailureBehavior(b)
	}
}

func (h *Tx) OnCommit(fn func()) {
	if st, err := h.state(); err == nil {
		st.OnCommit(fn)
	}
}

func (h *Tx) OnAbort(fn func()) {
	if st, err := h.state(); err == nil {
		st.OnAbort(fn)
	}
}

func (h *Tx) Finally(fn func()) {
	if st, err := h.state(); err == nil {
		st.Finally(fn)
	}
}

func (h *Tx) Abort(cause error) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Abort(h.gen, cause)
}

func (h *Tx) Commit() error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Commit(h.gen)
}

func (h *Tx) End() error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.End(h.gen)
}

func (h *Tx) Process() error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Process(h.gen)
}

func (h *Tx) AddRange(oid OID, off, size int) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.AddRange(h.gen, oid, off, size)
}

func (h *Tx) XAddRange(oid OID, off, size int, flags TxFlags) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.XAddRange(h.gen, oid, off, size, flags)
}

func (h *Tx) AddRangeDirect(b []byte) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.AddRangeDirect(h.gen, b)
}

func (h *Tx) XAddRangeDirect(b []byte, flags TxFlags) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.XAddRangeDirect(h.gen, b, flags)
}

func (h *Tx) Alloc(size int, typeNum uint64) (OID, error) {
	st, err := h.target()
	if err != nil {
		return OID{}, err
	}
	return st.Alloc(h.gen, size, typeNum)
}

func (h *Tx) Zalloc(size int, typeNum uint64) (OID, error) {
	st, err := h.target()
	if err != nil {
		return OID{}, err
	}
	return st.Zalloc(h.gen, size, typeNum)
}

func (h *Tx) Xalloc(size int, typeNum uint64, flags TxFlags) (OID, error) {
	st, err := h.target()
	if err != nil {
		return OID{}, err
	}
	return st.Xalloc(h.gen, size, typeNum, flags)
}

func (h *Tx) Strdup(s string, typeNum uint64) (OID, error) {
	st, err := h.target()
	if err != nil {
		return OID{}, err
	}
	return st.Strdup(h.gen, s, typeNum)
}

func (h *Tx) Realloc(oid OID, size int, typeNum uint64) (OID, error) {
	st, err := h.target()
	if err != nil {
		return OID{}, err
	}
	return st.Realloc(h.gen, oid, size, typeNum)
}

func (h *Tx) Zrealloc(oid OID, size int, typeNum uint64) (OID, error) {
	st, err := h.target()
	if err != nil {
		return OID{}, err
	}
	return st.Zrealloc(h.gen, oid, size, typeNum)
}

func (h *Tx) Free(oid OID) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Free(h.gen, oid)
}

func (h *Tx) Xfree(oid OID, flags TxFlags) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Xfree(h.gen, oid, flags)
}

func (h *Tx) Publish(acts ...Action) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Publish(h.gen, acts...)
}

func (h *Tx) Xpublish(flags TxFlags, acts ...Action) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.Xpublish(h.gen, flags, acts...)
}

func (h *Tx) LogAppendBuffer(t LogType, b []byte) error {
	st, err := h.target()
	if err != nil {
		return err
	}
	return st.LogAppendBuffer(h.gen, t, b)
}

func (h *Tx) LogAutoAlloc(t LogType, on bool) {
	if st, err := h.state(); err == nil {
		st.LogAutoAlloc(t, on)
	}
}

// Bytes returns the usable bytes of oid: an allocated object of the pool,
// or one this transaction allocated, which [Pool.Bytes] does not see until
// the commit publishes it (pmemobj_direct on a pmemobj_tx_alloc result).
// An object allocated in the transaction may be written without a
// snapshot. An error (ErrInvalidOID) does not abort the transaction.
func (h *Tx) Bytes(oid OID) ([]byte, error) {
	st, err := h.target()
	if err != nil {
		return nil, err
	}
	if err := st.work(h.gen, 0, 0); err != nil {
		return nil, err
	}
	defer st.leave()
	return st.objectBytes(oid)
}
