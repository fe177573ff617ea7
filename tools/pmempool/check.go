package pmempool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	blklayout "github.com/gopmdk/pmdk/blk/layout"
)

// Result is the verdict of Check (enum pmempool_check_result).
type Result int

// Check results, in C's order.
const (
	Consistent    Result = iota // the pool is consistent
	NotConsistent               // the pool is not consistent (or a repair was refused)
	Repaired                    // the pool was (or, in a dry run, would be) repaired
	CannotRepair                // the pool is not consistent and cannot be repaired
	SyncRequired                // a replica needs pmempool sync (poolsets only; never for single files)
	CheckError                  // the check could not run (I/O error, unsupported file)
)

func (r Result) String() string {
	switch r {
	case Consistent:
		return "consistent"
	case NotConsistent:
		return "not consistent"
	case Repaired:
		return "repaired"
	case CannotRepair:
		return "cannot repair"
	case SyncRequired:
		return "sync required"
	}
	return "error"
}

// StatusType says what a Status is (PMEMPOOL_CHECK_MSG_TYPE_*).
type StatusType int

// Status types.
const (
	StatusInfo     StatusType = iota // progress and what was fixed; printed with -v
	StatusError                      // a problem; printed unless -q
	StatusQuestion                   // a repair needing an answer (Ask was called)
)

// Status is one message of a check, worded as C's libpmempool words it.
type Status struct {
	Type StatusType
	Msg  string
}

// CheckOptions select what Check does. The zero value checks without
// changing anything, as pmempool check without options.
type CheckOptions struct {
	// Type, when not TypeUnknown, must match the pool's signature.
	Type PoolType
	// Repair fixes what can be fixed (PMEMPOOL_CHECK_REPAIR).
	Repair bool
	// DryRun with Repair reports the fixes without writing them.
	DryRun bool
	// Advanced allows aggressive repairs: checksums regenerated, UUIDs
	// regenerated, BTT map and flog entries rebuilt.
	Advanced bool
	// Yes answers every question yes (PMEMPOOL_CHECK_ALWAYS_YES).
	Yes bool
	// Backup, with Repair, copies the pool file there before anything is
	// changed.
	Backup string
	// Verbose reports StatusInfo messages too.
	Verbose bool
	// Ask is called with each question ("problem. Do you want to ...?")
	// when Repair is set and Yes is not; it returns the answer. nil
	// answers no.
	Ask func(question string) bool
	// Status, if not nil, receives each message as it is produced.
	Status func(Status)
	// Progress, if not nil, is called during the long scans (BTT maps) with
	// the work done and the total, in map entries.
	Progress func(done, total uint64)
}

// ErrInternal is the error of a check that hit a bug of this package (a
// recovered panic); the file is left unchanged.
var ErrInternal = errors.New("pmempool: internal error")

const requireAdvanced = "the following error can be fixed using PMEMPOOL_CHECK_ADVANCED flag"

// errStop ends the check; the result is already set.
var errStop = errors.New("stop")

type checker struct {
	path string
	o    CheckOptions
	im   *image
	typ  PoolType
	res  Result
	msgs []Status
	hdr  hdrState
	blk  blkState
	// isPart: the header says the file is a poolset part (C's is_part).
	isPart bool
}

// Check checks the pool file at path as pmempool_check does for log and
// blk pools, and with opts.Repair repairs it. It returns the result and
// every message (StatusInfo ones only with opts.Verbose). err is set only
// when the check could not run; corruption is reported through the result
// and the messages. A repair writes nothing unless every question was
// answered yes and opts.DryRun is false.
func Check(path string, opts *CheckOptions) (res Result, msgs []Status, err error) {
	c := &checker{path: path, res: Consistent}
	if opts != nil {
		c.o = *opts
	}
	if !c.o.Repair && c.o.DryRun {
		return CheckError, nil, errors.New("pmempool: dry run requires repair")
	}
	if !c.o.Repair && c.o.Backup != "" {
		return CheckError, nil, errors.New("pmempool: backup requires repair")
	}
	c.im, err = openImage(path, c.o.Repair && !c.o.DryRun)
	if err != nil {
		return CheckError, nil, err
	}
	defer c.im.close()
	defer func() {
		// A hostile pool must give a verdict, never a crash.
		if r := recover(); r != nil {
			c.errorf("internal error: %v", r)
			res, msgs, err = CheckError, c.msgs, fmt.Errorf("%w: %v", ErrInternal, r)
		}
	}()
	if err := c.run(); err != nil && !errors.Is(err, errStop) {
		return CheckError, c.msgs, err
	}
	return c.res, c.msgs, nil
}

func (c *checker) emit(t StatusType, format string, args ...any) {
	if t == StatusInfo && !c.o.Verbose {
		return
	}
	s := Status{Type: t, Msg: fmt.Sprintf(format, args...)}
	c.msgs = append(c.msgs, s)
	if c.o.Status != nil {
		c.o.Status(s)
	}
}

func (c *checker) infof(format string, args ...any)  { c.emit(StatusInfo, format, args...) }
func (c *checker) errorf(format string, args ...any) { c.emit(StatusError, format, args...) }

