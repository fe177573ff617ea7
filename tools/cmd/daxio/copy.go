package main

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
)

// device is one side of the copy: stdin or stdout, a file, or a Device
// DAX mapped whole from the alignment boundary below its offset.
type device struct {
	path   string   // as given, or "STDIN" / "STDOUT"
	file   *os.File // nil for stdin and stdout
	stdio  bool
	isDAX  bool
	offset uint64    // skip or seek; for a Device DAX, from the start of m
	m      *core.Map // the mapping of a Device DAX
}

// data returns the mapped bytes of a Device DAX from its offset on.
func (d *device) data() []byte { return d.m.Bytes()[d.offset:] }

func (d *device) close() {
	if d.m != nil {
		_ = d.m.Close()
	}
	if d.file != nil {
		_ = d.file.Close()
	}
}

// failf prints a failed system call as C's daxio does, naming the C
// function and line that made it (so messages compare equal with C's).
func (e *env) failf(where, call string, err error) {
	e.errorf("%s: %s: %s\n", where, call, strerror(err))
}

// strerror words err as C's strerror does for its errno (Go's texts are
// glibc's, but for the capital), or as Go does when it has none.
func strerror(err error) string {
	if en, ok := errors.AsType[syscall.Errno](err); ok {
		t := en.Error()
		return strings.ToUpper(t[:1]) + t[1:]
	}
	return err.Error()
}

// copyData sets both sides up, checks that one is a Device DAX and does
// the I/O; it reports success.
func copyData(e *env, cfg *config) bool {
	src := &device{path: cfg.input, offset: cfg.skip}
	dst := &device{path: cfg.output, offset: cfg.seek}
	if src.path == "" {
		src.path, src.stdio = "STDIN", true
	}
	if dst.path == "" {
		dst.path, dst.stdio = "STDOUT", true
	}
	defer dst.close()
	defer src.close()
	if !cfg.zero && !e.setup(src, false, cfg.clearBadBlocks) {
		return false
	}
	if !e.setup(dst, true, cfg.clearBadBlocks) {
		return false
	}
	if !src.isDAX && !dst.isDAX {
		e.errorf("neither input nor output is device dax\n")
		return false
	}
	return e.transfer(cfg, src, dst, ioLength(cfg, src, dst))
}

// ioLength is the length of the I/O: the one asked for, unless it is
// absent or more than the Device DAX side(s) have from their offsets.
func ioLength(cfg *config, src, dst *device) uint64 {
	limit := uint64(noLen)
	if src.isDAX {
		limit = uint64(len(src.data()))
	}
	if dst.isDAX {
		limit = min(limit, uint64(len(dst.data())))
	}
	if cfg.length != noLen && cfg.length <= limit {
		return cfg.length
	}
	return limit
}

// setup opens a file or device (an output that does not exist is
// created) and maps it when it is a Device DAX.
func (e *env) setup(d *device, isDst, clearBadBlocks bool) bool {
	if d.stdio {
		return true
	}
	f, err := os.OpenFile(d.path, os.O_RDWR, 0o600)
	if err != nil {
		if isDst && errors.Is(err, os.ErrNotExist) {
			if d.file, err = os.OpenFile(d.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
				e.failf("setup_device:336", "open", err)
				return false
			}
			return true
		}
		e.errorf("failed to open '%s': %s\n", d.path, strerror(err))
		return false
	}
	d.file = f
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		e.failf("setup_device:350", "stat", err)
		return false
	}
	var src *core.Source
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		if !e.assumeDAX[d.path] {
			return true
		}
		if src, err = core.FromFile(f); err != nil {
			e.errorf("cannot determine device alignment for \"%s\"\n", d.path)
			return false
		}
	case unix.S_IFBLK:
		return true
	case unix.S_IFCHR:
		// Anything but a Device DAX is an ordinary character device.
		if src, err = core.FromFDIn(int(f.Fd()), e.sysfs); err != nil || !src.IsDevDAX() {
			return true
		}
	default:
		return false // as C: no message
	}
	d.isDAX = true
	return e.mapDAX(d, src, isDst, clearBadBlocks)
}

