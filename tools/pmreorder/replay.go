package pmreorder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"golang.org/x/sys/unix"
)

// Checker tells whether an image is consistent: nil if it is, an error
// saying what is wrong if not. It gets the image on a [crashsim.Device] of
// its own, reloaded for each image, and may write to it (a library's
// recovery, say). An error wrapping [ErrChecker] means the checker itself
// failed: the replay stops with that error.
type Checker func(m *core.Map) error

// ErrChecker is wrapped by the errors of a checker that could not check
// (a checker program that does not start, say).
var ErrChecker = errors.New("pmreorder: checker failed")

// ErrTooManySequences is returned when an engine would check more images
// at one fence than Config.MaxSequences allows.
var ErrTooManySequences = errors.New("pmreorder: too many sequences")

// DefaultMaxSequences is Config.MaxSequences when zero.
const DefaultMaxSequences = 1 << 20

// Config says how to replay a store log.
type Config struct {
	// Default is the engine outside any marked region (pmreorder's -r).
	Default Engine
	// Markers maps marker names to the engine for the region they mark
	// (pmreorder's -x); see [ParseMarkers].
	Markers map[string]Engine
	// Check checks each image. Required unless every engine in use is
	// NoReorderNoCheck.
	Check Checker
	// Seed seeds ReorderPartial's draws.
	Seed uint64
	// MaxSequences caps the images an engine may check at one fence
	// (0: DefaultMaxSequences); past it Replay fails with
	// ErrTooManySequences instead of running for years.
	MaxSequences int
	// Logger, if not nil, gets a record per fence (Info), per image
	// (Debug) and per inconsistency (Warn), as pmreorder's output log.
	Logger *slog.Logger
}

// Result is the outcome of a replay.
type Result struct {
	Fences int // fences in the log
	Stores int // stores in the log
	Images int // images checked
	// Inconsistent is the first inconsistent image, nil if none.
	Inconsistent *Inconsistency
}

// Inconsistency describes an image the checker rejected and how it was
// made: the image of every store before the fence, then Sequence.
type Inconsistency struct {
	// Fence is the number (from 1) of the fence whose stores were
	// reordered; Fence == Result.Fences+1 for the stores flushed after the
	// last fence (at the end of the log, as if the program ended there).
	Fence int
	// Engine is the engine in force at that fence, Markers the marked
	// regions open there, outermost first.
	Engine  Engine
	Markers []string
	// Pending are the stores flushed since the previous fence, as indices
	// into the log's Ops; Sequence those applied, in order.
	Pending  []int
	Sequence []int
	// Ops are the stores of Sequence.
	Ops []crashsim.Op
	// Err is what the checker said; Image the image it said it of.
	Err   error
	Image []byte
}

func (x *Inconsistency) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "inconsistent image at fence %d (engine %v", x.Fence, x.Engine)
	if len(x.Markers) > 0 {
		fmt.Fprintf(&b, ", in %s", strings.Join(x.Markers, " > "))
	}
	fmt.Fprintf(&b, "): %v\n", x.Err)
	fmt.Fprintf(&b, "%d of the %d stores flushed since the previous fence, in this order:\n", len(x.Sequence), len(x.Pending))
	for i, o := range x.Ops {
		fmt.Fprintf(&b, "  store [%d]: op %d: %v\n", i, x.Sequence[i], o)
	}
	return b.String()
}

// frame is an open marked region.
type frame struct {
	name   string
	engine Engine
}

