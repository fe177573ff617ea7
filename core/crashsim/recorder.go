package crashsim

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"golang.org/x/sys/unix"
)

// recording is the store log a Device writes while recording.
type recording struct {
	// shadow holds every line as the log last recorded it: a flushed line
	// whose words differ from it is a store.
	shadow []byte
	log    StoreLog
	err    error // the first invalid marker
}

// ErrRecording is returned by [Device.StartRecording] on a device that is
// recording already.
var ErrRecording = errors.New("crashsim: device is recording already")

// StartRecording starts a store log of the device (see [StoreLog]): from
// now on each flushed line whose content differs from what the log last
// recorded of it is a store (the changed 8-byte words, from the first to
// the last), each fence is a fence, and [Mark] sets markers. The log
// starts from the durable image. [Device.StopRecording] ends it. A store
// never flushed is never recorded, as pmreorder never replays one; a
// [Device.Settle] records every changed line and a fence.
func (d *Device) StartRecording() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checkAlive()
	if d.rec != nil {
		return ErrRecording
	}
	shadow, err := unix.Mmap(-1, 0, len(d.durable), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return fmt.Errorf("crashsim: map %d bytes: %w", len(d.durable), err)
	}
	copyChanged(shadow, d.durable, true)
	r := &recording{shadow: shadow, log: StoreLog{Size: d.size}}
	pages, ok := touchedPages(shadow, nil)
	var zero [lineSize]byte
	for line := 0; line < d.size; line += lineSize {
		if ok && pages[line/pageSize] == 0 {
			continue
		}
		end := min(line+lineSize, d.size)
		if !bytes.Equal(shadow[line:end], zero[:end-line]) {
			r.log.Base = append(r.log.Base, Op{Kind: OpStore, Off: line, Data: bytes.Clone(shadow[line:end])})
		}
	}
	d.rec = r
	return nil
}

// StopRecording ends the recording and returns its log; nil and no error
// when the device was not recording. The error names the first invalid
// marker name given to [Mark] (the log leaves such markers out).
func (d *Device) StopRecording() (*StoreLog, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.rec
	if r == nil {
		return nil, nil
	}
	d.rec = nil
	err := r.err
	if uerr := unix.Munmap(r.shadow); uerr != nil && err == nil {
		err = uerr
	}
	return &r.log, err
}

// Mark sets a marker named name in the store log of the device m is a map
// of, if it is a recording [Device]; otherwise it does nothing, so a
// program may mark its regions in production code (as PMDK's programs
// call VALGRIND_PMC_EMIT_LOG). pmreorder's markers come in pairs, NAME.BEGIN
// and NAME.END, around the code whose stores an engine chosen for NAME
// replays. Names are 1 to 255 bytes of UTF-8 without control characters.
func Mark(m *core.Map, name string) {
	if d, ok := m.Persister().(*Device); ok {
		d.Mark(name)
	}
}

// Mark sets a marker in the store log, if the device is recording (see
// [Mark]).
func (d *Device) Mark(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.rec
	if r == nil {
		return
	}
	if err := checkMarker(name); err != nil {
		if r.err == nil {
			r.err = err
		}
		return
	}
	r.log.Ops = append(r.log.Ops, Op{Kind: OpMarker, Marker: name})
}

// flushLine records line of mem as a store if its words differ from the
// shadow.
func (r *recording) flushLine(mem []byte, line, size int) {
	first, last := -1, -1
	for w := line; w < line+lineSize; w += wordSize {
		if !bytes.Equal(mem[w:w+wordSize], r.shadow[w:w+wordSize]) {
			if first < 0 {
				first = w
			}
			last = w + wordSize
		}
	}
	if first < 0 {
		return
	}
	last = min(last, size) // bytes past the device's end never change
	copy(r.shadow[first:last], mem[first:last])
	r.log.Ops = append(r.log.Ops, Op{Kind: OpStore, Off: first, Data: bytes.Clone(mem[first:last])})
}

// settle records every changed line and a fence: Settle makes the whole
// working memory durable.
func (r *recording) settle(mem []byte, size int) {
	for page := 0; page < size; page += pageSize {
		end := min(page+pageSize, len(mem))
		if bytes.Equal(mem[page:end], r.shadow[page:end]) {
			continue
		}
		for line := page; line < end && line < size; line += lineSize {
			r.flushLine(mem, line, size)
		}
	}
	r.log.Ops = append(r.log.Ops, Op{Kind: OpFence})
}
