package core

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/hal"
)

const (
	protRead  = unix.PROT_READ
	protWrite = unix.PROT_WRITE
	protExec  = unix.PROT_EXEC
)

// NewMap maps the part of src that cfg describes (pmem2_map_new); a nil cfg
// maps all of it, shared and read-write, with whatever granularity it has.
//
// A shared file mapping is first tried with MAP_SYNC: when the kernel
// accepts it the file is on DAX and the mapping gets cache-line granularity
// (byte granularity when every NVDIMM region of the platform reports the CPU
// caches in its persistence domain, eADR). Otherwise it is a page-cache
// mapping (GranularityPage, persisted with msync), unless cfg.ForcePmem or
// PMEM_IS_PMEM_FORCE=1 ask for the CPU-flush path. Private and anonymous
// mappings have byte granularity. PMEM2_FORCE_GRANULARITY (BYTE,
// CACHE_LINE, PAGE) overrides the detection of shared file mappings, as in
// libpmem2.
//
// The errors wrap ErrGranularityNotSupported, ErrOffsetUnaligned,
// ErrLengthUnaligned, ErrMapRange, ErrSourceEmpty, ErrDevDAXPrivate,
// ErrInvalidArgument, or the system call's errno.
func NewMap(src *Source, cfg *Config) (*Map, error) {
	if src == nil {
		return nil, fmt.Errorf("core: map: nil source: %w", ErrInvalidArgument)
	}
	if cfg == nil {
		cfg = &defaultConfig
	}
	if cfg.RequiredGranularity > GranularityPage {
		return nil, fmt.Errorf("core: map: required granularity %v: %w", cfg.RequiredGranularity, ErrInvalidArgument)
	}
	if cfg.Sharing > SharingPrivate {
		return nil, fmt.Errorf("core: map: sharing %d: %w", cfg.Sharing, ErrInvalidArgument)
	}
	prot, err := cfg.protFlags()
	if err != nil {
		return nil, err
	}
	align, err := src.Alignment()
	if err != nil {
		return nil, fmt.Errorf("core: map: %w", err)
	}
	size, err := src.Size()
	if err != nil {
		return nil, fmt.Errorf("core: map: %w", err)
	}
	if cfg.Offset < 0 || cfg.Offset%align != 0 {
		return nil, fmt.Errorf("core: map: offset %d is not a multiple of %d: %w", cfg.Offset, align, ErrOffsetUnaligned)
	}
	if src.IsDevDAX() && cfg.Sharing == SharingPrivate {
		return nil, fmt.Errorf("core: map: %w", ErrDevDAXPrivate)
	}
	if size == 0 {
		return nil, fmt.Errorf("core: map: %w", ErrSourceEmpty)
	}
	if cfg.Length < 0 || cfg.Length%align != 0 {
		return nil, fmt.Errorf("core: map: length %d is not a multiple of %d: %w", cfg.Length, align, ErrLengthUnaligned)
	}
	end, carry := bits.Add64(uint64(cfg.Offset), uint64(cfg.Length), 0)
	if carry != 0 || end > uint64(size) {
		return nil, fmt.Errorf("core: map: offset %d + length %d beyond source size %d: %w", cfg.Offset, cfg.Length, size, ErrMapRange)
	}
	length := cfg.Length
	if length == 0 {
		length = size - cfg.Offset
	}
	if length <= 0 {
		return nil, fmt.Errorf("core: map: offset %d at or beyond source size %d: %w", cfg.Offset, size, ErrMapRange)
	}
	if int64(int(length)) != length {
		return nil, fmt.Errorf("core: map: length %d too large for this platform: %w", length, ErrMapRange)
	}

	addr, reserved, mapSync, err := mmapAligned(src, cfg, prot, uintptr(length), align)
	if err != nil {
		return nil, err
	}
	g, isPmem := granularityOf(src, cfg, mapSync)
	if g > cfg.RequiredGranularity {
		_ = unix.MunmapPtr(addr, reserved)
		return nil, fmt.Errorf("core: map: required granularity %v, available %v (%s): %w",
			cfg.RequiredGranularity, g, granularityHint(g), ErrGranularityNotSupported)
	}
	data := unsafe.Slice((*byte)(addr), int(length))
	m := NewMemoryMap(data, g, NewPersister(g, nil), func() error { return unix.MunmapPtr(addr, reserved) })
	m.info = &mapInfo{
		src:     *src,
		offset:  cfg.Offset,
		sharing: cfg.Sharing,
		mapSync: mapSync,
		isPmem:  isPmem,
	}
	m.info.src.fd = -1 // the descriptor belongs to the caller and may close
	m.info.src.file = nil
	if src.kind == sourceFD && src.ftype == fileRegular && cfg.Sharing == SharingShared {
		m.info.extents, m.info.extentsErr = captureExtents(src)
	}
	return m, nil
}

