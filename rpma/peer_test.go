package rpma_test

import (
	"errors"
	"testing"

	"github.com/gopmdk/pmdk/rpma"
)

// Peer.Close refuses while regions, connections or endpoints use the
// peer (as rpma_peer_delete fails while its protection domain is in
// use), and succeeds once all are gone; a closed peer makes nothing.
func TestPeerClose(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	mr := register(t, srv, make([]byte, 64), rpma.UsageWriteDst)
	ep := listen(t, srv)
	sc, cc := pairAt(t, ep, cli, nil, nil, nil, nil)

	busy := func(p *rpma.Peer, what string) {
		t.Helper()
		if err := p.Close(); !errors.Is(err, rpma.ErrBusy) {
			t.Fatalf("Close with %s: %v; want ErrBusy", what, err)
		}
	}
	busy(srv, "a region, a connection and an endpoint")
	busy(cli, "a connection")
	if err := mr.Deregister(); err != nil {
		t.Fatal(err)
	}
	busy(srv, "a connection and an endpoint")
	// A lost or disconnected connection still holds the peer until
	// Close, as a queue pair until rpma_conn_delete.
	if err := cc.Disconnect(); err != nil {
		t.Fatal(err)
	}
	busy(cli, "a disconnected connection")
	cc.Close()
	sc.Close()
	busy(srv, "an endpoint")
	// Still usable after a refused Close.
	if _, err := cli.NewConnReq(ep.Addr().String(), nil); err != nil {
		t.Fatal(err)
	}
	ep.Shutdown()
	for _, p := range []*rpma.Peer{srv, cli} {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := p.RegisterMemory(make([]byte, 8), rpma.UsageReadSrc); !errors.Is(err, rpma.ErrClosed) {
			t.Fatalf("RegisterMemory on a closed peer: %v", err)
		}
		if _, err := p.Listen("127.0.0.1:0"); !errors.Is(err, rpma.ErrClosed) {
			t.Fatalf("Listen on a closed peer: %v", err)
		}
		if _, err := p.NewConnReq(ep.Addr().String(), nil); !errors.Is(err, rpma.ErrClosed) {
			t.Fatalf("NewConnReq on a closed peer: %v", err)
		}
	}
}
