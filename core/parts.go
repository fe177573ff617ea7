package core

import (
	"errors"
	"fmt"
	"math/bits"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Part is one file region of a multi-part mapping ([NewPartsMap]): Length
// bytes of Src from Offset, both multiples of Src's alignment.
type Part struct {
	Src            *Source
	Offset, Length int64
}

// NewPartsMap maps parts one after another into one contiguous range, as a
// poolset replica is mapped: the first part at the start, each next one
// right after the previous. Every part is mapped as [NewMap] maps a file
// (MAP_SYNC tried for shared mappings), and the Map gets the coarsest
// granularity of its parts; cfg's Offset and Length are ignored (each
// part has its own), its Sharing, Protection and RequiredGranularity
// apply. The Map reports no source (BadBlocks, UnsafeShutdownCount: not
// supported; IsPmem: granularity finer than a page). Close unmaps every part. The sources' descriptors may be closed
// once NewPartsMap returns.
func NewPartsMap(parts []Part, cfg *Config) (*Map, error) {
	if cfg == nil {
		cfg = &defaultConfig
	}
	length, maxAlign, prot, err := checkParts(parts, cfg)
	if err != nil {
		return nil, err
	}
	want := uintptr(2 << 20)
	if length >= 2<<30 {
		want = 1 << 30
	}
	want = max(want, uintptr(maxAlign))
	dummy := length + want
	base, err := unix.MmapPtr(-1, 0, nil, dummy, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("core: map parts: reserve %d bytes: %w", dummy, err)
	}
	before := ((uintptr(base) + want - 1) &^ (want - 1)) - uintptr(base)
	addr := unsafe.Add(base, before)
	if before > 0 {
		_ = unix.MunmapPtr(base, before)
	}
	if after := dummy - length - before; after > 0 {
		_ = unix.MunmapPtr(unsafe.Add(addr, length), after)
	}
	return mapParts(addr, length, parts, cfg, prot, unix.MAP_FIXED, unix.MunmapPtr)
}

// NewPartsMapAt is [NewPartsMap] at a fixed address: the parts are mapped
// one after another from addr, which must be a multiple of every part's
// alignment, and nothing already mapped is replaced. When any page of the
// range is in use (mapped by anyone) it fails with an error wrapping
// [ErrAddressInUse] and leaves nothing mapped. It is how a part is mapped
// right after an earlier mapping, to extend a contiguous range (libpmemset's
// part coalescing).
func NewPartsMapAt(addr unsafe.Pointer, parts []Part, cfg *Config) (*Map, error) {
	if cfg == nil {
		cfg = &defaultConfig
	}
	length, maxAlign, prot, err := checkParts(parts, cfg)
	if err != nil {
		return nil, err
	}
	if a := uintptr(addr); a == 0 || a%uintptr(maxAlign) != 0 || a+length < a {
		return nil, fmt.Errorf("core: map parts at %p: not a multiple of %d or overflowing: %w", addr, maxAlign, ErrInvalidArgument)
	}
	return mapParts(addr, length, parts, cfg, prot, unix.MAP_FIXED_NOREPLACE, unix.MunmapPtr)
}

// checkParts validates parts for a multi-part mapping and returns their
// total length, the largest alignment and cfg's protection flags.
func checkParts(parts []Part, cfg *Config) (length uintptr, maxAlign int64, prot int, err error) {
	if len(parts) == 0 {
		return 0, 0, 0, fmt.Errorf("core: map parts: no parts: %w", ErrInvalidArgument)
	}
	if prot, err = cfg.protFlags(); err != nil {
		return 0, 0, 0, err
	}
	var total uint64
	maxAlign = 1
	for i, p := range parts {
		if p.Src == nil || p.Src.kind != sourceFD {
			return 0, 0, 0, fmt.Errorf("core: map parts: part %d is not a file: %w", i, ErrInvalidArgument)
		}
		align, err := p.Src.Alignment()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("core: map parts: part %d: %w", i, err)
		}
		size, err := p.Src.Size()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("core: map parts: part %d: %w", i, err)
		}
		if p.Offset < 0 || p.Offset%align != 0 || p.Length <= 0 || p.Length%align != 0 {
			return 0, 0, 0, fmt.Errorf("core: map parts: part %d: offset %d, length %d not multiples of %d: %w", i, p.Offset, p.Length, align, ErrLengthUnaligned)
		}
		end, carry := bits.Add64(uint64(p.Offset), uint64(p.Length), 0)
		if carry != 0 || end > uint64(size) {
			return 0, 0, 0, fmt.Errorf("core: map parts: part %d: offset %d + length %d beyond size %d: %w", i, p.Offset, p.Length, size, ErrMapRange)
		}
		if p.Src.IsDevDAX() && cfg.Sharing == SharingPrivate {
			return 0, 0, 0, fmt.Errorf("core: map parts: part %d: %w", i, ErrDevDAXPrivate)
		}
		var c uint64
		if total, c = bits.Add64(total, uint64(p.Length), 0); c != 0 || total > uint64(maxInt) {
			return 0, 0, 0, fmt.Errorf("core: map parts: total length too large: %w", ErrMapRange)
		}
		maxAlign = max(maxAlign, align)
	}
	return uintptr(total), maxAlign, prot, nil
}

