package rpmem

import (
	"bytes"
	"testing"

	"github.com/gopmdk/pmdk/core/pool"
)

func TestNodeAddr(t *testing.T) {
	for node, want := range map[string]string{
		"host":             "host:" + DefaultPort,
		"user@host":        "host:" + DefaultPort,
		"host:99":          "host:99",
		"u@10.0.0.1:7":     "10.0.0.1:7",
		"[::1]:5":          "[::1]:5",
		"[::1]":            "[::1]:" + DefaultPort,
		"a@b@host.example": "host.example:" + DefaultPort,
	} {
		if got, err := nodeAddr(node); err != nil || got != want {
			t.Errorf("nodeAddr(%q) = %q, %v; want %q", node, got, err, want)
		}
	}
	for _, bad := range []string{"", "user@", ":7", "host:"} {
		if got, err := nodeAddr(bad); err == nil {
			t.Errorf("nodeAddr(%q) = %q, want an error", bad, got)
		}
	}
}

// FuzzDecodeRequest: rpmemd's decoding of a client's private data never
// panics, and what it accepts encodes back to the same bytes.
func FuzzDecodeRequest(f *testing.F) {
	good, _ := (&request{mode: pool.RemoteCreate, size: 8 << 20, descriptor: "rep.set"}).encode()
	f.Add(good)
	f.Add([]byte{1, 2, 1, 0, 0, 0, 1, 0, 0, 0, 0, 'x'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRequest(b)
		if err != nil {
			return
		}
		again, err := r.encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("request %x decoded to %+v, encodes to %x, %v", b, r, again, err)
		}
	})
}
