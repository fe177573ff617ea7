//go:build cpeer

// Package cpeer runs libpmemlog's pool open and close, the C peer of the
// pool package's benchmarks. It is built only with the cpeer tag (the
// Makefile sets it when the C PMDK headers are installed).
package cpeer

/*
#cgo LDFLAGS: -lpmemlog
#include <libpmemlog.h>
#include <stdlib.h>

// open_close opens and closes the log pool at path n times; 0 on success.
static int open_close(const char *path, int n) {
	for (int i = 0; i < n; i++) {
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
	"unsafe"
)

// Available reports whether the C peer is built in.
func Available() bool { return true }

// OpenClose opens and closes the log pool at path n times with libpmemlog.
func OpenClose(path string, n int) error {
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	if C.open_close(cs, C.int(n)) != 0 {
		return errors.New("cpeer: pmemlog_open: " + C.GoString(C.pmemlog_errormsg()))
	}
	return nil
}
