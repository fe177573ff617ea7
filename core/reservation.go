package core

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Reservation is a range of virtual address space held with no access
// (pmem2_vm_reservation), into which [NewPartsMapIn] maps parts at
// offsets the caller chooses. A mapping in it never overlaps another, and
// closing the mapping gives its range back to the reservation instead of
// to the system, so no other mapping can take it. A Reservation may be
// used from several goroutines.
type Reservation struct {
	addr   unsafe.Pointer // the range the caller sees
	size   uintptr
	raddr  unsafe.Pointer // the range reserved (size plus alignment slack)
	rsize  uintptr
	mu     sync.Mutex
	ranges []resRange // in offset order, not overlapping
}

// resRange is the part [off, end) of a reservation a mapping holds.
type resRange struct{ off, end uintptr }

// NewReservation reserves size bytes of address space at addr
// (pmem2_vm_reservation_new): both multiples of the page size, else
// errors wrapping ErrOffsetUnaligned or ErrLengthUnaligned. A range of
// which some page is mapped fails with an error wrapping ErrAddressInUse.
// A nil addr lets the system choose, aligned to 2 MiB (1 GiB from 2 GiB of
// size) as mappings are, so that DAX can use huge pages.
func NewReservation(addr unsafe.Pointer, size int) (*Reservation, error) {
	page := uintptr(os.Getpagesize())
	if uintptr(addr)%page != 0 {
		return nil, fmt.Errorf("core: reservation at %p: not a multiple of %d: %w", addr, page, ErrOffsetUnaligned)
	}
	if size <= 0 || uintptr(size)%page != 0 {
		return nil, fmt.Errorf("core: reservation of %d bytes: not a positive multiple of %d: %w", size, page, ErrLengthUnaligned)
	}
	n := uintptr(size)
	r := &Reservation{size: n}
	if addr != nil {
		got, err := unix.MmapPtr(-1, 0, addr, n, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|unix.MAP_FIXED_NOREPLACE)
		if err == nil && got != addr {
			_ = unix.MunmapPtr(got, n) // a kernel before 4.17 took it for a hint
			err = unix.EEXIST
		}
		if err != nil {
			if errors.Is(err, unix.EEXIST) {
				err = fmt.Errorf("%w (%w)", ErrAddressInUse, err)
			}
			return nil, fmt.Errorf("core: reservation at %p of %d bytes: %w", addr, size, err)
		}
		r.addr, r.raddr, r.rsize = addr, addr, n
		return r, nil
	}
	align := uintptr(2 << 20)
	if n >= 2<<30 {
		align = 1 << 30
	}
	r.rsize = (n+align-1)&^(align-1) + align
	base, err := unix.MmapPtr(-1, 0, nil, r.rsize, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("core: reservation of %d bytes: %w", size, err)
	}
	r.raddr = base
	r.addr = unsafe.Add(base, (uintptr(base)+align-1)&^(align-1)-uintptr(base))
	return r, nil
}

// Addr returns the start of the reservation.
func (r *Reservation) Addr() unsafe.Pointer { return r.addr }

// Size returns the size of the reservation in bytes.
func (r *Reservation) Size() int { return int(r.size) }

// Find returns the earliest mapping in the reservation that overlaps the
// length bytes from off, as offsets [start, end) in the reservation
// (pmem2_vm_reservation_map_find); found is false when there is none.
func (r *Reservation) Find(off, length int) (start, end int, found bool) {
	if off < 0 || length <= 0 {
		return 0, 0, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	lo, hi := uintptr(off), uintptr(off)+uintptr(length)
	for _, x := range r.ranges {
		if x.end > lo && x.off < hi {
			return int(x.off), int(x.end), true
		}
	}
	return 0, 0, false
}

// Close releases the reservation's address space
// (pmem2_vm_reservation_delete). It fails with an error wrapping
// ErrReservationNotEmpty while a mapping is in it.
func (r *Reservation) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ranges) > 0 {
		return fmt.Errorf("core: reservation at %p: %d mappings: %w", r.addr, len(r.ranges), ErrReservationNotEmpty)
	}
	if r.rsize == 0 {
		return nil
	}
	err := unix.MunmapPtr(r.raddr, r.rsize)
	r.rsize = 0
	return err
}

// claim records [off, off+n) as held by a mapping, or fails when a
// mapping holds part of it.
func (r *Reservation) claim(off, n uintptr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rsize == 0 {
		return fmt.Errorf("core: reservation closed: %w", ErrInvalidArgument)
	}
	i, _ := slices.BinarySearchFunc(r.ranges, off, func(x resRange, o uintptr) int {
		switch {
		case x.off < o:
			return -1
		case x.off > o:
			return 1
		}
		return 0
	})
	if i > 0 && r.ranges[i-1].end > off || i < len(r.ranges) && r.ranges[i].off < off+n {
		return fmt.Errorf("core: reservation at %p: offset %d, %d bytes: %w", r.addr, off, n, ErrAddressInUse)
	}
	r.ranges = slices.Insert(r.ranges, i, resRange{off, off + n})
	return nil
}

// giveBack maps no-access memory over [at, at+n), a mapping's range in
// the reservation, and forgets the mapping, so the range is reserved
// again (the mapping itself is replaced, not unmapped).
func (r *Reservation) giveBack(at unsafe.Pointer, n uintptr) error {
	_, err := unix.MmapPtr(-1, 0, at, n, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|unix.MAP_FIXED)
	off := uintptr(at) - uintptr(r.addr)
	r.mu.Lock()
	r.ranges = slices.DeleteFunc(r.ranges, func(x resRange) bool { return x.off == off })
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("core: reservation: give back %d bytes at %p: %w", n, at, err)
	}
	return nil
}

// NewPartsMapIn is [NewPartsMap] into a reservation: the parts are mapped
// one after another from off bytes into r (pmem2_config_set_vm_reservation
// then pmem2_map_new). off must be a multiple of the page size (else an
// error wrapping ErrOffsetUnaligned) and of every part's alignment (else
// ErrInvalidArgument), the parts must fit in r (ErrMapRange), and no
// mapping of r may hold any of the range (ErrAddressInUse). Closing the
// Map gives the range back to r.
func NewPartsMapIn(r *Reservation, off int, parts []Part, cfg *Config) (*Map, error) {
	if cfg == nil {
		cfg = &defaultConfig
	}
	if r == nil {
		return nil, fmt.Errorf("core: map parts: no reservation: %w", ErrInvalidArgument)
	}
	length, maxAlign, prot, err := checkParts(parts, cfg)
	if err != nil {
		return nil, err
	}
	page := uintptr(os.Getpagesize())
	if off < 0 || uintptr(off)%page != 0 {
		return nil, fmt.Errorf("core: map parts: reservation offset %d not a multiple of %d: %w", off, page, ErrOffsetUnaligned)
	}
	o := uintptr(off)
	if o > r.size || length > r.size-o {
		return nil, fmt.Errorf("core: map parts: %d bytes at offset %d beyond the reservation's %d: %w", length, off, r.size, ErrMapRange)
	}
	at := unsafe.Add(r.addr, o)
	if uintptr(at)%uintptr(maxAlign) != 0 {
		return nil, fmt.Errorf("core: map parts: address %p not a multiple of %d: %w", at, maxAlign, ErrInvalidArgument)
	}
	if err := r.claim(o, length); err != nil {
		return nil, fmt.Errorf("core: map parts: %w", err)
	}
	return mapParts(at, length, parts, cfg, prot, unix.MAP_FIXED, r.giveBack)
}