// ask puts a repair question, whose text is "problem.|question" as in C.
// Without Repair the problem part is reported as an error and ask returns
// false. With Yes the problem is reported as information and the answer is
// yes. Otherwise Ask decides; a no stops the check as NotConsistent
// ("cannot complete repair, reverting changes") and ask returns errStop.
// failOnNo false lets a no pass (C's fail_on_no = 0).
func (c *checker) ask(msg string, failOnNo bool) (bool, error) {
	problem, question, hasQ := strings.Cut(msg, "|")
	problem = strings.TrimSuffix(problem, ".")
	if !hasQ {
		question, problem = problem, ""
	}
	if !c.o.Repair {
		if problem != "" {
			c.errorf("%s", problem)
		}
		return false, nil
	}
	if c.o.Yes {
		if problem != "" {
			c.infof("%s", problem)
		}
		return true, nil
	}
	q := question
	if problem != "" {
		q = problem + ". " + question
	}
	c.emit(StatusQuestion, "%s", q)
	if c.o.Ask != nil && c.o.Ask(q) {
		return true, nil
	}
	if failOnNo {
		return false, c.refuse()
	}
	return false, nil
}

func (c *checker) refuse() error {
	c.errorf("cannot complete repair, reverting changes")
	c.res = NotConsistent
	c.im.dirty = nil
	return errStop
}

// fixed records an accepted repair.
func (c *checker) fixed() { c.res = Repaired }

// stop ends the check with result r after reporting msg as an error.
func (c *checker) stop(r Result, format string, args ...any) error {
	c.res = r
	c.errorf(format, args...)
	return errStop
}

func (c *checker) run() error {
	if c.o.Repair && c.o.Backup != "" {
		if err := c.backup(); err != nil {
			return err
		}
	}
	if c.im.size < 2*4096 {
		c.res = CheckError
		c.errorf("%s: file too small to hold a pool (%d bytes)", c.path, c.im.size)
		return errStop
	}
	c.typ = typeOfSignature(signatureOf(c.im.b))
	if c.o.Type != TypeUnknown && c.typ != TypeUnknown && c.o.Type != c.typ {
		c.res = CheckError
		c.errorf("pool type mismatch: %s pool, %s expected", c.typ, c.o.Type)
		return errStop
	}
	// A header whose part links do not name the file itself is taken for
	// a part of a poolset, whose layout C does not check (is_part).
	h0 := c.header()
	c.isPart = h0.UUID != h0.NextPartUUID || h0.UUID != h0.PrevPartUUID
	if c.typ != TypeUnknown {
		if err := c.checkSDS(); err != nil {
			return err
		}
	}
	if err := c.checkHeader(); err != nil {
		return err
	}
	switch {
	case c.isPart:
	case c.typ == TypeLog:
		if err := c.checkLog(); err != nil {
			return err
		}
	case c.typ == TypeBlk:
		if err := c.checkBlk(); err != nil {
			return err
		}
	}
	if c.o.Repair && !c.o.DryRun {
		// As check_write, a repair run rewrites each arena's info block
		// and its backup from the (checked) header.
		for _, a := range c.blk.arenas {
			if string(c.im.b[a.off+a.info.InfoOff:a.off+a.info.InfoOff+blklayout.InfoSize]) != string(a.raw) ||
				string(c.im.b[a.off:a.off+blklayout.InfoSize]) != string(a.raw) {
				c.im.write(a.off, a.raw)
				c.im.write(a.off+a.info.InfoOff, a.raw)
			}
		}
	}
	pending := false
	if c.typ == TypeObj {
		// Before the flush: a heap the library refuses stops a repair
		// before the header's fixes are written. The open writes into the
		// private mapping only.
		var err error
		if pending, err = c.checkObj(); err != nil {
			return err
		}
	}
	if c.o.Repair && !c.o.DryRun && (c.res == Repaired || len(c.im.dirty) > 0) {
		if err := c.im.flush(); err != nil {
			c.res = CannotRepair
			c.errorf("writing the repaired pool failed: %v", err)
			return errStop
		}
	}
	if pending && c.o.Repair {
		// A consistent pool with logs to recover: recovered in the file,
		// as the next open would do.
		if c.o.DryRun {
			c.infof("pending lane logs would be recovered")
			c.fixed()
			return nil
		}
		return c.recoverObj()
	}
	return nil
}

func signatureOf(b []byte) string {
	s := b[:8]
	if i := strings.IndexByte(string(s), 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

// backup copies the pool file to c.o.Backup (check_backup.c, single file).
func (c *checker) backup() error {
	dst := c.o.Backup
	st, err := os.Stat(dst)
	switch {
	case err == nil:
		if uint64(st.Size()) != c.im.size {
			return c.stop(CheckError, "destination of the backup does not match the size of the source pool file: %s", dst)
		}
		if c.o.DryRun {
			return nil
		}
		yes, err := c.ask("destination of the backup already exists.|Do you want to overwrite it?", true)
		if err != nil || !yes {
			return err
		}
	case errors.Is(err, os.ErrNotExist):
		c.infof("creating backup file: %s", dst)
	default:
		return c.stop(CheckError, "unable to access the backup destination: %s", dst)
	}
	if err := copyFile(c.path, dst); err != nil {
		return c.stop(CheckError, "cannot perform backup")
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