// Replay replays the log: at each fence, the stores flushed since the
// previous one are replayed on the image of all earlier stores in every
// sequence the engine in force gives, and each image is checked. It stops
// at the first inconsistent image. Marker errors (an END without its
// BEGIN, crossed regions, a name with neither suffix) and checker failures
// are errors.
func Replay(ctx context.Context, l *crashsim.StoreLog, c Config) (Result, error) {
	r := replayer{cfg: c, log: l, rng: rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))}
	if r.cfg.MaxSequences <= 0 {
		r.cfg.MaxSequences = DefaultMaxSequences
	}
	if l.Size <= 0 || l.Size > crashsim.MaxStoreLogSize {
		return r.res, fmt.Errorf("%w: device size %d", crashsim.ErrStoreLog, l.Size)
	}
	// The image is an anonymous mapping: pages no store reaches are never
	// allocated, and a size no memory can hold fails here, not in make.
	img, err := unix.Mmap(-1, 0, l.Size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return r.res, fmt.Errorf("pmreorder: map a %d-byte image: %w", l.Size, err)
	}
	r.img = img
	for _, o := range l.Base {
		if o.Kind != crashsim.OpStore || o.Off < 0 || o.Off > l.Size-len(o.Data) {
			unix.Munmap(img)
			return r.res, fmt.Errorf("%w: base %v outside the device", crashsim.ErrStoreLog, o)
		}
		copy(img[o.Off:], o.Data)
	}
	r.stack = []frame{{engine: c.Default}}
	defer func() {
		unix.Munmap(img)
		if r.scratch != nil {
			r.scratch.Close()
		}
	}()
	var pending []int
	for i, o := range l.Ops {
		if err := ctx.Err(); err != nil {
			return r.res, err
		}
		switch o.Kind {
		case crashsim.OpStore:
			if o.Off < 0 || o.Off > l.Size-len(o.Data) {
				return r.res, fmt.Errorf("%w: op %d: %v outside the device", crashsim.ErrStoreLog, i, o)
			}
			pending = append(pending, i)
			r.res.Stores++
		case crashsim.OpMarker:
			if err := r.marker(o.Marker); err != nil {
				return r.res, fmt.Errorf("op %d: %w", i, err)
			}
		case crashsim.OpFence:
			r.res.Fences++
			if err := r.fence(ctx, r.res.Fences, pending); err != nil || r.res.Inconsistent != nil {
				return r.res, err
			}
			pending = pending[:0]
		}
	}
	if len(pending) > 0 {
		err := r.fence(ctx, r.res.Fences+1, pending)
		return r.res, err
	}
	return r.res, nil
}

type replayer struct {
	cfg     Config
	log     *crashsim.StoreLog
	rng     *rand.Rand
	img     []byte // the image of every store before the current fence
	stack   []frame
	scratch *crashsim.Device
	res     Result
}

const (
	beginSuffix = ".BEGIN"
	endSuffix   = ".END"
)

// marker opens or closes a marked region. A region gets the engine
// Markers names for it, else for the part of its name before the first
// dot (a library's name, in PMDK's markers), else the engine of the
// region around it.
func (r *replayer) marker(m string) error {
	if name, ok := strings.CutSuffix(m, beginSuffix); ok {
		e, found := r.cfg.Markers[name]
		if !found {
			lib, _, _ := strings.Cut(name, ".")
			e, found = r.cfg.Markers[lib]
		}
		if !found {
			e = r.stack[len(r.stack)-1].engine
		}
		r.stack = append(r.stack, frame{name, e})
		r.logf(slog.LevelInfo, "marker", "name", m, "engine", e.String())
		return nil
	}
	if name, ok := strings.CutSuffix(m, endSuffix); ok {
		top := r.stack[len(r.stack)-1]
		if len(r.stack) == 1 || top.name != name {
			return fmt.Errorf("pmreorder: marker %s does not close the open region %q", m, top.name)
		}
		r.stack = r.stack[:len(r.stack)-1]
		r.logf(slog.LevelInfo, "marker", "name", m, "engine", r.stack[len(r.stack)-1].engine.String())
		return nil
	}
	return fmt.Errorf("pmreorder: marker %q ends in neither %s nor %s", m, beginSuffix, endSuffix)
}

func (r *replayer) logf(level slog.Level, msg string, args ...any) {
	if r.cfg.Logger != nil {
		r.cfg.Logger.Log(context.Background(), level, msg, args...)
	}
}

