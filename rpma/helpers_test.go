package rpma_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/rpma"
)

// slowOK is a client configuration whose timeout a loaded machine
// running the race detector does not reach.
var slowOK = &rpma.ConnConfig{Timeout: 20 * time.Second}

var testPSK = bytes.Repeat([]byte("rpma-test-key-"), 3)

func newPeer(t testing.TB, psk []byte) *rpma.Peer {
	t.Helper()
	p, err := rpma.NewPeer(&rpma.PeerOptions{PSK: psk, HandshakeTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func listen(t testing.TB, p *rpma.Peer) *rpma.Endpoint {
	t.Helper()
	ep, err := p.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Shutdown() })
	return ep
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// pair connects a client peer to a server peer over loopback: the server
// accepts with its private data spd, the client gives cpd. It returns
// the server's and the client's connections, with the private data each
// got from the other.
func pair(t testing.TB, srv, cli *rpma.Peer, scfg, ccfg *rpma.ConnConfig, spd, cpd []byte) (s, c *rpma.Conn) {
	t.Helper()
	return pairAt(t, listen(t, srv), cli, scfg, ccfg, spd, cpd)
}

// pairAt is pair through the server's endpoint ep.
func pairAt(t testing.TB, ep *rpma.Endpoint, cli *rpma.Peer, scfg, ccfg *rpma.ConnConfig, spd, cpd []byte) (s, c *rpma.Conn) {
	t.Helper()
	type res struct {
		c   *rpma.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		req, err := ep.NextConnReq(ctx(t), scfg)
		if err != nil {
			ch <- res{nil, err}
			return
		}
		sc, err := req.Connect(ctx(t), spd)
		ch <- res{sc, err}
	}()
	if ccfg == nil {
		ccfg = &rpma.ConnConfig{}
	}
	if ccfg.Timeout == 0 {
		// Generous: the race detector and a loaded machine slow the
		// handshakes, and no test asserts on time.
		cc := *ccfg
		cc.Timeout = 20 * time.Second
		ccfg = &cc
	}
	req, err := cli.NewConnReq(ep.Addr().String(), ccfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err = req.Connect(ctx(t), cpd)
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, conn := range []*rpma.Conn{r.c, c} {
		if ev, err := conn.NextEvent(ctx(t)); err != nil || ev != rpma.EventEstablished {
			t.Fatalf("first event %v, %v; want established", ev, err)
		}
		t.Cleanup(func() { conn.Close() })
	}
	return r.c, c
}

func register(t testing.TB, p *rpma.Peer, b []byte, u rpma.Usage) *rpma.MR {
	t.Helper()
	mr, err := p.RegisterMemory(b, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mr.Deregister() })
	return mr
}

func remote(t testing.TB, d []byte) *rpma.RemoteMR {
	t.Helper()
	r, err := rpma.RemoteFromDescriptor(d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// next waits for one completion on q.
func next(t testing.TB, q *rpma.CQ) rpma.Completion {
	t.Helper()
	wc, err := q.Next(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return wc
}

// mustComplete waits for the completion of an operation posted with
// CompletionAlways and checks it succeeded.
func mustComplete(t testing.TB, q *rpma.CQ, op rpma.Op) rpma.Completion {
	t.Helper()
	wc := next(t, q)
	if wc.Op != op || wc.Status != rpma.StatusSuccess {
		t.Fatalf("completion %v %v (context %v); want %v success", wc.Op, wc.Status, wc.Context, op)
	}
	return wc
}

// waitEvent waits for c's next event and checks it.
func waitEvent(t testing.TB, c *rpma.Conn, want rpma.ConnEvent) {
	t.Helper()
	ev, err := c.NextEvent(ctx(t))
	if err != nil || ev != want {
		t.Fatalf("event %v, %v; want %v", ev, err, want)
	}
}
