package crashsim

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/hal"
	"golang.org/x/sys/unix"
)

const (
	lineSize = 64 // bytes made durable together by one flushed line
	wordSize = 8  // bytes that survive a crash all or nothing
	// maxSnapshots bounds the flushed versions of a line a crash image may
	// choose from (the latest ones).
	maxSnapshots = 4
)

// ErrCrash is the panic value with which a [Device] cuts a workload off at
// its crash point, and with which every later persist call on the crashed
// device panics. Workloads that recover panics must re-panic it (see
// [IsCrash]).
var ErrCrash = errors.New("crashsim: simulated crash")

// IsCrash reports whether v, a value from recover(), is the simulated crash.
func IsCrash(v any) bool {
	err, ok := v.(error)
	return ok && errors.Is(err, ErrCrash)
}

// DeviceConfig describes a [Device] for [NewDeviceConfig].
type DeviceConfig struct {
	// Size of the device in bytes; ignored when Image is set.
	Size int
	// Image, if not nil, is the initial content, already durable.
	Image []byte
	// Kernels, if not nil, perform the stores of Memmove and Memset (so the
	// simulation also runs the real non-temporal and flush kernels); the
	// device still decides what is durable. nil: plain Go copies.
	Kernels *hal.Kernels

	// KeepOnClose: closing the device's Map leaves the device open (a
	// library's Close may close the Map it was given); call
	// [Device.Close] when done. Run's devices are made so.
	KeepOnClose bool
}

// Device is a simulated persistent memory device. Its working memory (what
// [Device.Map] shows) is a real anonymous mapping; its durable image, the
// content a power failure would leave for certain, is kept apart and only
// changes at a fence. Device implements [core.Persister]:
//
//   - Flush records the content of the covered 64-byte lines at that moment.
//   - Drain is the fence: recorded lines become durable; it is a crash point.
//   - Persist is Flush then Drain (one fence).
//   - Memmove and Memset store, then flush unless MemNoFlush, then fence
//     unless MemNoDrain. Non-temporal stores count as stored and flushed.
//   - Err is always nil: no write-back fails.
//
// A Device is safe for concurrent use. Plain stores to the working memory
// are not seen until the crash, when every line that differs from the
// durable image counts as written.
type Device struct {
	mu      sync.Mutex
	size    int
	mem     []byte // working memory, len rounded up to whole lines
	durable []byte // durable image, same length as mem
	// pending holds the lines flushed since the last fence.
	pending pendingSet
	fences  int
	crashAt int
	crash   *crashState // set once the device has crashed
	kernels *hal.Kernels
	m       *core.Map
	closed  bool
	// keep: closing the Map leaves the device open (DeviceConfig.KeepOnClose).
	keep bool
	// rec, while recording, is the store log being written.
	rec *recording
}

var _ core.Persister = (*Device)(nil)

// NewDevice returns a zero-filled device of size bytes.
func NewDevice(size int) (*Device, error) { return NewDeviceConfig(DeviceConfig{Size: size}) }

// NewDeviceFromImage returns a device whose working and durable content is
// a copy of img (a post-crash image, say).
func NewDeviceFromImage(img []byte) (*Device, error) {
	return NewDeviceConfig(DeviceConfig{Image: img})
}

// NewDeviceConfig returns a device as c describes.
func NewDeviceConfig(c DeviceConfig) (*Device, error) {
	size := c.Size
	if c.Image != nil {
		size = len(c.Image)
	}
	if size <= 0 {
		return nil, fmt.Errorf("crashsim: device size %d: want > 0", size)
	}
	rounded := (size + lineSize - 1) &^ (lineSize - 1)
	if rounded < size {
		return nil, fmt.Errorf("crashsim: device size %d: too large", size)
	}
	// Both images are anonymous mappings: pages neither side ever writes
	// stay unallocated, which keeps large, mostly empty devices cheap.
	mem, err := unix.Mmap(-1, 0, rounded, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("crashsim: map %d bytes: %w", rounded, err)
	}
	durable, err := unix.Mmap(-1, 0, rounded, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		unix.Munmap(mem)
		return nil, fmt.Errorf("crashsim: map %d bytes: %w", rounded, err)
	}
	d := &Device{
		size:    size,
		mem:     mem,
		durable: durable,
		kernels: c.Kernels,
	}
	d.keep = c.KeepOnClose
	if c.Image != nil {
		copyChanged(mem, c.Image, false)
		copyChanged(durable, mem, true)
	}
	d.m = d.newMap()
	return d, nil
}

