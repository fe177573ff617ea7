//go:build verbs && cgo

package rpma

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// These tests need an RDMA device (a NIC, or soft-RoCE/siw on a netdev
// with an IP address): they skip where ibv_get_device_list finds none.
// They have not run on the machine the transport was written on, which
// has no device and no kernel modules for a soft one.

func TestVerbsDevices(t *testing.T) {
	names, err := verbsDevices()
	if err != nil || len(names) == 0 {
		t.Skipf("no RDMA device (ibv_get_device_list found none: %v): nothing to list", err)
	}
	t.Logf("RDMA devices: %v", names)
}

// verbsAddr returns the first local IP address a verbs peer can be made
// on, or skips.
func verbsAddr(t *testing.T) string {
	t.Helper()
	if len(verbsDeviceNames()) == 0 {
		t.Skip("no RDMA device (ibv_get_device_list found none): the verbs transport is not exercised here")
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		p, err := NewPeer(&PeerOptions{RDMAAddr: ipn.IP.String()})
		if err == nil {
			_ = p // the device context stays open for the process
			return ipn.IP.String()
		}
	}
	t.Skip("RDMA devices exist but no local IP address belongs to one")
	return ""
}

func verbsPeerAt(t *testing.T, ip string) *Peer {
	t.Helper()
	p, err := NewPeer(&PeerOptions{RDMAAddr: ip})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pinnedMR(t *testing.T, p *Peer, n int, u Usage) *MR {
	t.Helper()
	b, err := AllocMemory(n)
	if err != nil {
		t.Fatal(err)
	}
	mr, err := p.RegisterMemory(b, u)
	if err != nil {
		FreeMemory(b)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := mr.Deregister(); err != nil {
			t.Error(err)
		}
		FreeMemory(b)
	})
	return mr
}

func verbsCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestVerbsLoopback runs librpma's example scenarios over a device, both
// peers in this process: private data both ways, write then persistent
// flush, read back, atomic write, a refused write, send and receive, a
// rejected request, disconnect events.
func TestVerbsLoopback(t *testing.T) {
	ip := verbsAddr(t)
	srv, cli := verbsPeerAt(t, ip), verbsPeerAt(t, ip)
	if _, err := srv.RegisterMemory(make([]byte, 4096), UsageWriteDst); !errors.Is(err, ErrInvalid) {
		t.Fatalf("registering Go memory: %v, want ErrInvalid", err)
	}
	dst := pinnedMR(t, srv, 1<<16, UsageWriteDst|UsageReadSrc|UsageFlushPersistent|UsageFlushVisibility)
	ro := pinnedMR(t, srv, 4096, UsageReadSrc)
	srecv := pinnedMR(t, srv, 4096, UsageRecv|UsageSend)
	src := pinnedMR(t, cli, 1<<16, UsageWriteSrc|UsageReadDst|UsageSend|UsageRecv)

	ep, err := srv.Listen(net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Shutdown()

	// A rejected request.
	go func() {
		if req, err := ep.NextConnReq(verbsCtx(t), nil); err == nil {
			req.Delete()
		}
	}()
	req, err := cli.NewConnReq(ep.Addr().String(), &ConnConfig{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := req.Connect(verbsCtx(t), nil); !errors.Is(err, ErrRejected) {
		t.Fatalf("rejected request: %v", err)
	}

	cfg := PeerConfig{DirectWriteToPmem: true}
	spd := append(append(dst.Descriptor(), ro.Descriptor()...), cfg.Descriptor()...)
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		req, err := ep.NextConnReq(verbsCtx(t), &ConnConfig{Timeout: 10 * time.Second})
		if err != nil {
			ch <- res{nil, err}
			return
		}
		if string(req.PrivateData()) != "hello" {
			req.Delete()
			ch <- res{nil, errors.New("client private data " + string(req.PrivateData()))}
			return
		}
		if err := req.Recv(srecv, 0, 4096, "srv recv"); err != nil {
			ch <- res{nil, err}
			return
		}
		c, err := req.Connect(verbsCtx(t), spd)
		ch <- res{c, err}
	}()
	req, err = cli.NewConnReq(ep.Addr().String(), &ConnConfig{Timeout: 10 * time.Second, RCQSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Recv(src, 1<<15, 4096, "cli recv"); err != nil {
		t.Fatal(err)
	}
	cc, err := req.Connect(verbsCtx(t), []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	sc := r.c
	defer sc.Close()
	for _, c := range []*Conn{sc, cc} {
		if ev, err := c.NextEvent(verbsCtx(t)); ev != EventEstablished || err != nil {
			t.Fatalf("first event %v, %v", ev, err)
		}
	}
	pd := cc.PrivateData()
	if !bytes.Equal(pd, spd) {
		t.Fatalf("server private data %x, want %x", pd, spd)
	}
	rdst, err := RemoteFromDescriptor(pd[:MRDescriptorSize])
	if err != nil {
		t.Fatal(err)
	}
	rro, err := RemoteFromDescriptor(pd[MRDescriptorSize : 2*MRDescriptorSize])
	if err != nil {
		t.Fatal(err)
	}
	pc, err := PeerConfigFromDescriptor(pd[2*MRDescriptorSize:])
	if err != nil {
		t.Fatal(err)
	}
	cc.ApplyRemotePeerConfig(pc)

	complete := func(q *CQ, op Op, st Status) Completion {
		t.Helper()
		wc, err := q.Next(verbsCtx(t))
		if err != nil || wc.Op != op || wc.Status != st {
			t.Fatalf("completion %+v, %v; want %v %v", wc, err, op, st)
		}
		return wc
	}

	// Write, persist, read back.
	msg := []byte("written over RDMA and persisted")
	copy(src.Bytes(), msg)
	if err := cc.Write(rdst, 128, src, 0, len(msg), CompletionOnError, nil); err != nil {
		t.Fatal(err)
	}
	if err := cc.Flush(rdst, 128, len(msg), FlushPersistent, CompletionAlways, "flush"); err != nil {
		t.Fatal(err)
	}
	if wc := complete(cc.CQ(), OpFlush, StatusSuccess); wc.Context != "flush" {
		t.Fatalf("flush context %v", wc.Context)
	}
	if !bytes.Equal(dst.Bytes()[128:128+len(msg)], msg) {
		t.Fatalf("server memory %q", dst.Bytes()[128:128+len(msg)])
	}
	if err := cc.Read(src, 4096, rdst, 128, len(msg), CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	complete(cc.CQ(), OpRead, StatusSuccess)
	if !bytes.Equal(src.Bytes()[4096:4096+len(msg)], msg) {
		t.Fatalf("read back %q", src.Bytes()[4096:4096+len(msg)])
	}

	// Atomic write, made visible.
	if err := cc.AtomicWrite(rdst, 8, [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, CompletionOnError, nil); err != nil {
		t.Fatal(err)
	}
	if err := cc.Flush(rdst, 8, 8, FlushVisibility, CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	complete(cc.CQ(), OpFlush, StatusSuccess)
	if !bytes.Equal(dst.Bytes()[8:16], []byte{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("atomic write: %v", dst.Bytes()[8:16])
	}

	// Send and receive, both ways.
	copy(src.Bytes()[100:], "ping")
	if err := cc.Send(src, 100, 4, CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	complete(cc.CQ(), OpSend, StatusSuccess)
	if wc := complete(sc.CQ(), OpRecv, StatusSuccess); wc.Len != 4 || wc.Context != "srv recv" || string(srecv.Bytes()[:4]) != "ping" {
		t.Fatalf("server receive %+v %q", wc, srecv.Bytes()[:4])
	}
	copy(srecv.Bytes()[200:], "pong!")
	if err := sc.Send(srecv, 200, 5, CompletionOnError, nil); err != nil {
		t.Fatal(err)
	}
	if wc := complete(cc.RCQ(), OpRecv, StatusSuccess); wc.Len != 5 || string(src.Bytes()[1<<15:1<<15+5]) != "pong!" {
		t.Fatalf("client receive %+v", wc)
	}

	// A write to a read-only region: the remote NIC refuses it, and the
	// queue pair breaks (as verbs does).
	if err := cc.Write(rro, 0, src, 0, 8, CompletionOnError, "refused"); err != nil {
		t.Fatal(err)
	}
	if wc := complete(cc.CQ(), OpWrite, StatusRemoteAccess); wc.Context != "refused" {
		t.Fatalf("refused write context %v", wc.Context)
	}

	if err := cc.Disconnect(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Conn{cc, sc} {
		ev, err := c.NextEvent(verbsCtx(t))
		if err != nil || (ev != EventClosed && ev != EventLost) {
			t.Fatalf("last event %v, %v", ev, err)
		}
		if _, err := c.NextEvent(verbsCtx(t)); !errors.Is(err, ErrNoEvent) {
			t.Fatalf("after the last event: %v", err)
		}
	}
}
