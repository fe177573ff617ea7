//go:build amd64 && gc && !purego && !race

package hal

import (
	"slices"
	"testing"
)

// TestStoreReleaseDisassemble: the assembly store is plain MOVs and a
// RET, with no XCHG, LOCK-prefixed read-modify-write or fence, which
// would make it atomic.StoreUint64 again.
func TestStoreReleaseDisassemble(t *testing.T) {
	b := asmCode(t, "storeRelease64", storeRelease64)
	ops, _ := disassemble(t, b)
	ops = slices.DeleteFunc(ops, func(op string) bool { return op == "INT" }) // INT3 padding
	if !slices.Equal(ops, []string{"MOV", "RET"}) {
		t.Errorf("storeRelease64 is %v, want only MOV and RET", ops)
	}
}
