//go:build verbs && cgo

package rpma

import "testing"

func TestVerbsDevices(t *testing.T) {
	names, err := verbsDevices()
	if err != nil {
		t.Skipf("no rdma-core devices: %v", err)
	}
	t.Logf("RDMA devices: %v", names)
}
