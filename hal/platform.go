package hal

import (
	"io/fs"
	"os"
	"path"
	"strings"
)

// sysfsRoot returns the file system sysfs paths are read from: fsys, or
// the real root when fsys is nil. Paths inside it have no leading slash
// ("sys/bus/nd/devices").
func sysfsRoot(fsys fs.FS) fs.FS {
	if fsys == nil {
		return os.DirFS("/")
	}
	return fsys
}

// ndDevices is the directory of the NVDIMM bus devices (regions,
// namespaces, DIMMs).
const ndDevices = "sys/bus/nd/devices"

// maxDomainLen is how much of a persistence_domain file libpmem reads; a
// longer value is not one the kernel writes.
const maxDomainLen = 32

// Persistence domains of an nd region, as the kernel names them.
const (
	DomainCPUCache         = "cpu_cache"         // eADR: stores are persistent once globally visible
	DomainMemoryController = "memory_controller" // ADR: persistent once in the memory controller (after a flush)
)

// readDomain reads an nd region's persistence_domain file under sysfs
// (region is its path inside sysfs). It returns "" with no error when the
// region has no such file (older kernels, regions without a domain).
func readDomain(sysfs fs.FS, region string) (string, error) {
	f, err := sysfs.Open(path.Join(region, "persistence_domain"))
	if err != nil {
		if os.IsNotExist(err) {
			return "", nil
		}
		return "", err
	}
	defer f.Close()
	buf := make([]byte, maxDomainLen)
	n, err := f.Read(buf)
	if n == 0 {
		return "", &fs.PathError{Op: "read", Path: region + "/persistence_domain", Err: fs.ErrInvalid}
	}
	v := string(buf[:n])
	if !strings.HasSuffix(v, "\n") {
		// The kernel always ends the value with a newline; a value
		// without one was cut short or is not a domain.
		return "", &fs.PathError{Op: "read", Path: region + "/persistence_domain", Err: fs.ErrInvalid}
	}
	_ = err // a short read that ends in a newline is a whole value
	return strings.TrimSuffix(v, "\n"), nil
}

// AutoFlush reports whether the platform flushes the CPU caches on power
// loss (eADR) for all its persistent memory, as pmem_has_auto_flush(3)
// decides: there is at least one nd region and the persistence_domain of
// every region is "cpu_cache". Any read error counts as no. sysfs is the
// root file system to read /sys from; nil means the real one.
func AutoFlush(sysfs fs.FS) bool {
	sysfs = sysfsRoot(sysfs)
	ents, err := fs.ReadDir(sysfs, ndDevices)
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
		d, err := readDomain(sysfs, path.Join(ndDevices, e.Name()))
		if err != nil || d != DomainCPUCache {
			return false
		}
	}
	return regions > 0
}
