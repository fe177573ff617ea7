//go:build verbs && cgo

package rpma

// This file is the start of a verbs transport over rdma-core, built with
// -tags verbs where its headers are installed (libibverbs-dev). It binds
// only the device list so the cgo side compiles and can be checked; the
// transport itself (queue pairs, memory registration, the RDMA CM) is
// not written, and NewPeer uses TCP whatever the build tags.

// #cgo LDFLAGS: -libverbs
// #include <stdlib.h>
// #include <infiniband/verbs.h>
import "C"

import "unsafe"

// verbsDevices returns the names of the RDMA devices rdma-core sees.
func verbsDevices() ([]string, error) {
	var n C.int
	list := C.ibv_get_device_list(&n)
	if list == nil {
		return nil, ErrNotSupported
	}
	defer C.ibv_free_device_list(list)
	devs := unsafe.Slice(list, int(n))
	names := make([]string, 0, len(devs))
	for _, d := range devs {
		names = append(names, C.GoString(C.ibv_get_device_name(d)))
	}
	return names, nil
}
