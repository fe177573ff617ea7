package crashsim

import (
	"bytes"
	"encoding/binary"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
)

// DefaultExhaustiveLimit is the number of images [Exhaustive] produces per
// crash point at most, when Options.ExhaustiveLimit is zero.
const DefaultExhaustiveLimit = 256

// crashState is what a crash leaves in flux: the durable image and, for
// every line written or flushed but not fenced, its newer versions.
type crashState struct {
	point   int    // crash point: the crashing fence, or fences+1 between fences
	durable []byte // frozen: the device no longer fences once crashed
	lines   []dirtyLine
}

// dirtyLine is one line whose post-crash content is uncertain.
type dirtyLine struct {
	off int
	// versions newer than the durable line, oldest first, the last being
	// the working content at the crash (which alone may equal the durable
	// line).
	versions [][lineSize]byte
}

// captureLocked records the state of a crash now, at crash point point.
// d.mu is held.
func (d *Device) captureLocked(point int) *crashState {
	cs := &crashState{point: point, durable: d.durable}
	memPages, okMem := touchedPages(d.mem, nil)
	durPages, okDur := touchedPages(d.durable, nil)
	for i, base := 0, 0; base < len(d.mem); i, base = i+1, base+pageSize {
		end := min(base+pageSize, len(d.mem))
		if okMem && okDur && memPages[i] == 0 && durPages[i] == 0 {
			continue // never touched: zero in both
		}
		if bytes.Equal(d.mem[base:end], d.durable[base:end]) && !d.pendingIn(base, end) {
			continue
		}
		for line := base; line < end; line += lineSize {
			var dl dirtyLine
			var dur, cur [lineSize]byte
			copy(dur[:], d.durable[line:])
			copy(cur[:], d.mem[line:])
			for _, s := range d.pending.versions(line) {
				if s != dur && (len(dl.versions) == 0 || dl.versions[len(dl.versions)-1] != s) {
					dl.versions = append(dl.versions, s)
				}
			}
			// The working content is always the latest version, even when
			// it went back to the durable one after a flush.
			if cur != dur || len(dl.versions) > 0 {
				if len(dl.versions) == 0 || dl.versions[len(dl.versions)-1] != cur {
					dl.versions = append(dl.versions, cur)
				}
				dl.off = line
				cs.lines = append(cs.lines, dl)
			}
		}
	}
	return cs
}

func (d *Device) pendingIn(base, end int) bool {
	if d.pending.empty() {
		return false
	}
	for line := base; line < end; line += lineSize {
		if d.pending.has(line) {
			return true
		}
	}
	return false
}

// wordChoices returns the distinct values word w (0..7) of line l may hold
// after the crash, the durable one first.
func (cs *crashState) wordChoices(l *dirtyLine, w int, buf []uint64) []uint64 {
	at := l.off + w*wordSize
	buf = append(buf[:0], binary.LittleEndian.Uint64(cs.durable[at:]))
	for i := range l.versions {
		v := binary.LittleEndian.Uint64(l.versions[i][w*wordSize:])
		dup := slices.Contains(buf, v)
		if !dup {
			buf = append(buf, v)
		}
	}
	return buf
}

// combinations returns how many distinct images the state allows, capped
// at limit+1 (limit < math.MaxInt).
func (cs *crashState) combinations(limit int) int {
	n := 1
	var buf []uint64
	for i := range cs.lines {
		for w := range lineSize / wordSize {
			buf = cs.wordChoices(&cs.lines[i], w, buf)
			if n > limit/len(buf) { // n*len(buf) > limit, without overflow
				return limit + 1
			}
			n *= len(buf)
		}
	}
	return n
}

// image builds the post-crash image of size bytes for strategy s; variant
// selects one image of Exhaustive.
func (cs *crashState) image(size int, s Strategy, variant int64, limit int) []byte {
	img := bytes.Clone(cs.durable)
	cs.apply(img, s, variant, limit)
	return img[:size]
}

