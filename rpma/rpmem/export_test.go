package rpmem

import (
	"testing"

	"github.com/gopmdk/pmdk/core/pool"
)

// Unregister removes this package's opener for the test.
func Unregister(t *testing.T) {
	pool.RegisterRemote(nil)
	t.Cleanup(func() { pool.RegisterRemote(open) })
}
