package rpma_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/rpma"
)

// Many clients at once on one endpoint, each writing its own slot of one
// server region, flushing and reading back.
func TestManyConnections(t *testing.T) {
	const clients, rounds, slot = 16, 20, 1024
	srv := newPeer(t, testPSK)
	mem := make([]byte, clients*slot)
	smr := register(t, srv, mem, rpma.UsageWriteDst|rpma.UsageReadSrc|rpma.UsageFlushVisibility)
	ep := listen(t, srv)
	var swg sync.WaitGroup
	swg.Add(1)
	go func() {
		defer swg.Done()
		for range clients {
			req, err := ep.NextConnReq(ctx(t), nil)
			if err != nil {
				t.Error(err)
				return
			}
			sc, err := req.Connect(ctx(t), smr.Descriptor())
			if err != nil {
				t.Error(err)
				return
			}
			swg.Add(1)
			go func() {
				defer swg.Done()
				defer sc.Close()
				sc.NextEvent(ctx(t))
				if ev, _ := sc.NextEvent(ctx(t)); ev != rpma.EventClosed {
					t.Errorf("server side event %v", ev)
				}
			}()
		}
	}()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := client(t, ep.Addr().String(), i, rounds, slot); err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	swg.Wait()
	for i := range clients {
		if want := bytes.Repeat([]byte{byte(i)}, slot); !bytes.Equal(mem[i*slot:(i+1)*slot], want) {
			t.Fatalf("slot %d holds the wrong bytes", i)
		}
	}
}

func client(t *testing.T, addr string, i, rounds, slot int) error {
	cli := newPeer(t, testPSK)
	req, err := cli.NewConnReq(addr, &rpma.ConnConfig{Timeout: 20 * time.Second})
	if err != nil {
		return err
	}
	c, err := req.Connect(ctx(t), nil)
	if err != nil {
		return err
	}
	defer c.Close()
	rmr, err := rpma.RemoteFromDescriptor(c.PrivateData())
	if err != nil {
		return err
	}
	buf := make([]byte, 2*slot)
	lmr, err := cli.RegisterMemory(buf, rpma.UsageWriteSrc|rpma.UsageReadDst)
	if err != nil {
		return err
	}
	defer lmr.Deregister()
	for r := range rounds {
		fill := byte(i)
		if r < rounds-1 {
			fill = byte(r + 100)
		}
		for j := range slot {
			buf[j] = fill
		}
		if err := c.Write(rmr, i*slot, lmr, 0, slot, rpma.CompletionOnError, nil); err != nil {
			return err
		}
		if err := c.Flush(rmr, i*slot, slot, rpma.FlushVisibility, rpma.CompletionOnError, nil); err != nil {
			return err
		}
		if err := c.Read(lmr, slot, rmr, i*slot, slot, rpma.CompletionAlways, nil); err != nil {
			return err
		}
		wc, err := c.CQ().Next(ctx(t))
		if err != nil {
			return err
		}
		if wc.Op != rpma.OpRead || wc.Status != rpma.StatusSuccess {
			return fmt.Errorf("round %d: %v %v", r, wc.Op, wc.Status)
		}
		if !bytes.Equal(buf[slot:], buf[:slot]) {
			return fmt.Errorf("round %d: read back differs", r)
		}
	}
	return c.Disconnect()
}