// mapDAX maps the Device DAX d from the alignment boundary at or below its
// offset to its end, read-only for an input.
func (e *env) mapDAX(d *device, src *core.Source, isDst, clearBadBlocks bool) bool {
	size, err := src.Size()
	var align int64
	if err == nil {
		align, err = src.Alignment()
	}
	if err != nil || size < 0 {
		e.errorf("cannot determine device alignment for \"%s\"\n", d.path)
		return false
	}
	if isDst && clearBadBlocks && !e.noBadBlocks(d, src) {
		return false
	}
	if d.offset > uint64(size) {
		e.errorf("'%d' -- offset beyond device size (%d)\n", d.offset, size)
		return false
	}
	base := d.offset &^ uint64(align-1)
	d.offset -= base
	if base == uint64(size) {
		// Nothing left to map: mmap(2) of no bytes.
		e.failf("setup_device:415", "mmap", unix.EINVAL)
		return false
	}
	cfg := &core.Config{Offset: int64(base), RequiredGranularity: core.GranularityPage}
	if !isDst {
		cfg.Protection = core.ProtRead
	}
	if d.m, err = core.NewMap(src, cfg); err != nil {
		e.failf("setup_device:415", "mmap", err)
		return false
	}
	return true
}

// noBadBlocks stands for C's clearing of the bad blocks of an output
// Device DAX before writing to it. gopmdk cannot clear bad blocks (that
// takes the NVDIMM bus's clear-error command); it refuses a device that
// has some instead, and goes on when there are none or the platform does
// not report them.
func (e *env) noBadBlocks(d *device, src *core.Source) bool {
	bbs, err := src.BadBlocks()
	switch {
	case errors.Is(err, core.ErrNotSupported):
		return true
	case err != nil:
		e.errorf("failed to clear bad blocks on \"%s\": %v\n", d.path, err)
		return false
	case len(bbs) > 0:
		e.errorf("failed to clear bad blocks on \"%s\"\n"+
			"       It has %d bad block range(s) and gopmdk's daxio cannot clear them.\n"+
			"       Clear them with ndctl, or write over them with '-b/--clear-bad-blocks=no'.\n",
			d.path, len(bbs))
		return false
	}
	return true
}

// transfer does the I/O of n bytes and reports it, as C's do_io.
func (e *env) transfer(cfg *config, src, dst *device, n uint64) bool {
	var done uint64
	switch {
	case cfg.zero:
		to := dst.data()
		if n > uint64(len(to)) {
			e.errorf("output offset beyond device size")
			return false
		}
		dst.m.Memset(to[:n], 0, 0)
		done = n
	case src.isDAX && dst.isDAX:
		dst.m.Memcpy(dst.data()[:n], src.data()[:n], 0)
		done = n
	case src.isDAX:
		var w io.Writer = e.stdout
		if dst.file != nil {
			if dst.offset != 0 {
				if _, err := dst.file.Seek(int64(dst.offset), io.SeekStart); err != nil {
					e.failf("do_io:520", "lseek", err)
					e.errorf("failed to perform I/O\n")
					return false
				}
			}
			w = dst.file
		}
		if _, err := w.Write(src.data()[:n]); err != nil {
			e.failf("do_io:528", "write", err)
			e.errorf("failed to perform I/O\n")
			return false
		}
		done = n
	default:
		var r io.Reader = e.stdin
		if src.file != nil {
			if src.offset != 0 {
				if _, err := src.file.Seek(int64(src.offset), io.SeekStart); err != nil {
					e.failf("do_io:539", "lseek", err)
					return false
				}
			}
			r = src.file
		}
		to := dst.data()[:n]
		for done < n {
			k, err := r.Read(to[done:])
			done += uint64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				e.failf("do_io:547", "read", err)
				e.errorf("failed to perform I/O\n")
				return false
			}
		}
		dst.m.Persist(to[:done])
		if done != n {
			e.errorf("requested size %d larger than source\n", n)
		}
	}
	if dst.m != nil {
		if err := dst.m.Err(); err != nil {
			e.errorf("%v\n", err)
			e.errorf("failed to perform I/O\n")
			return false
		}
	}
	e.errorf("copied %d bytes to device \"%s\"\n", done, dst.path)
	return true
}