// apply sets the uncertain lines of img, which holds the durable image, as
// strategy s (and variant, for Exhaustive) chooses.
func (cs *crashState) apply(img []byte, s Strategy, variant int64, limit int) {
	switch s.kind {
	case kindPessimistic:
	case kindOptimistic:
		for i := range cs.lines {
			l := &cs.lines[i]
			copy(img[l.off:], l.versions[len(l.versions)-1][:])
		}
	case kindRandom:
		cs.randomize(img, uint64(s.seed))
	case kindExhaustive:
		if cs.combinations(limit) > limit {
			switch variant {
			case 0:
				cs.apply(img, Pessimistic, 0, limit)
			case 1:
				cs.apply(img, Optimistic, 0, limit)
			default:
				cs.randomize(img, uint64(variant)^0x9e3779b97f4a7c15)
			}
			return
		}
		// Mixed radix: each uncertain word is one digit.
		k := uint64(variant)
		var buf []uint64
		for i := range cs.lines {
			l := &cs.lines[i]
			for w := range lineSize / wordSize {
				buf = cs.wordChoices(l, w, buf)
				n := uint64(len(buf))
				binary.LittleEndian.PutUint64(img[l.off+w*wordSize:], buf[k%n])
				k /= n
			}
		}
	}
}

// randomize sets each uncertain line of img from a generator seeded by seed
// and the crash point: a quarter of the lines keep their durable content, a
// quarter their latest, the rest a version per word.
func (cs *crashState) randomize(img []byte, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, uint64(cs.point)))
	var buf []uint64
	for i := range cs.lines {
		l := &cs.lines[i]
		switch rng.IntN(4) {
		case 0:
			continue
		case 1:
			copy(img[l.off:], l.versions[len(l.versions)-1][:])
			continue
		}
		for w := range lineSize / wordSize {
			buf = cs.wordChoices(l, w, buf)
			binary.LittleEndian.PutUint64(img[l.off+w*wordSize:], buf[rng.IntN(len(buf))])
		}
	}
}

// state returns the crash state: the recorded one after a crash, else one
// computed now (the device goes on).
func (d *Device) state() *crashState {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checkOpen()
	if d.crash != nil {
		return d.crash
	}
	cs := d.captureLocked(d.fences + 1)
	cs.durable = bytes.Clone(cs.durable)
	return cs
}

// stateIfOpen is state, or false for a closed device.
func (d *Device) stateIfOpen() (*crashState, bool) {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return nil, false
	}
	return d.state(), true
}

// CrashImage returns the post-crash image strategy s gives for the crash of
// the device (or, if it has not crashed, for a crash now). For
// [Exhaustive] it is the first image, the pessimistic one; see
// [Device.CrashImages].
func (d *Device) CrashImage(s Strategy) []byte {
	return d.state().image(d.size, s, 0, DefaultExhaustiveLimit)
}

// CrashImages yields every post-crash image of strategy s with its index:
// one image for all strategies but [Exhaustive], which yields up to limit
// (0 means [DefaultExhaustiveLimit]).
func (d *Device) CrashImages(s Strategy, limit int) iter.Seq2[int64, []byte] {
	if limit <= 0 {
		limit = DefaultExhaustiveLimit
	}
	limit = min(limit, math.MaxInt-1)
	cs := d.state()
	return func(yield func(int64, []byte) bool) {
		n := 1
		if s.kind == kindExhaustive {
			n = min(cs.combinations(limit), limit)
		}
		for k := range n {
			if !yield(int64(k), cs.image(d.size, s, int64(k), limit)) {
				return
			}
		}
	}
}

// loadCrash makes d, a scratch device, hold the post-crash image of cs
// that s and variant choose, durable, as a fresh device would. It reports
// false when d was closed.
func (d *Device) loadCrash(cs *crashState, s Strategy, variant int64, limit int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || len(d.mem) != len(cs.durable) {
		return false
	}
	copyChanged(d.mem, cs.durable, true)
	cs.apply(d.mem, s, variant, limit)
	copyChanged(d.durable, d.mem, true)
	d.pending.reset()
	d.fences, d.crashAt, d.crash = 0, 0, nil
	d.m = d.newMap()
	return true
}

// Uncertain returns how many lines the crash left in flux (written or
// flushed but not fenced).
func (d *Device) Uncertain() int { return len(d.state().lines) }
