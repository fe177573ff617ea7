package rpma_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/rpma"
)

// The scenario of librpma's example 01-connection plus 02-read: the
// server hands its region's descriptor over as private data; the client
// reads it.
func TestRead(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	src := []byte("hello, remote world")
	smr := register(t, srv, src, rpma.UsageReadSrc)
	sc, c := pair(t, srv, cli, nil, nil, smr.Descriptor(), nil)
	rmr := remote(t, c.PrivateData())
	if rmr.Size() != len(src) || rmr.IsPmem() {
		t.Fatalf("remote size %d pmem %v", rmr.Size(), rmr.IsPmem())
	}
	dst := make([]byte, 64)
	dmr := register(t, cli, dst, rpma.UsageReadDst)
	if err := c.Read(dmr, 3, rmr, 0, len(src), rpma.CompletionAlways, "ctx"); err != nil {
		t.Fatal(err)
	}
	if wc := mustComplete(t, c.CQ(), rpma.OpRead); wc.Context != "ctx" {
		t.Fatalf("context %v", wc.Context)
	}
	if !bytes.Equal(dst[3:3+len(src)], src) {
		t.Fatalf("read %q", dst)
	}
	// librpma's close sequence: the client disconnects, both see closed.
	if err := c.Disconnect(); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, sc, rpma.EventClosed)
	sc.Disconnect()
	waitEvent(t, c, rpma.EventClosed)
	if _, err := c.NextEvent(ctx(t)); !errors.Is(err, rpma.ErrNoEvent) {
		t.Fatalf("after closed: %v", err)
	}
	if err := c.Read(dmr, 0, rmr, 0, 1, rpma.CompletionAlways, nil); !errors.Is(err, rpma.ErrClosed) {
		t.Fatalf("read after disconnect: %v", err)
	}
}

// 03-write and 05-flush-to-persistent: the server's region is a mapped
// file; the client writes and flushes to persistence; the data is in the
// file.
func TestWriteFlushPersistent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pmem")
	m, err := core.MapFile(path, 1<<20, core.FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	smr, err := srv.RegisterMap(m, 4096, 8192, rpma.UsageWriteDst|rpma.UsageFlushPersistent|rpma.UsageReadSrc)
	if err != nil {
		t.Fatal(err)
	}
	pcfg := &rpma.PeerConfig{DirectWriteToPmem: true}
	pd := append(smr.Descriptor(), pcfg.Descriptor()...)
	sc, c := pair(t, srv, cli, nil, nil, pd, nil)
	rmr := remote(t, c.PrivateData()[:rpma.MRDescriptorSize])
	if !rmr.IsPmem() || rmr.FlushTypes() != rpma.UsageFlushPersistent {
		t.Fatalf("remote pmem %v flush types %#x", rmr.IsPmem(), rmr.FlushTypes())
	}
	src := []byte("persistent hello")
	wmr := register(t, cli, src, rpma.UsageWriteSrc)
	if err := c.Write(rmr, 100, wmr, 0, len(src), rpma.CompletionOnError, nil); err != nil {
		t.Fatal(err)
	}
	// Without the server's peer configuration a persistent flush is
	// not possible.
	if err := c.Flush(rmr, 100, len(src), rpma.FlushPersistent, rpma.CompletionAlways, nil); !errors.Is(err, rpma.ErrNotSupported) {
		t.Fatalf("persistent flush without direct write: %v", err)
	}
	rcfg, err := rpma.PeerConfigFromDescriptor(c.PrivateData()[rpma.MRDescriptorSize:])
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyRemotePeerConfig(rcfg)
	if err := c.Flush(rmr, 100, len(src), rpma.FlushPersistent, rpma.CompletionAlways, 7); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, c.CQ(), rpma.OpFlush)
	// A visibility flush needs its usage, which the region lacks.
	if err := c.Flush(rmr, 100, len(src), rpma.FlushVisibility, rpma.CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	if wc := next(t, c.CQ()); wc.Status != rpma.StatusRemoteAccess {
		t.Fatalf("visibility flush of a region without it: %v", wc.Status)
	}
	c.Disconnect()
	waitEvent(t, sc, rpma.EventClosed)
	if got := m.Bytes()[4096+100 : 4096+100+len(src)]; !bytes.Equal(got, src) {
		t.Fatalf("mapping holds %q", got)
	}
	smr.Deregister()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := f[4096+100 : 4096+100+len(src)]; !bytes.Equal(got, src) {
		t.Fatalf("file holds %q", got)
	}
}

