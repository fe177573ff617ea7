package core

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"path"
	"strconv"
	"strings"

	"github.com/gopmdk/pmdk/hal/sysfs"
)

// The NVDIMM ("nd") bus as Linux shows it in sysfs, read the way libndctl
// reads it for libpmem2, through the source's sysfs tree (package
// hal/sysfs). Paths are relative to /sys:
//
//	bus/nd/devices/regionN/         persistence_domain, deep_flush, badblocks,
//	                                resource, mappings, mapping0..: "nmemM,..."
//	bus/nd/devices/namespaceN.K/    resource, size, block/pmemX/ (raw mode)
//	bus/nd/devices/pfnN.K/          resource, size, block/pmemX/ (fsdax mode)
//	bus/nd/devices/bttN.K/          block/pmemXs/ (sector mode)
//	bus/nd/devices/daxN.K/          resource, size, daxN.J/dev (devdax mode)
//	bus/nd/devices/nmemM/           nfit/dirty_shutdown, nfit/id
//	block/pmemX/                    dev ("major:minor"), badblocks
//
// N, the number after the prefix of a namespace-level device, is the id of
// its region.

const sectorSize = 512 // unit of sysfs badblocks records

// ndLocation is the NVDIMM region and namespace-level device a source lives on.
type ndLocation struct {
	sysfs    fs.FS // the tree it was found in
	regionID int
	device   string // matched entry: namespaceN.K, pfnN.K, bttN.K or daxN.K
	blockDev string // block device of a file's filesystem, "" for devdax
}

// regionDir is the region's directory on the nd bus.
func (l *ndLocation) regionDir() string {
	return path.Join(sysfs.NDDevices, "region"+strconv.Itoa(l.regionID))
}

// ndRegionOf parses the region id out of a device name such as "pfn1.0".
func ndRegionOf(name string) (prefix string, region int, ok bool) {
	for _, p := range []string{"namespace", "pfn", "btt", "dax"} {
		rest, found := strings.CutPrefix(name, p)
		if !found {
			continue
		}
		id, _, found := strings.Cut(rest, ".")
		if !found {
			return "", 0, false
		}
		n, err := strconv.Atoi(id)
		if err != nil || n < 0 {
			return "", 0, false
		}
		return p, n, true
	}
	return "", 0, false
}

// locateND finds the region and device of src (pmem2_region_namespace). It
// returns (nil, nil) when the nd bus exists but src is on none of its
// devices, and an error wrapping ErrNotSupported when there is no nd bus or
// src is anonymous.
func locateND(src *Source) (*ndLocation, error) {
	if src.kind != sourceFD {
		return nil, fmt.Errorf("core: anonymous memory has no NVDIMM: %w", ErrNotSupported)
	}
	fsys := src.sysfs
	entries, err := fs.ReadDir(fsys, sysfs.NDDevices)
	if err != nil {
		if st, serr := fs.Stat(fsys, sysfs.NDDevices); serr != nil || !st.IsDir() {
			return nil, fmt.Errorf("core: no NVDIMM bus in sysfs: %w", ErrNotSupported)
		}
		return nil, fmt.Errorf("core: %w", err)
	}
	for _, e := range entries {
		prefix, region, ok := ndRegionOf(e.Name())
		if !ok {
			continue
		}
		dir := path.Join(sysfs.NDDevices, e.Name())
		if prefix == "dax" {
			if src.ftype != fileDevDAX {
				continue
			}
			subs, _ := fs.ReadDir(fsys, dir)
			for _, s := range subs {
				if !strings.HasPrefix(s.Name(), "dax") {
					continue
				}
				if dev, err := readSysfsAttr(fsys, dir, s.Name(), "dev"); err == nil && dev == devString(src.rdev) {
					return &ndLocation{sysfs: fsys, regionID: region, device: e.Name()}, nil
				}
			}
			continue
		}
		if src.ftype != fileRegular {
			continue
		}
		blocks, _ := fs.ReadDir(fsys, path.Join(dir, "block"))
		for _, b := range blocks {
			dev, err := readSysfsAttr(fsys, "block", b.Name(), "dev")
			if err == nil && dev == devString(src.dev) {
				return &ndLocation{sysfs: fsys, regionID: region, device: e.Name(), blockDev: b.Name()}, nil
			}
		}
	}
	return nil, nil
}

// maxDIMMsPerRegion caps the mappings count read from sysfs.
const maxDIMMsPerRegion = 1024