// Map returns the device as a [core.Map] of cache-line granularity whose
// persist path is the device. Closing the Map closes the device unless it
// was made with DeviceConfig.KeepOnClose (as [Run] makes its devices).
func (d *Device) Map() *core.Map {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m
}

// renewMap gives the device a fresh Map (the driver's devices only, whose
// Map a workload function may have closed).
func (d *Device) renewMap() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m = d.newMap()
}

// newMap returns a new Map of the device: the driver gives each workload
// function its own, as a library opening a pool maps it anew.
func (d *Device) newMap() *core.Map {
	return core.NewMemoryMap(d.mem[:d.size:d.size], core.GranularityCacheLine, d, d.closeFromMap)
}

// closeFromMap is the Map's Close.
func (d *Device) closeFromMap() error {
	d.mu.Lock()
	keep := d.keep
	d.mu.Unlock()
	if keep {
		return nil
	}
	return d.Close()
}

// Size returns the device size in bytes.
func (d *Device) Size() int { return d.size }

// Close releases the working memory. It is idempotent; the Map's slices
// must not be used afterwards.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var recErr error
	if d.rec != nil {
		recErr = unix.Munmap(d.rec.shadow)
		d.rec = nil
	}
	return errors.Join(unix.Munmap(d.mem), unix.Munmap(d.durable), recErr)
}

// Load makes img, [Device.Size] bytes, the working and durable content of
// the device, as a fresh device made from it would hold: flushes, fences,
// an armed or past crash and a recording are forgotten, and the device
// gets a new Map. Loading a scratch device image after image costs what
// the images differ by, not a new mapping each.
func (d *Device) Load(img []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checkOpen()
	if len(img) != d.size {
		return fmt.Errorf("crashsim: load %d bytes into a %d-byte device", len(img), d.size)
	}
	if d.rec != nil {
		if err := unix.Munmap(d.rec.shadow); err != nil {
			return err
		}
		d.rec = nil
	}
	copyChanged(d.mem, img, false)
	copyChanged(d.durable, d.mem, true)
	d.pending.reset()
	d.fences, d.crashAt, d.crash = 0, 0, nil
	d.m = d.newMap()
	return nil
}

// copyChanged copies src into dst, a device mapping of the same length or
// longer, page by page, skipping pages that already match: writing a page
// of an anonymous mapping allocates it, and even reading one costs a fault.
// When src is a device mapping too (srcOurs), a page never touched in src
// is zero: it is skipped when also untouched in dst, else dropped from dst
// (MADV_DONTNEED), which makes it zero and untouched again.
func copyChanged(dst, src []byte, srcOurs bool) {
	dstPages, okDst := touchedPages(dst[:len(src)], nil)
	var srcPages []byte
	okSrc := false
	if srcOurs {
		srcPages, okSrc = touchedPages(src, nil)
	}
	dropFrom := -1 // start of a run of dst pages to drop
	drop := func(end int) {
		if dropFrom >= 0 {
			if dropPages(dst[dropFrom:end]) != nil {
				clear(dst[dropFrom:end])
			}
			dropFrom = -1
		}
	}
	for i, off := 0, 0; off < len(src); i, off = i+1, off+pageSize {
		end := min(off+pageSize, len(src))
		if okDst && okSrc && srcPages[i] == 0 {
			if dstPages[i] != 0 && end-off == pageSize {
				if dropFrom < 0 {
					dropFrom = off
				}
				continue
			}
			drop(off)
			if dstPages[i] == 0 {
				continue
			}
		} else {
			drop(off)
		}
		if !bytes.Equal(dst[off:end], src[off:end]) {
			copy(dst[off:end], src[off:end])
		}
	}
	drop(len(src))
}

// Fences returns the number of fences since the device was made or last
// settled.
func (d *Device) Fences() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fences
}

// Durable returns a copy of the durable image.
func (d *Device) Durable() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checkOpen()
	return bytes.Clone(d.durable[:d.size])
}

// Settle makes the whole working memory durable and resets the fence count
// to zero, as after a clean shutdown. It is how a workload's setup ends.
func (d *Device) Settle() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checkAlive()
	if d.rec != nil {
		d.rec.settle(d.mem, d.size)
	}
	copyChanged(d.durable, d.mem, true)
	d.pending.reset()
	d.fences = 0
}