// 04-write-atomic: an 8-byte atomic write, then a read back.
func TestAtomicWrite(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	mem := make([]uint64, 4) // 8-aligned
	b := unsafeBytes(mem)
	smr := register(t, srv, b, rpma.UsageWriteDst|rpma.UsageReadSrc|rpma.UsageFlushVisibility)
	_, c := pair(t, srv, cli, nil, nil, smr.Descriptor(), nil)
	rmr := remote(t, c.PrivateData())
	var v [8]byte
	binary.LittleEndian.PutUint64(v[:], 0x1122334455667788)
	if err := c.AtomicWrite(rmr, 12, v, rpma.CompletionAlways, nil); !errors.Is(err, rpma.ErrInvalid) {
		t.Fatalf("unaligned atomic write: %v", err)
	}
	if err := c.AtomicWrite(rmr, 16, v, rpma.CompletionOnError, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(rmr, 16, 8, rpma.FlushVisibility, rpma.CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, c.CQ(), rpma.OpFlush)
	dst := make([]byte, 8)
	dmr := register(t, cli, dst, rpma.UsageReadDst)
	if err := c.Read(dmr, 0, rmr, 16, 8, rpma.CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, c.CQ(), rpma.OpRead)
	if got := binary.LittleEndian.Uint64(dst); got != 0x1122334455667788 {
		t.Fatalf("read back %#x", got)
	}
	// Beyond the region: the remote side refuses.
	if err := c.AtomicWrite(rmr, 32, v, rpma.CompletionOnError, nil); err != nil {
		t.Fatal(err)
	}
	if wc := next(t, c.CQ()); wc.Op != rpma.OpAtomicWrite || wc.Status != rpma.StatusRemoteAccess {
		t.Fatalf("atomic write past the end: %v %v", wc.Op, wc.Status)
	}
}

// 06-messaging (ping-pong) with a receive CQ on a shared completion
// channel on the server, plain CQs on the client, and a receive posted
// on the request before connecting (rpma_conn_req_recv).
func TestMessaging(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	const n = 50
	sbuf := make([]byte, 16)
	rbuf := make([]byte, 16)
	ssend := register(t, srv, sbuf, rpma.UsageSend)
	srecv := register(t, srv, rbuf, rpma.UsageRecv)
	scfg := &rpma.ConnConfig{RCQSize: 4, SharedCompletionChannel: true}
	sc, c := pair(t, srv, cli, scfg, nil, nil, nil)
	if err := sc.CQ().Wait(ctx(t)); !errors.Is(err, rpma.ErrNotSupported) {
		t.Fatalf("wait on a shared channel's CQ: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			for i := 0; i < n; i++ {
				if err := sc.Recv(srecv, 0, 16, i); err != nil {
					return err
				}
				q, err := sc.Wait(ctx(t))
				if err != nil {
					return err
				}
				if q != sc.RCQ() {
					return errors.New("completion not on the receive CQ")
				}
				wc, err := q.Next(ctx(t))
				if err != nil || wc.Op != rpma.OpRecv || wc.Status != rpma.StatusSuccess || wc.Len != 8 {
					return errors.New("bad recv completion")
				}
				copy(sbuf, rbuf[:8])
				binary.LittleEndian.PutUint64(sbuf, binary.LittleEndian.Uint64(sbuf)+1)
				if err := sc.Send(ssend, 0, 8, rpma.CompletionAlways, nil); err != nil {
					return err
				}
				if wc, err := sc.CQ().Next(ctx(t)); err != nil || wc.Op != rpma.OpSend || wc.Status != rpma.StatusSuccess {
					return errors.New("bad send completion")
				}
			}
			return nil
		}()
	}()
	cbuf := make([]byte, 32)
	cmr := register(t, cli, cbuf, rpma.UsageSend|rpma.UsageRecv)
	for i := uint64(0); i < n; i++ {
		if err := c.Recv(cmr, 16, 16, nil); err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint64(cbuf, i*10)
		if err := c.Send(cmr, 0, 8, rpma.CompletionAlways, nil); err != nil {
			t.Fatal(err)
		}
		got := map[rpma.Op]bool{}
		for len(got) < 2 {
			wc := next(t, c.CQ())
			if wc.Status != rpma.StatusSuccess {
				t.Fatalf("%v: %v", wc.Op, wc.Status)
			}
			got[wc.Op] = true
		}
		if v := binary.LittleEndian.Uint64(cbuf[16:]); v != i*10+1 {
			t.Fatalf("pong %d, want %d", v, i*10+1)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A message longer than the posted buffer.
	if err := sc.Recv(srecv, 0, 4, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(cmr, 0, 8, rpma.CompletionOnError, nil); err != nil {
		t.Fatal(err)
	}
	if wc := next(t, c.CQ()); wc.Status != rpma.StatusRemoteInvalidRequest {
		t.Fatalf("sender of a too long message: %v", wc.Status)
	}
	if q, err := sc.Wait(ctx(t)); err != nil {
		t.Fatal(err)
	} else if wc := next(t, q); wc.Op != rpma.OpRecv || wc.Status != rpma.StatusLocalLength {
		t.Fatalf("receiver of a too long message: %v %v", wc.Op, wc.Status)
	}
}

// A receive posted on the connection request, before the connection.
func TestConnReqRecv(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	ep := listen(t, srv)
	buf := make([]byte, 8)
	mr := register(t, cli, buf, rpma.UsageRecv)
	req, err := cli.NewConnReq(ep.Addr().String(), slowOK)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Recv(mr, 0, 8, "early"); err != nil {
		t.Fatal(err)
	}
	go func() {
		r, err := ep.NextConnReq(ctx(t), nil)
		if err != nil {
			return
		}
		sc, err := r.Connect(ctx(t), nil)
		if err != nil {
			return
		}
		defer sc.Close()
		m := []byte("early!")
		smr, _ := srv.RegisterMemory(m, rpma.UsageSend)
		sc.Send(smr, 0, len(m), rpma.CompletionAlways, nil)
		sc.CQ().Next(ctx(t))
		sc.NextEvent(ctx(t))
		sc.NextEvent(ctx(t))
	}()
	c, err := req.Connect(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wc := mustComplete(t, c.CQ(), rpma.OpRecv)
	if wc.Context != "early" || string(buf[:wc.Len]) != "early!" {
		t.Fatalf("recv %v %q", wc.Context, buf[:wc.Len])
	}
}

// Private data both ways, and a rejected request.
func TestPrivateDataAndReject(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	sc, c := pair(t, srv, cli, nil, nil, []byte("from server"), []byte("from client"))
	if string(sc.PrivateData()) != "from client" || string(c.PrivateData()) != "from server" {
		t.Fatalf("private data %q / %q", sc.PrivateData(), c.PrivateData())
	}
	ep := listen(t, srv)
	go func() {
		if r, err := ep.NextConnReq(ctx(t), nil); err == nil {
			if string(r.PrivateData()) == "let me in" {
				r.Delete()
			}
		}
	}()
	req, _ := cli.NewConnReq(ep.Addr().String(), slowOK)
	if _, err := req.Connect(ctx(t), []byte("let me in")); !errors.Is(err, rpma.ErrRejected) {
		t.Fatalf("rejected request: %v", err)
	}
	req, _ = cli.NewConnReq(ep.Addr().String(), nil)
	if _, err := req.Connect(ctx(t), make([]byte, rpma.MaxPrivateData+1)); !errors.Is(err, rpma.ErrInvalid) {
		t.Fatalf("too much private data: %v", err)
	}
}

// Writes of every size class the writer treats differently (staged into
// one record with others, sealed straight from the region, larger than a
// record, than a socket batch) with many outstanding, then a read of the
// whole region back: the bytes arrive whole and in place both ways.
func TestMixedSizesStream(t *testing.T) {
	const size = 1 << 20
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	mem := make([]byte, size)
	smr := register(t, srv, mem, rpma.UsageWriteDst|rpma.UsageReadSrc|rpma.UsageFlushVisibility)
	_, c := pair(t, srv, cli, nil, &rpma.ConnConfig{SQSize: 32, CQSize: 32}, smr.Descriptor(), nil)
	rmr := remote(t, c.PrivateData())
	src := make([]byte, size)
	for i := range src {
		src[i] = byte(i*7 + i>>11)
	}
	lmr := register(t, cli, src, rpma.UsageWriteSrc)
	back := make([]byte, size)
	bmr := register(t, cli, back, rpma.UsageReadDst)
	sizes := []int{1, 31, 4 << 10, 4<<10 + 1, 16<<10 - 32, 16<<10 + 5, 64 << 10, 200 << 10}
	for off, i := 0, 0; off < size; i++ {
		n := min(sizes[i%len(sizes)], size-off)
		if err := c.Write(rmr, off, lmr, off, n, rpma.CompletionOnError, nil); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	if err := c.Flush(rmr, 0, size, rpma.FlushVisibility, rpma.CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, c.CQ(), rpma.OpFlush)
	if !bytes.Equal(mem, src) {
		t.Fatal("the remote region differs from what was written")
	}
	if err := c.Read(bmr, 0, rmr, 0, size, rpma.CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, c.CQ(), rpma.OpRead)
	if !bytes.Equal(back, src) {
		t.Fatal("the region read back differs")
	}
}