// fence checks the images the engine in force gives for the pending
// stores, then applies them all in order.
func (r *replayer) fence(ctx context.Context, n int, pending []int) error {
	e := r.stack[len(r.stack)-1].engine
	r.logf(slog.LevelInfo, "fence", "fence", n, "stores", len(pending), "engine", e.String())
	if e.Checks() && len(pending) > 0 {
		if count := e.Count(len(pending)); count > r.cfg.MaxSequences {
			return fmt.Errorf("%w: fence %d: %v on %d stores gives %d images, more than %d: mark the region with a cheaper engine",
				ErrTooManySequences, n, e, len(pending), count, r.cfg.MaxSequences)
		}
		if r.cfg.Check == nil {
			return fmt.Errorf("pmreorder: engine %v checks images and no checker is set", e)
		}
		var undo [][]byte
		for seq := range e.Sequences(len(pending), r.rng) {
			if err := ctx.Err(); err != nil {
				return err
			}
			undo = undo[:0]
			for _, s := range seq {
				o := r.log.Ops[pending[s]]
				undo = append(undo, bytes.Clone(r.img[o.Off:o.Off+len(o.Data)]))
				copy(r.img[o.Off:], o.Data)
			}
			err := r.check()
			r.res.Images++
			r.logf(slog.LevelDebug, "image", "fence", n, "sequence", seq, "consistent", err == nil)
			if err != nil && !errors.Is(err, ErrChecker) {
				x := &Inconsistency{Fence: n, Engine: e, Pending: append([]int(nil), pending...), Err: err, Image: bytes.Clone(r.img)}
				for _, f := range r.stack[1:] {
					x.Markers = append(x.Markers, f.name)
				}
				for _, s := range seq {
					x.Sequence = append(x.Sequence, pending[s])
					x.Ops = append(x.Ops, r.log.Ops[pending[s]])
				}
				r.res.Inconsistent = x
				r.logf(slog.LevelWarn, "inconsistent", "fence", n, "error", err.Error(), "sequence", x.Sequence)
				return nil
			}
			for i := len(seq) - 1; i >= 0; i-- {
				copy(r.img[r.log.Ops[pending[seq[i]]].Off:], undo[i])
			}
			if err != nil {
				return err
			}
		}
	}
	for _, p := range pending {
		o := r.log.Ops[p]
		copy(r.img[o.Off:], o.Data)
	}
	return nil
}

// check runs the checker on the current image, on the scratch device.
func (r *replayer) check() error {
	if r.scratch == nil {
		d, err := crashsim.NewDeviceConfig(crashsim.DeviceConfig{Size: r.log.Size, KeepOnClose: true})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrChecker, err)
		}
		r.scratch = d
	}
	if err := r.scratch.Load(r.img); err != nil {
		return fmt.Errorf("%w: %w", ErrChecker, err)
	}
	return r.cfg.Check(r.scratch.Map())
}

// ProgramChecker returns a checker that writes each image to imagePath
// and runs prog with args and imagePath as its last argument: exit status
// 0 means consistent, any other inconsistent (pmreorder's "prog"
// checker). A program that cannot be started is a checker failure.
func ProgramChecker(imagePath, prog string, args ...string) Checker {
	return func(m *core.Map) error {
		if err := os.WriteFile(imagePath, m.Bytes(), 0o600); err != nil {
			return fmt.Errorf("%w: %w", ErrChecker, err)
		}
		cmd := exec.Command(prog, append(args[:len(args):len(args)], imagePath)...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			return nil
		}
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			msg := strings.TrimSpace(string(out))
			if len(msg) > 2000 {
				msg = msg[:2000] + "..."
			}
			return fmt.Errorf("%s exited with status %d: %s", prog, ee.ExitCode(), msg)
		}
		return fmt.Errorf("%w: %w", ErrChecker, err)
	}
}
