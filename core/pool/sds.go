package pool

import (
	"encoding/binary"
	"errors"
	"os"

	"github.com/gopmdk/pmdk/core"
)

// ShutdownStateSize is the size in bytes of the shutdown state block.
const ShutdownStateSize = 64

// ShutdownState is the shutdown state (SDS) block of the pool header
// (struct shutdown_state), at header offset 4024. It records the unsafe
// shutdown count and a checksum of the device ids the pool lives on, and a
// dirty flag set while the pool is open, so an ADR failure during an open
// can be told from a clean close.
type ShutdownState struct {
	USC      uint64   // offset 0: sum of the unsafe shutdown counts of the devices
	DeviceID uint64   // offset 8: sum of the checksums of the device ids ("uuid" in C)
	Dirty    uint8    // offset 16: 1 while the pool is open
	Reserved [39]byte // offset 17
	Checksum uint64   // offset 56: Checksum of the block with this field as zero
}

func decodeSDS(b []byte) ShutdownState {
	le := binary.LittleEndian
	var s ShutdownState
	s.USC = le.Uint64(b[0:])
	s.DeviceID = le.Uint64(b[8:])
	s.Dirty = b[16]
	copy(s.Reserved[:], b[17:56])
	s.Checksum = le.Uint64(b[56:])
	return s
}

func (s *ShutdownState) encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint64(b[0:], s.USC)
	le.PutUint64(b[8:], s.DeviceID)
	b[16] = s.Dirty
	copy(b[17:56], s.Reserved[:])
	le.PutUint64(b[56:], s.Checksum)
}

// ComputeChecksum returns the checksum the other fields of s call for.
func (s *ShutdownState) ComputeChecksum() uint64 {
	var b [ShutdownStateSize]byte
	s.encode(b[:])
	return Checksum(b[:], 56, 0)
}

// UpdateChecksum sets s.Checksum from the other fields.
func (s *ShutdownState) UpdateChecksum() { s.Checksum = s.ComputeChecksum() }

// ChecksumOK reports whether s.Checksum matches the other fields.
func (s *ShutdownState) ChecksumOK() bool { return s.Checksum == s.ComputeChecksum() }

// IsZero reports whether every byte of s is zero.
func (s *ShutdownState) IsZero() bool { return *s == ShutdownState{} }

// Device reports what the shutdown state records of the NVDIMMs under a
// pool: their summed unsafe shutdown count and their unique ids
// concatenated. [core.Source] implements it from sysfs. An error wrapping
// [core.ErrNotSupported] or errors.ErrUnsupported (no NVDIMM: a regular
// file on a disk or tmpfs) makes the SDS record zero for that value, as C
// does; any other error fails the create or open.
type Device interface {
	UnsafeShutdownCount() (uint64, error)
	DeviceID() (string, error)
}

// DeviceIDChecksum returns the checksum C keeps of a device id string: the
// Checksum of the id, its NUL and zero padding to the next multiple of 4
// bytes beyond that (always at least one more byte, as C rounds). ok false
// (id not supported) gives the checksum of 4 zero bytes, that is 0.
func DeviceIDChecksum(id string, ok bool) uint64 {
	n := 0
	if ok {
		n = len(id) + 1
	}
	n += 4 - n%4
	b := make([]byte, n)
	if ok {
		copy(b, id)
	}
	return Checksum(b, -1, 0)
}

// currentSDS is the shutdown state of the devices under f now
// (shutdown_state_init plus add_part for the single part): dirty clear,
// checksum set. o.device chooses the device; without it a file's comes from
// sysfs (core.FromFile) and a pool on a bare Map has none.
func currentSDS(o Options, f *os.File) (ShutdownState, error) {
	var s ShutdownState
	var dev Device
	var err error
	switch {
	case o.device != nil:
		dev, err = o.device(f)
	case f != nil:
		dev, err = core.FromFDIn(int(f.Fd()), o.sysfs)
	}
	if err != nil && !isUnsupported(err) {
		return s, err
	}
	if dev != nil && err == nil {
		usc, err := dev.UnsafeShutdownCount()
		switch {
		case err == nil:
			s.USC = usc
		case !isUnsupported(err):
			return s, err
		}
		id, err := dev.DeviceID()
		switch {
		case err == nil:
			s.DeviceID = DeviceIDChecksum(id, true)
		case !isUnsupported(err):
			return s, err
		}
	}
	s.UpdateChecksum()
	return s, nil
}

func isUnsupported(err error) bool {
	return errors.Is(err, core.ErrNotSupported) || errors.Is(err, errors.ErrUnsupported)
}

// checkSDS compares the pool's SDS with the devices' current one as C's
// shutdown_state_check does. It returns the SDS to store (reinit: the
// current values, clean) or nil to keep the pool's, or ErrUnsafeShutdown
// when the pool was open (dirty) across a change of the unsafe shutdown
// count or of the devices.
func checkSDS(cur, pool ShutdownState) (*ShutdownState, error) {
	reinit := func() (*ShutdownState, error) {
		s := ShutdownState{USC: cur.USC, DeviceID: cur.DeviceID}
		s.UpdateChecksum()
		return &s, nil
	}
	if pool.IsZero() && !cur.IsZero() {
		return reinit()
	}
	if !pool.ChecksumOK() {
		// Killed while opening or closing: the block is half written.
		return reinit()
	}
	same := pool.USC == cur.USC && pool.DeviceID == cur.DeviceID
	switch {
	case same && pool.Dirty == 0:
		return nil, nil
	case same:
		// Not closed, but no ADR failure since.
		return reinit()
	case pool.Dirty == 0:
		// ADR failure while the pool was closed.
		return reinit()
	}
	return nil, ErrUnsafeShutdown
}