// mapParts maps parts one after another from addr with the placement flag
// fixed (MAP_FIXED over a reservation, or MAP_FIXED_NOREPLACE), and wraps
// the range in a Map. On failure, and when the Map is closed, it undoes
// what it mapped (the whole range for MAP_FIXED, whose reservation it
// owns) with undo: munmap, or giving the range back to a Reservation.
func mapParts(addr unsafe.Pointer, length uintptr, parts []Part, cfg *Config, prot, fixed int, undo func(unsafe.Pointer, uintptr) error) (*Map, error) {
	mapped := length // what release unmaps
	if fixed != unix.MAP_FIXED {
		mapped = 0
	}
	release := func() error {
		if mapped == 0 {
			return nil
		}
		return undo(addr, mapped)
	}
	g := GranularityByte
	var off uintptr
	for i, p := range parts {
		at := unsafe.Add(addr, off)
		n := uintptr(p.Length)
		var got unsafe.Pointer
		var err error
		mapSync := false
		if cfg.Sharing == SharingPrivate {
			got, err = unix.MmapPtr(p.Src.fd, p.Offset, at, n, prot, fixed|unix.MAP_PRIVATE)
		} else {
			got, err = unix.MmapPtr(p.Src.fd, p.Offset, at, n, prot, fixed|unix.MAP_SHARED_VALIDATE|unix.MAP_SYNC)
			if err == nil {
				mapSync = true
			} else if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
				got, err = unix.MmapPtr(p.Src.fd, p.Offset, at, n, prot, fixed|unix.MAP_SHARED)
			}
		}
		if err == nil && got != at {
			// A kernel older than 4.17 takes MAP_FIXED_NOREPLACE
			// for a hint and maps elsewhere when the range is used.
			_ = unix.MunmapPtr(got, n)
			err = unix.EEXIST
		}
		if err != nil {
			_ = release()
			if errors.Is(err, unix.EEXIST) {
				err = fmt.Errorf("%w (%w)", ErrAddressInUse, err)
			}
			return nil, fmt.Errorf("core: map parts: part %d at %p: %w", i, at, err)
		}
		if fixed != unix.MAP_FIXED {
			mapped += n
		}
		pg, _ := granularityOf(p.Src, cfg, mapSync)
		g = max(g, pg)
		off += n
	}
	if g > cfg.RequiredGranularity {
		_ = release()
		return nil, fmt.Errorf("core: map parts: required granularity %v, available %v (%s): %w",
			cfg.RequiredGranularity, g, granularityHint(g), ErrGranularityNotSupported)
	}
	data := unsafe.Slice((*byte)(addr), int(length))
	// No mapInfo: a multi-part Map has no one source whose bad blocks or
	// shutdown count it could report; the pool code asks each part.
	return NewMemoryMap(data, g, NewPersister(g, nil), release), nil
}

const maxInt = int64(^uint(0) >> 1)