// granularityHint explains a refused granularity as libpmem2's messages do.
func granularityHint(got Granularity) string {
	if got == GranularityPage {
		return "the file is not on DAX or the kernel does not support MAP_SYNC"
	}
	return "the platform does not report eADR (CPU caches in the persistence domain)"
}

// granularityOf decides the effective granularity of a fresh mapping, and
// whether it counts as pmem for [Map.IsPmem].
func granularityOf(src *Source, cfg *Config, mapSync bool) (Granularity, bool) {
	if src.kind == sourceAnon || cfg.Sharing == SharingPrivate {
		return GranularityByte, false
	}
	forceEnv, forceSet := pmemForceEnv()
	if g, ok := forcedGranularity(); ok {
		return g, g != GranularityPage
	}
	if mapSync || src.IsDevDAX() {
		if hal.AutoFlush(src.sysfs) {
			return GranularityByte, !forceSet || forceEnv
		}
		return GranularityCacheLine, !forceSet || forceEnv
	}
	if cfg.ForcePmem || forceEnv {
		return GranularityCacheLine, true
	}
	return GranularityPage, false
}

// mmapAligned maps length bytes of src at an address aligned for huge pages
// (2 MiB, 1 GiB from 2 GiB of length, at least the source alignment), as
// libpmem2 does so DAX can use large page-table entries. It reserves a
// larger anonymous range, trims it and maps over it with MAP_FIXED. It
// returns the address, the length to unmap, and whether MAP_SYNC was
// accepted.
func mmapAligned(src *Source, cfg *Config, prot int, length uintptr, align int64) (unsafe.Pointer, uintptr, bool, error) {
	page := uintptr(os.Getpagesize())
	want := uintptr(2 << 20)
	if length >= 2<<30 {
		want = 1 << 30
	}
	if uintptr(align) > want {
		want = uintptr(align)
	}
	reserved := (length + page - 1) &^ (page - 1)
	dummy := reserved + want
	base, err := unix.MmapPtr(-1, 0, nil, dummy, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, 0, false, fmt.Errorf("core: map: reserve %d bytes: %w", dummy, err)
	}
	start := (uintptr(base) + want - 1) &^ (want - 1)
	before := start - uintptr(base)
	hint := unsafe.Add(base, before)
	if before > 0 {
		_ = unix.MunmapPtr(base, before)
	}
	if after := dummy - reserved - before; after > 0 {
		_ = unix.MunmapPtr(unsafe.Add(hint, reserved), after)
	}

	flags := unix.MAP_FIXED
	fd, off := -1, cfg.Offset
	if src.kind == sourceAnon {
		flags |= unix.MAP_ANONYMOUS
		off = 0
	} else {
		fd = src.fd
	}
	var addr unsafe.Pointer
	mapSync := false
	switch {
	case cfg.Sharing == SharingPrivate:
		addr, err = unix.MmapPtr(fd, off, hint, length, prot, flags|unix.MAP_PRIVATE)
	case src.kind == sourceAnon:
		addr, err = unix.MmapPtr(fd, off, hint, length, prot, flags|unix.MAP_SHARED)
	default:
		addr, err = unix.MmapPtr(fd, off, hint, length, prot, flags|unix.MAP_SHARED_VALIDATE|unix.MAP_SYNC)
		if err == nil {
			mapSync = true
		} else if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
			addr, err = unix.MmapPtr(fd, off, hint, length, prot, flags|unix.MAP_SHARED)
		}
	}
	if err != nil {
		_ = unix.MunmapPtr(hint, reserved)
		if errors.Is(err, unix.EACCES) {
			return nil, 0, false, fmt.Errorf("core: map: no access (protection vs file open mode): %w", err)
		}
		return nil, 0, false, fmt.Errorf("core: map: %w", err)
	}
	return addr, reserved, mapSync, nil
}
