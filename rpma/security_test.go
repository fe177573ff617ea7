package rpma_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/rpma"
	"github.com/gopmdk/pmdk/rpma/internal/testcert"
)

func TestNoSecurityRefused(t *testing.T) {
	if _, err := rpma.NewPeer(nil); !errors.Is(err, rpma.ErrNoSecurity) {
		t.Fatalf("nil options: %v", err)
	}
	if _, err := rpma.NewPeer(&rpma.PeerOptions{}); !errors.Is(err, rpma.ErrNoSecurity) {
		t.Fatalf("empty options: %v", err)
	}
	if _, err := rpma.NewPeer(&rpma.PeerOptions{PSK: []byte("short")}); !errors.Is(err, rpma.ErrInvalid) {
		t.Fatalf("short key: %v", err)
	}
}

// noRequest checks that ep offers no connection request.
func noRequest(t *testing.T, ep *rpma.Endpoint) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if r, err := ep.NextConnReq(c, nil); err == nil {
		r.Delete()
		t.Fatal("the endpoint offered a request")
	}
}

func TestWrongPSKGetsNothing(t *testing.T) {
	srv := newPeer(t, testPSK)
	bad := make([]byte, len(testPSK))
	copy(bad, testPSK)
	bad[0] ^= 1
	cli := newPeer(t, bad)
	ep := listen(t, srv)
	req, _ := cli.NewConnReq(ep.Addr().String(), nil)
	if _, err := req.Connect(ctx(t), []byte("hi")); !errors.Is(err, rpma.ErrUnreachable) {
		t.Fatalf("connect with a wrong key: %v", err)
	}
	noRequest(t, ep)
}