// The helper process of TestPeerKilled: a server that prints its address
// and its region's descriptor and serves until killed.
func TestHelperServer(t *testing.T) {
	if os.Getenv("RPMA_HELPER_SERVER") != "1" {
		t.Skip("helper process of TestPeerKilled")
	}
	srv := newPeer(t, testPSK)
	smr := register(t, srv, make([]byte, 1<<20), rpma.UsageWriteDst|rpma.UsageFlushVisibility)
	ep := listen(t, srv)
	fmt.Printf("%s %s\n", ep.Addr(), hex.EncodeToString(smr.Descriptor()))
	req, err := ep.NextConnReq(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := req.Connect(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc.NextEvent(ctx(t))
	sc.NextEvent(ctx(t))
}

// The server process is killed (SIGKILL) while writes are outstanding:
// the client sees the connection lost, and every outstanding operation
// completes with StatusFlushed.
func TestPeerKilled(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RPMA_HELPER_SERVER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(line)
	if len(f) != 2 {
		t.Fatalf("helper said %q", line)
	}
	desc, _ := hex.DecodeString(f[1])
	rmr := remote(t, desc)
	cli := newPeer(t, testPSK)
	req, _ := cli.NewConnReq(f[0], &rpma.ConnConfig{Timeout: 20 * time.Second, SQSize: 64, CQSize: 64})
	c, err := req.Connect(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitEvent(t, c, rpma.EventEstablished)
	src := make([]byte, 64<<10)
	lmr := register(t, cli, src, rpma.UsageWriteSrc)
	if err := c.Write(rmr, 0, lmr, 0, 4096, rpma.CompletionAlways, nil); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, c.CQ(), rpma.OpWrite)
	cmd.Process.Kill()
	posted := 0
	for range 32 {
		if err := c.Write(rmr, 0, lmr, 0, len(src), rpma.CompletionAlways, nil); err != nil {
			if !errors.Is(err, rpma.ErrClosed) {
				t.Fatal(err)
			}
			break
		}
		posted++
	}
	waitEvent(t, c, rpma.EventLost)
	for range posted {
		wc := next(t, c.CQ())
		if wc.Status != rpma.StatusSuccess && wc.Status != rpma.StatusFlushed {
			t.Fatalf("write after the kill: %v", wc.Status)
		}
	}
	if _, err := c.CQ().Next(ctx(t)); !errors.Is(err, rpma.ErrClosed) {
		t.Fatalf("CQ of a lost connection: %v", err)
	}
	if err := c.Write(rmr, 0, lmr, 0, 8, rpma.CompletionAlways, nil); !errors.Is(err, rpma.ErrClosed) {
		t.Fatalf("write on a lost connection: %v", err)
	}
}

// A peer that opens TCP and says nothing: other clients still connect
// meanwhile, and it is dropped after the handshake timeout. A client of a
// server that never answers gives up after its timeout.
func TestSlowPeer(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	ep := listen(t, srv)
	slow, err := net.Dial("tcp", ep.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	go func() {
		if r, err := ep.NextConnReq(ctx(t), nil); err == nil {
			if sc, err := r.Connect(ctx(t), []byte("ok")); err == nil {
				sc.NextEvent(ctx(t))
				sc.NextEvent(ctx(t))
				sc.Close()
			}
		}
	}()
	req, _ := cli.NewConnReq(ep.Addr().String(), &rpma.ConnConfig{Timeout: 20 * time.Second})
	c, err := req.Connect(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	short, err := rpma.NewPeer(&rpma.PeerOptions{PSK: testPSK, HandshakeTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sep := listen(t, short)
	silent, err := net.Dial("tcp", sep.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatalf("silent peer read %d bytes", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("silent peer not dropped")
	}

	// A listener that accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			defer nc.Close()
		}
	}()
	req, _ = cli.NewConnReq(ln.Addr().String(), &rpma.ConnConfig{Timeout: 200 * time.Millisecond})
	if _, err := req.Connect(ctx(t), nil); !errors.Is(err, rpma.ErrUnreachable) {
		t.Fatalf("connect to a silent server: %v", err)
	}
}

// A queued message waits for its receive; beyond the queue the sender
// gets receiver-not-ready.
func TestMessageQueue(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	sc, c := pair(t, srv, cli, &rpma.ConnConfig{RQSize: 1}, &rpma.ConnConfig{SQSize: 100, CQSize: 100}, nil, nil)
	m := register(t, cli, []byte("12345678"), rpma.UsageSend)
	for i := range 100 {
		if err := c.Send(m, 0, 8, rpma.CompletionAlways, i); err != nil {
			t.Fatal(err)
		}
	}
	rnr := 0
	for range 100 {
		switch wc := next(t, c.CQ()); wc.Status {
		case rpma.StatusSuccess:
		case rpma.StatusRNRRetryExceeded:
			rnr++
		default:
			t.Fatalf("send: %v", wc.Status)
		}
	}
	if rnr != 100-64 {
		t.Fatalf("%d sends not ready, want %d", rnr, 100-64)
	}
	buf := make([]byte, 8)
	rmr := register(t, srv, buf, rpma.UsageRecv)
	if err := sc.Recv(rmr, 0, 8, nil); err != nil {
		t.Fatal(err)
	}
	if wc := mustComplete(t, sc.CQ(), rpma.OpRecv); wc.Len != 8 || string(buf) != "12345678" {
		t.Fatalf("queued message %q", buf)
	}
	if err := sc.Recv(rmr, 0, 8, nil); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, sc.CQ(), rpma.OpRecv)
}

// Completions beyond the CQ's size lose the connection, as a CQ overrun
// breaks an RDMA queue pair; a region with a posted receive cannot be
// deregistered; a shut down endpoint offers nothing.
func TestQueueLimits(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	smr := register(t, srv, make([]byte, 64), rpma.UsageReadSrc)
	sc, c := pair(t, srv, cli, &rpma.ConnConfig{RQSize: 1}, &rpma.ConnConfig{CQSize: 2, SQSize: 8}, smr.Descriptor(), nil)
	rbuf := register(t, srv, make([]byte, 8), rpma.UsageRecv)
	if err := sc.Recv(rbuf, 0, 8, nil); err != nil {
		t.Fatal(err)
	}
	if err := sc.Recv(rbuf, 0, 8, nil); !errors.Is(err, rpma.ErrInvalid) {
		t.Fatalf("receive beyond RQSize: %v", err)
	}
	if err := rbuf.Deregister(); !errors.Is(err, rpma.ErrBusy) {
		t.Fatalf("deregister with a posted receive: %v", err)
	}
	rmr := remote(t, c.PrivateData())
	dst := register(t, cli, make([]byte, 64), rpma.UsageReadDst)
	for range 3 {
		if err := c.Read(dst, 0, rmr, 0, 8, rpma.CompletionAlways, nil); err != nil && !errors.Is(err, rpma.ErrClosed) {
			t.Fatal(err)
		}
	}
	waitEvent(t, c, rpma.EventLost)
	if !errors.Is(c.Err(), rpma.ErrCQOverrun) {
		t.Fatalf("lost for %v", c.Err())
	}
	waitEvent(t, sc, rpma.EventLost)
	if err := rbuf.Deregister(); err != nil {
		t.Fatalf("deregister once the receive was flushed: %v", err)
	}
	ep := listen(t, srv)
	ep.Shutdown()
	if _, err := ep.NextConnReq(ctx(t), nil); !errors.Is(err, rpma.ErrClosed) {
		t.Fatalf("next request of a shut down endpoint: %v", err)
	}
	req, _ := cli.NewConnReq(ep.Addr().String(), nil)
	if _, err := req.Connect(ctx(t), nil); !errors.Is(err, rpma.ErrUnreachable) {
		t.Fatalf("connect to a shut down endpoint: %v", err)
	}
}
