//go:build !linux

package hal

import (
	"io/fs"
	"os"
)

// DetectFile reports how stores to a mapping of f reach persistence. Off
// Linux there is neither MAP_SYNC nor an nd bus: every file is page cache.
func DetectFile(f *os.File) (Platform, error) { return Platform{}, nil }

// DetectFileIn is [DetectFile]; sysfs is not used off Linux.
func DetectFileIn(f *os.File, fsys fs.FS) (Platform, error) { return Platform{}, nil }

// DetectFD is [DetectFile] for a file descriptor.
func DetectFD(fd int) (Platform, error) { return Platform{}, nil }

// DetectFDIn is [DetectFD]; sysfs is not used off Linux.
func DetectFDIn(fd int, fsys fs.FS) (Platform, error) { return Platform{}, nil }