// A peer speaking the protocol without TLS: the server answers nothing
// but TLS alerts, and offers no request.
func TestPlaintextGetsNothing(t *testing.T) {
	srv := newPeer(t, testPSK)
	secret := []byte("secret secret secret")
	smr := register(t, srv, secret, rpma.UsageReadSrc)
	ep := listen(t, srv)
	nc, err := net.Dial("tcp", ep.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	d := smr.Descriptor()
	// A hello frame (op 9) and a read (op 3) of the region's key.
	frames := make([]byte, 64)
	frames[0] = 9
	frames[32] = 3
	frames[36] = byte(len(secret))
	copy(frames[48:56], d[4:12])
	nc.Write(frames)
	nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	got, _ := io.ReadAll(nc)
	if len(got) > 0 && (got[0] != 0x15 || len(got) > 7) { // at most one TLS alert record
		t.Fatalf("plaintext client got %d bytes: %x", len(got), got)
	}
	noRequest(t, ep)
}

// certs makes a CA, and a server and a client certificate it signed.
func certs(t *testing.T) (pool *x509.CertPool, server, client tls.Certificate) {
	c := testcert.New(t)
	return c.Pool, c.Server, c.Client
}

func TestTLSCertificates(t *testing.T) {
	pool, scert, ccert := certs(t)
	srv, err := rpma.NewPeer(&rpma.PeerOptions{TLS: &tls.Config{Certificates: []tls.Certificate{scert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := rpma.NewPeer(&rpma.PeerOptions{TLS: &tls.Config{RootCAs: pool, ServerName: "rpma.test",
		Certificates: []tls.Certificate{ccert}}})
	if err != nil {
		t.Fatal(err)
	}
	src := []byte("over TLS")
	smr := register(t, srv, src, rpma.UsageReadSrc)
	_, c := pair(t, srv, cli, nil, nil, smr.Descriptor(), nil)
	dst := make([]byte, len(src))
	dmr := register(t, cli, dst, rpma.UsageReadDst)
	if err := c.Read(dmr, 0, remote(t, c.PrivateData()), 0, len(src), rpma.CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, c.CQ(), rpma.OpRead)
	if string(dst) != string(src) {
		t.Fatalf("read %q", dst)
	}
	// A client without a certificate, and one that does not trust the
	// server, get nothing.
	ep := listen(t, srv)
	for _, cfg := range []*tls.Config{{RootCAs: pool, ServerName: "rpma.test"}, {ServerName: "rpma.test", Certificates: []tls.Certificate{ccert}}} {
		p, err := rpma.NewPeer(&rpma.PeerOptions{TLS: cfg})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := p.NewConnReq(ep.Addr().String(), nil)
		if c, err := req.Connect(ctx(t), nil); err == nil {
			c.Close()
			t.Fatal("connected without a valid certificate pair")
		}
	}
	noRequest(t, ep)
}

// The other side reads and writes a region only within its bounds and
// usages, and only while it is registered; a forged descriptor reaches
// nothing.
func TestRegionBoundsAndUsages(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	mem := make([]byte, 3*64)
	guardA, region, guardB := mem[:64], mem[64:128], mem[128:]
	for i := range mem {
		mem[i] = 0xAA
	}
	smr := register(t, srv, region, rpma.UsageWriteDst|rpma.UsageFlushVisibility)
	ro := register(t, srv, make([]byte, 64), rpma.UsageReadSrc)
	sc, c := pair(t, srv, cli, nil, &rpma.ConnConfig{CQSize: 64}, append(smr.Descriptor(), ro.Descriptor()...), nil)
	rw := remote(t, c.PrivateData()[:rpma.MRDescriptorSize])
	rro := remote(t, c.PrivateData()[rpma.MRDescriptorSize:])
	local := make([]byte, 256)
	lmr := register(t, cli, local, rpma.UsageWriteSrc|rpma.UsageReadDst)
	forged := rw.Descriptor()
	forged[12] = 0xFF // a size claim of more than the region
	big := remote(t, forged)
	forgedKey := rw.Descriptor()
	forgedKey[5] ^= 0x40
	nokey := remote(t, forgedKey)
	type op struct {
		name string
		post func() error
	}
	ops := []op{
		{"write past the end", func() error { return c.Write(rw, 60, lmr, 0, 8, rpma.CompletionOnError, nil) }},
		{"write with a forged size", func() error { return c.Write(big, 64, lmr, 0, 64, rpma.CompletionOnError, nil) }},
		{"write at a huge offset", func() error { return c.Write(rw, 1<<62, lmr, 0, 8, rpma.CompletionOnError, nil) }},
		{"write with a forged key", func() error { return c.Write(nokey, 0, lmr, 0, 8, rpma.CompletionOnError, nil) }},
		{"read of a write-only region", func() error { return c.Read(lmr, 0, rw, 0, 8, rpma.CompletionOnError, nil) }},
		{"write to a read-only region", func() error { return c.Write(rro, 0, lmr, 0, 8, rpma.CompletionOnError, nil) }},
		{"read past the end", func() error { return c.Read(lmr, 0, rro, 32, 64, rpma.CompletionOnError, nil) }},
		{"persistent flush without its usage", func() error {
			c.ApplyRemotePeerConfig(&rpma.PeerConfig{DirectWriteToPmem: true})
			return c.Flush(rw, 0, 8, rpma.FlushPersistent, rpma.CompletionOnError, nil)
		}},
		{"flush past the end", func() error { return c.Flush(rw, 0, 65, rpma.FlushVisibility, rpma.CompletionOnError, nil) }},
	}
	for _, o := range ops {
		if err := o.post(); err != nil {
			t.Fatalf("%s: post: %v", o.name, err)
		}
		if wc := next(t, c.CQ()); wc.Status != rpma.StatusRemoteAccess {
			t.Fatalf("%s: %v", o.name, wc.Status)
		}
	}
	// Local checks: bounds and usages of the local region.
	if err := c.Write(rw, 0, lmr, 250, 8, rpma.CompletionOnError, nil); !errors.Is(err, rpma.ErrInvalid) {
		t.Fatalf("local source past its end: %v", err)
	}
	if err := c.Send(lmr, 0, 8, rpma.CompletionOnError, nil); !errors.Is(err, rpma.ErrInvalid) {
		t.Fatalf("send from a region without UsageSend: %v", err)
	}
	if err := c.Write(rw, 0, lmr, 0, 8, 0, nil); !errors.Is(err, rpma.ErrInvalid) {
		t.Fatalf("no flags: %v", err)
	}
	// A deregistered region is gone for the other side.
	if err := smr.Deregister(); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(rw, 0, lmr, 0, 8, rpma.CompletionOnError, nil); err != nil {
		t.Fatal(err)
	}
	if wc := next(t, c.CQ()); wc.Status != rpma.StatusRemoteAccess {
		t.Fatalf("write to a deregistered region: %v", wc.Status)
	}
	c.Disconnect()
	waitEvent(t, sc, rpma.EventClosed)
	for i, b := range append(append([]byte{}, guardA...), guardB...) {
		if b != 0xAA {
			t.Fatalf("guard byte %d written", i)
		}
	}
	for i, b := range region {
		if b != 0xAA {
			t.Fatalf("region byte %d written by a refused operation", i)
		}
	}
}
