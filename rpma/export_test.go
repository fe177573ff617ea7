package rpma

import (
	"crypto/tls"
	"net"
	"testing"
)

// PSKTLSConfigs returns a PSK peer's server and client TLS
// configurations, for the benchmarks' TLS socket copy.
func PSKTLSConfigs(t testing.TB) (server, client *tls.Config) {
	p, err := NewPeer(&PeerOptions{PSK: make([]byte, MinPSKSize)})
	if err != nil {
		t.Fatal(err)
	}
	return p.server, p.client
}

// BatchConn wraps a socket in the batching rpma's connections put under
// TLS: between begin and end the writes are gathered into few system
// calls; reads are buffered.
func BatchConn(nc net.Conn) (conn net.Conn, begin func(), end func() error) {
	b := newBatchConn(nc)
	return b, b.begin, b.end
}
