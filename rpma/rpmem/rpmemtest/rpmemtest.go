// Package rpmemtest helps tests of remote replicas, as net/http/httptest
// helps tests of servers: an rpmemd in the test's process, and the
// comparison of a replica with its primary.
package rpmemtest

import (
	"bytes"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/rpma/rpmem"
)

// Serve starts an rpmemd (rpmem.Server) serving the poolset directory
// dir on a loopback port, with the pre-shared key psk, stopped when the
// test ends. It returns its address, a node for REPLICA lines.
func Serve(t testing.TB, dir string, psk []byte) string {
	t.Helper()
	s, err := rpmem.NewServer(rpmem.ServerConfig{Dir: dir, PSK: psk})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return addr.String()
}

// SameData fails the test unless the pool files a and b have the same
// size and bytes past the pool header; it names the first difference.
func SameData(t testing.TB, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != len(y) {
		t.Fatalf("%s has %d bytes, %s %d", a, len(x), b, len(y))
	}
	if bytes.Equal(x[pool.HeaderSize:], y[pool.HeaderSize:]) {
		return
	}
	first, n := -1, 0
	for i := pool.HeaderSize; i < len(x); i++ {
		if x[i] != y[i] {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	t.Fatalf("%s and %s differ past the header: %d bytes, the first at %d", a, b, n, first)
}
