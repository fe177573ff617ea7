package core

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"unsafe"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/sysfs"
)

// Offset returns the offset in bytes of the mapping in its source (0 for
// maps not made by NewMap).
func (m *Map) Offset() int64 {
	if m.info == nil {
		return 0
	}
	return m.info.offset
}

// IsPmem reports whether the mapping is persistent memory that CPU flushes
// make durable: a DAX mapping (MAP_SYNC accepted, or device DAX), or one
// forced with Config.ForcePmem, PMEM_IS_PMEM_FORCE=1 or
// PMEM2_FORCE_GRANULARITY. PMEM_IS_PMEM_FORCE=0 makes it false for DAX too,
// as pmem_is_pmem does. Maps from NewMemoryMap report whether their
// granularity is finer than a page.
func (m *Map) IsPmem() bool {
	if m.info == nil {
		return m.granularity != GranularityPage
	}
	return m.info.isPmem
}

// contains reports whether b lies entirely inside the mapping.
func (m *Map) contains(b []byte) bool {
	if len(m.data) == 0 {
		return false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= base && p-base <= uintptr(len(m.data)) && uintptr(len(b)) <= uintptr(len(m.data))-(p-base)
}

// DeepFlush makes b, a part of the mapping, durable even across a failure
// of the platform's power-fail protection (pmem2_deep_flush): it persists b,
// then on a page-cache mapping or a DAX file writes back the covering pages
// with msync (which reaches the file system and the device), and on device
// DAX asks the NVDIMM region to flush its write queues through its sysfs
// deep_flush attribute (when the region has one). The error wraps
// ErrOutsideMap when b is not inside the mapping and ErrNotSupported for
// anonymous memory; it is [Map.Err] once the persist path has failed.
func (m *Map) DeepFlush(b []byte) error {
	if !m.contains(b) {
		return fmt.Errorf("core: deep flush of %d bytes: %w", len(b), ErrOutsideMap)
	}
	if m.info == nil {
		m.persist.Persist(b)
		return m.Err()
	}
	if m.info.src.kind == sourceAnon {
		return fmt.Errorf("core: deep flush of anonymous memory: %w", ErrNotSupported)
	}
	m.persist.Persist(b)
	if err := m.Err(); err != nil {
		return err
	}
	if m.info.src.ftype == fileDevDAX {
		l, err := locateND(&m.info.src)
		if err != nil {
			return err
		}
		if l == nil {
			return fmt.Errorf("core: deep flush: device DAX region not found: %w", ErrNotSupported)
		}
		return deepFlushRegion(l)
	}
	if err := msyncPages(b); err != nil {
		return fmt.Errorf("core: deep flush: msync: %w", err)
	}
	return nil
}

// deepFlushRegion writes "1" to a region's deep_flush attribute when the
// attribute exists and does not read "0" (the region has no flush hint
// addresses then), as libpmem2 does. A missing attribute is not an error.
//
// The write goes through the source's sysfs tree ([sysfs.AttrWriter]: the
// machine's /sys, or a [sysfs.Dir]); a tree that cannot be written, like
// an attribute that cannot be opened, is skipped as libpmem2 skips it.
func deepFlushRegion(l *ndLocation) error {
	name := path.Join(l.regionDir(), "deep_flush")
	v, err := readSysfsAttr(l.sysfs, name)
	if err != nil || v == "0" {
		return nil
	}
	err = sysfs.WriteAttr(l.sysfs, name, []byte("1"))
	if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return fmt.Errorf("core: deep flush region%d: %w", l.regionID, err)
}

// msyncPages msyncs the pages covering b (hal.Msync aligns to pages).
func msyncPages(b []byte) error { return hal.Msync(b) }

// UnsafeShutdownCount returns the unsafe shutdown count of the NVDIMMs
// under the mapping's source; see [Source.UnsafeShutdownCount].
func (m *Map) UnsafeShutdownCount() (uint64, error) {
	src, err := m.source()
	if err != nil {
		return 0, err
	}
	return src.UnsafeShutdownCount()
}

// DeviceID returns the ids of the NVDIMMs under the mapping's source; see
// [Source.DeviceID].
func (m *Map) DeviceID() (string, error) {
	src, err := m.source()
	if err != nil {
		return "", err
	}
	return src.DeviceID()
}

// BadBlocks lists the bad blocks of the mapping's source, in bytes from
// the start of the source (not of the mapping); see [Source.BadBlocks].
// For a file the extents are those the file had when it was mapped.
func (m *Map) BadBlocks() ([]BadBlock, error) {
	src, err := m.source()
	if err != nil {
		return nil, err
	}
	l, err := locateND(src)
	if err != nil || l == nil {
		return nil, err
	}
	var exts []extent
	if src.ftype == fileRegular {
		if m.info.extentsErr != nil {
			return nil, m.info.extentsErr
		}
		if exts = m.info.extents; exts == nil {
			return nil, nil
		}
	}
	return badBlocksAt(l, exts)
}

func (m *Map) source() (*Source, error) {
	if m.info == nil {
		return nil, fmt.Errorf("core: map has no source: %w", ErrNotSupported)
	}
	return &m.info.src, nil
}