// CrashAt arms the device: the n-th fence (1-based, counted as [Device.Fences]
// counts) does not complete; the device crashes there and the fence panics
// with [ErrCrash]. n <= 0 disarms.
func (d *Device) CrashAt(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.crashAt = n
}

// Crash crashes the device now, as a power failure between two fences. It
// does nothing if the device has crashed already.
func (d *Device) Crash() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checkOpen()
	if d.crash == nil {
		d.crash = d.captureLocked(d.fences + 1)
	}
}

// Crashed reports whether the device has crashed (at its armed fence or by
// [Device.Crash]).
func (d *Device) Crashed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.crash != nil
}

// checkAlive panics with ErrCrash once the device has crashed: a workload
// that goes on after its crash point (after recovering the panic, say) must
// not make anything durable.
func (d *Device) checkAlive() {
	if d.crash != nil {
		panic(ErrCrash)
	}
	d.checkOpen()
}

func (d *Device) checkOpen() {
	if d.closed {
		panic("crashsim: use of a closed Device")
	}
}

// offset returns the offset of b within the working memory; b must lie in
// it, else it is a caller bug.
func (d *Device) offset(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(d.mem)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	n := uintptr(len(b))
	if p < base || p-base > uintptr(d.size) || n > uintptr(d.size)-(p-base) {
		panic(fmt.Sprintf("crashsim: range of %d bytes outside the device", len(b)))
	}
	return int(p - base)
}

// Flush records the lines covering b as flushed with their content now.
func (d *Device) Flush(b []byte) {
	if len(b) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checkAlive()
	d.flushLocked(d.offset(b), len(b))
}

func (d *Device) flushLocked(off, n int) {
	for line := off &^ (lineSize - 1); line < off+n; line += lineSize {
		d.pending.add(d.mem, line)
		if d.rec != nil {
			d.rec.flushLine(d.mem, line, d.size)
		}
	}
}

// Drain is the fence: every line flushed before it becomes durable with its
// last flushed content. It is a crash point: at the armed fence the device
// crashes instead and Drain panics with [ErrCrash].
func (d *Device) Drain() {
	crashed := func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.checkAlive()
		d.fences++
		if d.fences == d.crashAt {
			d.crash = d.captureLocked(d.fences)
			return true
		}
		d.pending.drainTo(d.durable)
		if d.rec != nil {
			d.rec.log.Ops = append(d.rec.log.Ops, Op{Kind: OpFence})
		}
		return false
	}()
	if crashed {
		panic(ErrCrash)
	}
}

// Persist flushes b and fences.
func (d *Device) Persist(b []byte) {
	d.Flush(b)
	d.Drain()
}

// Err returns nil: the device simulates crashes, not failed write-backs,
// which tests get on a real page-cache file with pmemtest.BreakWriteBack.
func (d *Device) Err() error { return nil }

// Memmove copies src into dst[:len(src)], a part of the device, then
// flushes it unless flags has MemNoFlush and fences unless MemNoDrain.
func (d *Device) Memmove(dst, src []byte, flags core.MemFlags) {
	if len(dst) < len(src) {
		panic("crashsim: Memmove: dst shorter than src")
	}
	dst = dst[:len(src)]
	d.store(dst, flags, func() {
		if d.kernels != nil {
			d.kernels.Memmove(dst, src, flags|core.MemNoDrain)
		} else {
			copy(dst, src)
		}
	})
	if flags&core.MemNoDrain == 0 {
		d.Drain()
	}
}

// Memset fills dst, a part of the device, with c, with the flush and fence
// rules of [Device.Memmove].
func (d *Device) Memset(dst []byte, c byte, flags core.MemFlags) {
	d.store(dst, flags, func() {
		if d.kernels != nil {
			d.kernels.Memset(dst, c, flags|core.MemNoDrain)
		} else {
			for i := range dst {
				dst[i] = c
			}
		}
	})
	if flags&core.MemNoDrain == 0 {
		d.Drain()
	}
}

// store runs write, which stores to dst, then records dst as flushed
// unless flags has MemNoFlush.
func (d *Device) store(dst []byte, flags core.MemFlags, write func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checkAlive()
	off := d.offset(dst)
	write()
	if flags&core.MemNoFlush == 0 && len(dst) > 0 {
		d.flushLocked(off, len(dst))
	}
}
