package hal_test

import (
	"sync/atomic"
	"testing"

	"github.com/gopmdk/pmdk/hal"
)

// TestStoreRelease64 stores to the middle word of three, each value seen
// by an atomic load, the neighbours untouched.
func TestStoreRelease64(t *testing.T) {
	var w [3]uint64
	for _, v := range []uint64{1, 1 << 63, ^uint64(0), 0x0123456789abcdef, 0} {
		w[0], w[2] = 0x5555, 0xaaaa
		hal.StoreRelease64(&w[1], v)
		if got := atomic.LoadUint64(&w[1]); got != v || w[0] != 0x5555 || w[2] != 0xaaaa {
			t.Fatalf("StoreRelease64(%#x): words %#x", v, w)
		}
	}
}
