package rpma

import (
	"crypto/tls"
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
