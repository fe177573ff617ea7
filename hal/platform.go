package hal

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/gopmdk/pmdk/hal/sysfs"
)

// maxDomainLen is how much of a persistence_domain file libpmem reads; a
// longer value is not one the kernel writes.
const maxDomainLen = 32

// Persistence domains of an nd region, as the kernel names them.
const (
	DomainCPUCache         = "cpu_cache"         // eADR: stores are persistent once globally visible
	DomainMemoryController = "memory_controller" // ADR: persistent once in the memory controller (after a flush)
)

// readDomain reads an nd region's persistence_domain file (region is the
// region's directory in sysfs). It returns "" with no error when the region
// has no such file (older kernels, regions without a domain).
func readDomain(fsys fs.FS, region string) (string, error) {
	name := path.Join(region, "persistence_domain")
	b, err := sysfs.ReadAttr(fsys, name, maxDomainLen)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", err
	case len(b) == 0 || b[len(b)-1] != '\n':
		// The kernel always ends the value with a newline; a value
		// without one was cut short or is not a domain.
		return "", &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	return string(b[:len(b)-1]), nil
}

// AutoFlush reports whether the platform flushes the CPU caches on power
// loss (eADR) for all its persistent memory, as pmem_has_auto_flush(3)
// decides: there is at least one nd region and the persistence_domain of
// every region is "cpu_cache". Any read error counts as no. fsys is the
// sysfs tree to read, rooted at /sys (see package [sysfs]); nil means the
// machine's.
func AutoFlush(fsys fs.FS) bool {
	fsys = sysfs.Or(fsys)
	ents, err := fs.ReadDir(fsys, sysfs.NDDevices)
	if err != nil {
		return false
	}
	regions := 0
	for _, e := range ents {
		// Regions appear on the bus as symbolic links to their device.
		if e.Type()&fs.ModeSymlink == 0 || !strings.Contains(e.Name(), "region") {
			continue
		}
		regions++
		d, err := readDomain(fsys, path.Join(sysfs.NDDevices, e.Name()))
		if err != nil || d != DomainCPUCache {
			return false
		}
	}
	return regions > 0
}

// Platform describes how stores to one file reach persistence.
type Platform struct {
	// DAX is true when the file is mapped without a page cache, so that
	// CPU stores go straight to persistent memory: a file on a file system
	// that accepts MAP_SYNC mappings, or a device-DAX character device.
	// When false, a mapping of the file is persisted with msync(2).
	DAX bool
	// DeviceDAX is true for a device-DAX character device (/dev/daxX.Y).
	DeviceDAX bool
	// EADR is true when the nd region backing the file has the CPU caches
	// in its persistence domain, so no cache flush is needed. It only
	// matters when DAX is true.
	EADR bool
	// Domain is the region's persistence_domain: DomainCPUCache,
	// DomainMemoryController, or "" when there is no region or the kernel
	// does not say.
	Domain string
	// Region is the sysfs path of the nd region backing the file, relative
	// to /sys (e.g. "devices/.../ndbus0/region0"), or "" when
	// the file is not on NVDIMM-backed storage. Its files (badblocks,
	// mappingN/...) serve bad-block and unsafe-shutdown checks.
	Region string
	// Device is the sysfs path of the block or character device holding
	// the file, relative to /sys, or "" when there is none
	// (tmpfs and other virtual file systems).
	Device string
}

// String summarises p, e.g. "page cache, no eADR" or
// "DAX, eADR (cpu_cache, region0)".
func (p Platform) String() string {
	var b strings.Builder
	switch {
	case p.DeviceDAX:
		b.WriteString("device DAX")
	case p.DAX:
		b.WriteString("DAX")
	default:
		b.WriteString("page cache")
	}
	if p.EADR {
		b.WriteString(", eADR")
	} else {
		b.WriteString(", no eADR")
	}
	switch {
	case p.Region != "" && p.Domain != "":
		b.WriteString(" (" + p.Domain + ", " + path.Base(p.Region) + ")")
	case p.Region != "":
		b.WriteString(" (" + path.Base(p.Region) + ", domain unknown)")
	default:
		b.WriteString(" (no nd region)")
	}
	return b.String()
}

// regionOf returns the nd region directory among the ancestors of a
// device directory: namespaces, their block devices and partitions, and
// device-DAX instances all live below their region, and every region
// below its bus (ndbusN), whatever provides the bus (ACPI NFIT, e820,
// virtio-pmem).
func regionOf(dev string) string {
	for d := dev; d != "." && d != "/"; d = path.Dir(d) {
		if isRegionName(path.Base(d)) && isNumbered(path.Base(path.Dir(d)), "ndbus") {
			return d
		}
	}
	return ""
}

// isRegionName reports whether name is an nd region's: "region" and a
// number.
func isRegionName(name string) bool { return isNumbered(name, "region") }

// isNumbered reports whether name is prefix followed by decimal digits.
func isNumbered(name, prefix string) bool {
	n, ok := strings.CutPrefix(name, prefix)
	if !ok || n == "" {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// fileIdentity is what platform detection needs from fstat(2).
type fileIdentity struct {
	kind         string // sysfs.Block for files on a block-device file system and block devices, sysfs.Char for char devices
	major, minor uint32 // the device holding the file, or the device itself
}

// describe fills the sysfs part of a Platform for a file identified by id.
func describe(fsys fs.FS, id fileIdentity) (Platform, error) {
	var p Platform
	dev, err := sysfs.ResolveDevice(fsys, id.kind, id.major, id.minor)
	if err != nil || dev == "" {
		return p, err
	}
	p.Device = dev
	if id.kind == sysfs.Char {
		sub, err := sysfs.Subsystem(fsys, dev)
		if err != nil {
			return p, err
		}
		p.DeviceDAX = sub == "dax"
		p.DAX = p.DeviceDAX
	}
	p.Region = regionOf(dev)
	if p.Region == "" {
		return p, nil
	}
	if p.Domain, err = readDomain(fsys, p.Region); err != nil {
		return p, err
	}
	p.EADR = p.Domain == DomainCPUCache
	return p, nil
}