// regionDIMMs lists the nmem devices backing a region, from its mappings
// and mappingK attributes ("nmem0,offset,length,position").
func regionDIMMs(l *ndLocation) ([]string, error) {
	n, err := readSysfsUint(l.sysfs, l.regionDir(), "mappings")
	if err != nil {
		return nil, err
	}
	if n > maxDIMMsPerRegion {
		return nil, fmt.Errorf("core: region%d: %d mappings: %w", l.regionID, n, ErrInvalidArgument)
	}
	dimms := make([]string, 0, n)
	for i := range n {
		m, err := readSysfsAttr(l.sysfs, l.regionDir(), "mapping"+strconv.FormatInt(i, 10))
		if err != nil {
			return nil, fmt.Errorf("core: region%d: %w", l.regionID, err)
		}
		name, _, _ := strings.Cut(m, ",")
		if !strings.HasPrefix(name, "nmem") || strings.ContainsAny(name, `/\`) || name == "nmem" {
			return nil, fmt.Errorf("core: region%d mapping%d %q: %w", l.regionID, i, m, ErrInvalidArgument)
		}
		dimms = append(dimms, name)
	}
	return dimms, nil
}

// UnsafeShutdownCount returns the sum of the dirty-shutdown counters of the
// NVDIMMs under s (pmem2_source_device_usc). A change between two runs
// means the platform lost power without flushing them: data may be lost.
// The error wraps ErrNotSupported when s is anonymous, not on an NVDIMM, or
// a DIMM does not report the counter.
func (s *Source) UnsafeShutdownCount() (uint64, error) {
	l, err := locateND(s)
	if err != nil {
		return 0, err
	}
	if l == nil {
		return 0, fmt.Errorf("core: unsafe shutdown count: source is not on an NVDIMM: %w", ErrNotSupported)
	}
	dimms, err := regionDIMMs(l)
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, d := range dimms {
		v, err := readDIMMAttr(l.sysfs, d, "dirty_shutdown")
		if err != nil {
			return 0, fmt.Errorf("core: unsafe shutdown count of %s: %w", d, ErrNotSupported)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("core: unsafe shutdown count of %s: %q: %w", d, v, ErrNotSupported)
		}
		var carry uint64
		if sum, carry = bits.Add64(sum, n, 0); carry != 0 {
			return 0, fmt.Errorf("core: unsafe shutdown count overflows: %w", ErrInvalidArgument)
		}
	}
	return sum, nil
}

// DeviceID returns the concatenated unique ids of the NVDIMMs under s
// (pmem2_source_device_id): pools keep it to tell whether the same DIMMs
// came back after a move. The error wraps ErrNotSupported as
// UnsafeShutdownCount's does.
func (s *Source) DeviceID() (string, error) {
	l, err := locateND(s)
	if err != nil {
		return "", err
	}
	if l == nil {
		return "", fmt.Errorf("core: device id: source is not on an NVDIMM: %w", ErrNotSupported)
	}
	dimms, err := regionDIMMs(l)
	if err != nil {
		return "", err
	}
	var id strings.Builder
	for _, d := range dimms {
		v, err := readDIMMAttr(l.sysfs, d, "id")
		if err != nil || v == "" {
			return "", fmt.Errorf("core: device id of %s: %w", d, ErrNotSupported)
		}
		id.WriteString(v)
	}
	return id.String(), nil
}

// readDIMMAttr reads a DIMM attribute the way libndctl does: under the
// DIMM's bus-family directory (nfit for ACPI NFIT DIMMs, papr for PowerPC
// ones), falling back to the DIMM directory itself.
func readDIMMAttr(fsys fs.FS, dimm, attr string) (string, error) {
	var err error
	for _, family := range []string{"nfit", "papr", ""} {
		var v string
		if v, err = readSysfsAttr(fsys, sysfs.NDDevices, dimm, family, attr); err == nil {
			return strings.TrimSpace(v), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", err
}

// BadBlock is a range of a source that lost its data (poisoned media), in
// bytes from the start of the file or device (pmem2_badblock).
type BadBlock struct {
	Offset int64
	Length int64
}

// maxBadBlocks caps the records read from one sysfs badblocks file.
const maxBadBlocks = 1 << 16

// parseBadBlocks reads a sysfs badblocks attribute: one "sector count" pair
// per line, in 512-byte sectors. Bad lines give an error, never a panic.
func parseBadBlocks(text string) ([]BadBlock, error) {
	var out []BadBlock
	sc := bufio.NewScanner(strings.NewReader(text))
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("core: badblocks line %d %q: %w", line, sc.Text(), ErrInvalidArgument)
		}
		sec, err1 := strconv.ParseUint(f[0], 10, 64)
		cnt, err2 := strconv.ParseUint(f[1], 10, 64)
		if err1 != nil || err2 != nil || cnt == 0 || sec > (1<<63-1)/sectorSize || cnt > (1<<63-1)/sectorSize ||
			sec*sectorSize > 1<<63-1-cnt*sectorSize {
			return nil, fmt.Errorf("core: badblocks line %d %q: %w", line, sc.Text(), ErrInvalidArgument)
		}
		if len(out) == maxBadBlocks {
			return nil, fmt.Errorf("core: badblocks: more than %d records: %w", maxBadBlocks, ErrInvalidArgument)
		}
		out = append(out, BadBlock{Offset: int64(sec) * sectorSize, Length: int64(cnt) * sectorSize})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("core: badblocks: %w", err)
	}
	return out, nil
}

// BadBlocks lists the bad blocks of s, in bytes from its start
// (pmem2_badblock_next over a whole context). A file on an fsdax namespace
// gets the namespace's bad blocks mapped through its extents to file
// offsets, rounded out to file-system blocks; a device DAX and a file on a
// raw or sector namespace get the region's bad blocks clipped to the
// namespace. As in libpmem2 built with ndctl, a file on no NVDIMM has no
// bad blocks (nil, nil); the error wraps ErrNotSupported for anonymous
// memory and where the platform has no NVDIMM bus.
func (s *Source) BadBlocks() ([]BadBlock, error) {
	l, err := locateND(s)
	if err != nil || l == nil {
		return nil, err
	}
	var exts []extent
	if s.ftype == fileRegular {
		if exts, err = fileExtents(s.fd); err != nil {
			return nil, err
		}
	}
	return badBlocksAt(l, exts)
}

// badBlocksAt lists the bad blocks at location l, mapped through the file
// extents exts (nil for device DAX).
func badBlocksAt(l *ndLocation, exts []extent) ([]BadBlock, error) {
	var nsBlocks []BadBlock
	if strings.HasPrefix(l.device, "pfn") {
		// fsdax: the block device's list is relative to the namespace data.
		text, err := readSysfsAttr(l.sysfs, "block", l.blockDev, "badblocks")
		if err != nil {
			return nil, fmt.Errorf("core: badblocks of %s: %w", l.blockDev, err)
		}
		if nsBlocks, err = parseBadBlocks(text); err != nil {
			return nil, err
		}
	} else {
		var err error
		if nsBlocks, err = regionBadBlocksInNamespace(l); err != nil {
			return nil, err
		}
	}
	if exts == nil {
		return nsBlocks, nil
	}
	return mapToFile(nsBlocks, exts), nil
}

// regionBadBlocksInNamespace reads the region's bad blocks and keeps the
// parts inside the namespace, relative to its start.
func regionBadBlocksInNamespace(l *ndLocation) ([]BadBlock, error) {
	devDir := path.Join(sysfs.NDDevices, l.device)
	nsRes, err := readSysfsUint(l.sysfs, devDir, "resource")
	if err != nil {
		return nil, err
	}
	nsSize, err := readSysfsUint(l.sysfs, devDir, "size")
	if err != nil {
		return nil, err
	}
	regRes, err := readSysfsUint(l.sysfs, l.regionDir(), "resource")
	if err != nil {
		return nil, err
	}
	if nsRes < regRes || nsSize <= 0 || nsRes-regRes > 1<<62 || nsSize > 1<<62 {
		return nil, fmt.Errorf("core: %s bounds %#x+%#x outside region %#x: %w", l.device, nsRes, nsSize, regRes, ErrInvalidArgument)
	}
	text, err := readSysfsAttr(l.sysfs, l.regionDir(), "badblocks")
	if err != nil {
		return nil, fmt.Errorf("core: badblocks of region%d: %w", l.regionID, err)
	}
	reg, err := parseBadBlocks(text)
	if err != nil {
		return nil, err
	}
	nsBeg := nsRes - regRes
	nsEnd := nsBeg + nsSize // exclusive
	var out []BadBlock
	for _, b := range reg {
		beg, end := b.Offset, b.Offset+b.Length
		if end <= nsBeg || beg >= nsEnd {
			continue
		}
		beg, end = max(beg, nsBeg), min(end, nsEnd)
		out = append(out, BadBlock{Offset: beg - nsBeg, Length: end - beg})
	}
	return out, nil
}
