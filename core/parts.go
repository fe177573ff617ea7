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
	if len(parts) == 0 {
		return nil, fmt.Errorf("core: map parts: no parts: %w", ErrInvalidArgument)
	}
	if cfg == nil {
		cfg = &defaultConfig
	}
	prot, err := cfg.protFlags()
	if err != nil {
		return nil, err
	}
	var total uint64
	maxAlign := int64(1)
	for i, p := range parts {
		if p.Src == nil || p.Src.kind != sourceFD {
			return nil, fmt.Errorf("core: map parts: part %d is not a file: %w", i, ErrInvalidArgument)
		}
		align, err := p.Src.Alignment()
		if err != nil {
			return nil, fmt.Errorf("core: map parts: part %d: %w", i, err)
		}
		size, err := p.Src.Size()
		if err != nil {
			return nil, fmt.Errorf("core: map parts: part %d: %w", i, err)
		}
		if p.Offset < 0 || p.Offset%align != 0 || p.Length <= 0 || p.Length%align != 0 {
			return nil, fmt.Errorf("core: map parts: part %d: offset %d, length %d not multiples of %d: %w", i, p.Offset, p.Length, align, ErrLengthUnaligned)
		}
		end, carry := bits.Add64(uint64(p.Offset), uint64(p.Length), 0)
		if carry != 0 || end > uint64(size) {
			return nil, fmt.Errorf("core: map parts: part %d: offset %d + length %d beyond size %d: %w", i, p.Offset, p.Length, size, ErrMapRange)
		}
		if p.Src.IsDevDAX() && cfg.Sharing == SharingPrivate {
			return nil, fmt.Errorf("core: map parts: part %d: %w", i, ErrDevDAXPrivate)
		}
		var c uint64
		if total, c = bits.Add64(total, uint64(p.Length), 0); c != 0 || total > uint64(maxInt) {
			return nil, fmt.Errorf("core: map parts: total length too large: %w", ErrMapRange)
		}
		maxAlign = max(maxAlign, align)
	}
	length := uintptr(total)
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
	release := func() error { return unix.MunmapPtr(addr, length) }

	g := GranularityByte
	var off uintptr
	for i, p := range parts {
		at := unsafe.Add(addr, off)
		n := uintptr(p.Length)
		flags := unix.MAP_FIXED
		mapSync := false
		if cfg.Sharing == SharingPrivate {
			_, err = unix.MmapPtr(p.Src.fd, p.Offset, at, n, prot, flags|unix.MAP_PRIVATE)
		} else {
			_, err = unix.MmapPtr(p.Src.fd, p.Offset, at, n, prot, flags|unix.MAP_SHARED_VALIDATE|unix.MAP_SYNC)
			if err == nil {
				mapSync = true
			} else if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
				_, err = unix.MmapPtr(p.Src.fd, p.Offset, at, n, prot, flags|unix.MAP_SHARED)
			}
		}
		if err != nil {
			_ = release()
			return nil, fmt.Errorf("core: map parts: part %d: %w", i, err)
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
