//go:build cpeer && cgo

package clog

/*
#cgo LDFLAGS: -lpmemlog
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <libpmemlog.h>

struct gopmdk_walk { char *buf; size_t cap; size_t len; long calls; };

static int gopmdk_walk_cb(const void *buf, size_t len, void *arg) {
	struct gopmdk_walk *w = arg;
	size_t n = len;
	if (w->len + n > w->cap)
		n = w->cap - w->len;
	memcpy(w->buf + w->len, buf, n);
	w->len += n;
	w->calls++;
	return 1;
}

static long gopmdk_walk(PMEMlogpool *plp, size_t chunksize, char *buf, size_t cap, size_t *len) {
	struct gopmdk_walk w = { buf, cap, 0, 0 };
	pmemlog_walk(plp, chunksize, gopmdk_walk_cb, &w);
	*len = w.len;
	return w.calls;
}

// Appends buf n times, rewinding whenever the next one would not fit: the
// benchmark loop in C, so no cgo transition is timed per append.
static int gopmdk_append_n(PMEMlogpool *plp, const void *buf, size_t len, long n) {
	long long room = (long long)pmemlog_nbyte(plp);
	for (long i = 0; i < n; i++) {
		if (pmemlog_tell(plp) + (long long)len > room)
			pmemlog_rewind(plp);
		if (pmemlog_append(plp, buf, len) != 0)
			return -1;
	}
	return 0;
}

struct gopmdk_count { uint64_t chunks, bytes; };

static int gopmdk_count_cb(const void *buf, size_t len, void *arg) {
	struct gopmdk_count *c = arg;
	c->chunks++;
	c->bytes += len;
	return 1;
}

static void gopmdk_walk_count(PMEMlogpool *plp, size_t chunksize, long times, struct gopmdk_count *c) {
	for (long i = 0; i < times; i++)
		pmemlog_walk(plp, chunksize, gopmdk_count_cb, c);
}

// Opens and closes the pool at path n times; 0 on success.
static int gopmdk_open_close(const char *path, long n) {
	for (long i = 0; i < n; i++) {
		PMEMlogpool *p = pmemlog_open(path);
		if (p == NULL)
			return -1;
		pmemlog_close(p);
	}
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"
)

// Available reports whether the C peer is built in.
const Available = true

// Log is a pool opened by C libpmemlog.
type Log struct{ p *C.PMEMlogpool }

// MinPoolSize is PMEMLOG_MIN_POOL as the C header defines it.
const MinPoolSize = int64(C.PMEMLOG_MIN_POOL)

func lastError(op string, err error) error {
	return fmt.Errorf("clog: %s: %s (%w)", op, C.GoString(C.pmemlog_errormsg()), err)
}

// Create calls pmemlog_create.
func Create(path string, size int64, perm os.FileMode) (*Log, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p, err := C.pmemlog_create(cpath, C.size_t(size), C.mode_t(perm.Perm()))
	if p == nil {
		return nil, lastError("create", err)
	}
	return &Log{p}, nil
}

// Open calls pmemlog_open.
func Open(path string) (*Log, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p, err := C.pmemlog_open(cpath)
	if p == nil {
		return nil, lastError("open", err)
	}
	return &Log{p}, nil
}

// Check calls pmemlog_check: 1 consistent, 0 not, -1 cannot check.
func Check(path string) int {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return int(C.pmemlog_check(cpath))
}

// Close calls pmemlog_close.
func (l *Log) Close() {
	if l.p != nil {
		C.pmemlog_close(l.p)
		l.p = nil
	}
}

// Append calls pmemlog_append.
func (l *Log) Append(b []byte) error {
	var ptr unsafe.Pointer
	if len(b) > 0 {
		ptr = unsafe.Pointer(unsafe.SliceData(b))
	}
	if rc, err := C.pmemlog_append(l.p, ptr, C.size_t(len(b))); rc != 0 {
		return lastError("append", err)
	}
	return nil
}

// Appendv calls pmemlog_appendv. The iovec array lives in C memory and
// points at pinned Go buffers, as the cgo pointer rules require.
func (l *Log) Appendv(bufs ...[]byte) error {
	if len(bufs) == 0 {
		if rc, err := C.pmemlog_appendv(l.p, nil, 0); rc != 0 {
			return lastError("appendv", err)
		}
		return nil
	}
	iov := (*C.struct_iovec)(C.calloc(C.size_t(len(bufs)), C.size_t(unsafe.Sizeof(C.struct_iovec{}))))
	if iov == nil {
		return errors.New("clog: appendv: out of memory")
	}
	defer C.free(unsafe.Pointer(iov))
	vec := unsafe.Slice(iov, len(bufs))
	var pin runtime.Pinner
	defer pin.Unpin()
	for i, b := range bufs {
		if len(b) > 0 {
			p := unsafe.SliceData(b)
			pin.Pin(p)
			vec[i].iov_base = unsafe.Pointer(p)
		}
		vec[i].iov_len = C.size_t(len(b))
	}
	if rc, err := C.pmemlog_appendv(l.p, iov, C.int(len(bufs))); rc != 0 {
		return lastError("appendv", err)
	}
	return nil
}

// AppendN appends b n times in one cgo call, rewinding the log whenever
// the next append would not fit (for benchmarks: the loop runs in C).
func (l *Log) AppendN(b []byte, n int) error {
	var ptr unsafe.Pointer
	if len(b) > 0 {
		ptr = unsafe.Pointer(unsafe.SliceData(b))
	}
	if rc, err := C.gopmdk_append_n(l.p, ptr, C.size_t(len(b)), C.long(n)); rc != 0 {
		return lastError("append", err)
	}
	return nil
}

// Tell calls pmemlog_tell.
func (l *Log) Tell() int64 { return int64(C.pmemlog_tell(l.p)) }

// NBytes calls pmemlog_nbyte.
func (l *Log) NBytes() int64 { return int64(C.pmemlog_nbyte(l.p)) }

// Rewind calls pmemlog_rewind.
func (l *Log) Rewind() { C.pmemlog_rewind(l.p) }

// Content walks the log with pmemlog_walk in chunks of chunksize and
// returns the concatenated chunks and the number of callback calls.
func (l *Log) Content(chunksize int) ([]byte, int) {
	n := l.Tell()
	buf := (*C.char)(C.malloc(C.size_t(n + 1)))
	defer C.free(unsafe.Pointer(buf))
	var got C.size_t
	calls := C.gopmdk_walk(l.p, C.size_t(chunksize), buf, C.size_t(n), &got)
	return C.GoBytes(unsafe.Pointer(buf), C.int(got)), int(calls)
}

// WalkN walks the whole log times times in chunks of chunksize, in one
// cgo call, touching nothing, and returns how many chunks and bytes the
// callbacks saw in all (for walk benchmarks).
func (l *Log) WalkN(chunksize, times int) (chunks, bytes int64) {
	var c C.struct_gopmdk_count
	C.gopmdk_walk_count(l.p, C.size_t(chunksize), C.long(times), &c)
	return int64(c.chunks), int64(c.bytes)
}

// OpenCloseN opens and closes the pool at path n times (pmemlog_open,
// pmemlog_close) in one cgo call.
func OpenCloseN(path string, n int) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if rc, err := C.gopmdk_open_close(cpath, C.long(n)); rc != 0 {
		return lastError("open", err)
	}
	return nil
}
