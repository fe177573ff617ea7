package rpma

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

// frame encodes one frame with its payload.
func frame(h header, payload []byte) []byte {
	h.length = max(h.length, uint32(len(payload)))
	b := make([]byte, headerSize, headerSize+len(payload))
	h.encode(b)
	return append(b, payload...)
}

// served is a connection whose serve loop reads a byte stream instead of
// a socket, with three requests of its own outstanding (a read of 16
// bytes as id 1, a write as id 2, a flush as id 3) and one receive of 8
// bytes posted, against a peer with a region between guard bytes.
type served struct {
	c      *Conn
	mem    []byte // guard, region, guard
	region []byte
	mr     *MR
	local  []byte // the outstanding read's destination
}

const guard = 64

func newServed(t testing.TB, in []byte) *served {
	// A peer without TLS: serve reads a byte stream, and the fuzzer runs
	// faster without deriving a key per input.
	p := &Peer{regions: map[uint64]*MR{}, log: slog.New(slog.DiscardHandler)}
	var err error
	s := &served{mem: make([]byte, guard+256+guard)}
	s.region = s.mem[guard : guard+256 : guard+256]
	s.mr, err = p.RegisterMemory(s.region, usageAll)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := (*ConnConfig)(nil).resolve()
	c := &Conn{peer: p, cfg: cfg, br: bufio.NewReader(bytes.NewReader(in)), sq: make(chan struct{}, cfg.SQSize),
		pend: map[uint64]*pending{}, outWake: make(chan struct{}, 1)}
	c.cq = newCQ(c, 100, make(chan struct{}, 1))
	s.local = make([]byte, 16+8)
	lmr, _ := p.RegisterMemory(s.local, usageAll)
	for id, op := range []Op{OpRead, OpWrite, OpFlush} {
		c.sq <- struct{}{}
		pd := &pending{op: op, flags: CompletionAlways}
		if op == OpRead {
			lmr.acquire()
			pd.dst, pd.mr = s.local[:16], lmr
		}
		c.pend[uint64(id+1)] = pd
	}
	lmr.acquire()
	c.recvs = []*pending{{op: OpRecv, flags: CompletionAlways, dst: s.local[16:], mr: lmr}}
	s.c = c
	return s
}

func (s *served) checkGuards(t testing.TB) {
	for i := 0; i < guard; i++ {
		if s.mem[i] != 0 || s.mem[len(s.mem)-1-i] != 0 {
			t.Fatal("a frame wrote outside its region")
		}
	}
}

func TestServeFrames(t *testing.T) {
	s := newServed(t, nil)
	key := s.mr.key
	in := bytes.Join([][]byte{
		frame(header{op: opWrite, key: key, offset: 10}, []byte("hello")),
		frame(header{op: opAtomic, key: key, offset: 16}, []byte("8 bytes!")),
		frame(header{op: opWrite, key: key, offset: 250}, []byte("too long")), // refused, stream stays in step
		frame(header{op: opRead, key: key, offset: 10, length: 5}, nil),
		frame(header{op: opFlush, flags: uint16(FlushPersistent), key: key, length: 256}, nil),
		frame(header{op: opSend}, []byte("msg")),
		frame(header{op: opReadResp, id: 1}, []byte("0123456789abcdef")),
		frame(header{op: opResp, id: 2, status: StatusRemoteAccess}, nil),
		frame(header{op: opResp, id: 3}, nil),
		frame(header{op: opDisconnect}, nil),
	}, nil)
	s.c.br = bufio.NewReader(bytes.NewReader(in))
	if err := s.c.serve(); !errors.Is(err, errPeerDisconnected) {
		t.Fatalf("serve: %v", err)
	}
	s.checkGuards(t)
	if string(s.region[10:15]) != "hello" || string(s.region[16:24]) != "8 bytes!" || s.region[250] != 0 {
		t.Fatalf("region %q", s.region[:32])
	}
	if string(s.local[:16]) != "0123456789abcdef" || string(s.local[16:19]) != "msg" {
		t.Fatalf("local %q", s.local)
	}
	var wc [10]Completion
	n, _ := s.c.cq.Get(wc[:])
	got := []string{}
	for _, w := range wc[:n] {
		got = append(got, w.Op.String()+" "+w.Status.String())
	}
	want := "recv success,read success,write remote access error,flush success"
	if j := joinStrings(got); j != want {
		t.Fatalf("completions %s, want %s", j, want)
	}
	var sts []Status
	for _, f := range s.c.outq {
		sts = append(sts, f.h.status)
	}
	wantSts := []Status{StatusSuccess, StatusSuccess, StatusRemoteAccess, StatusSuccess, StatusSuccess, StatusSuccess}
	if len(sts) != len(wantSts) {
		t.Fatalf("responses %v, want %v", sts, wantSts)
	}
	for i := range sts {
		if sts[i] != wantSts[i] {
			t.Fatalf("responses %v, want %v", sts, wantSts)
		}
	}
}

func joinStrings(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x)
	}
	return b.String()
}

func TestServeMalformed(t *testing.T) {
	key := uint64(0)
	cases := map[string][]byte{
		"unknown op":              frame(header{op: 99}, nil),
		"request with status":     frame(header{op: opWrite, status: 1}, nil),
		"atomic of 4 bytes":       frame(header{op: opAtomic, key: key}, []byte("four")),
		"response to nothing":     frame(header{op: opResp, id: 77}, nil),
		"read response too short": frame(header{op: opReadResp, id: 1}, []byte("short")),
		"response with payload":   frame(header{op: opResp, id: 2}, []byte("x")),
		"response of wrong kind":  frame(header{op: opResp, id: 1}, nil),
		"huge message":            frame(header{op: opSend, length: MaxMessageSize + 1}, nil),
		"flush type 3":            frame(header{op: opFlush, flags: 3}, nil),
		"status out of range":     frame(header{op: opResp, id: 2, status: statusCount}, nil),
	}
	for name, in := range cases {
		s := newServed(t, in)
		if err := s.c.serve(); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v", name, err)
		}
	}
	truncated := map[string][]byte{
		"half a header":          frame(header{op: opWrite}, nil)[:20],
		"half a write":           frame(header{op: opWrite, length: 100}, []byte("ten bytes.")),
		"half a message":         frame(header{op: opSend, length: 100}, []byte("ten bytes.")),
		"half a read response":   frame(header{op: opReadResp, id: 1, length: 16}, []byte("ten bytes.")),
		"half a refused write":   frame(header{op: opWrite, key: 5, length: 100}, []byte("ten bytes.")),
		"half an atomic write":   frame(header{op: opAtomic, length: 8}, []byte("four")),
		"half a too long recv":   frame(header{op: opSend, length: 100}, nil),
		"nothing after a header": frame(header{op: opRead, length: 16}, nil),
	}
	for name, in := range truncated {
		s := newServed(t, in)
		err := s.c.serve()
		if name == "nothing after a header" {
			if err != io.EOF {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: %v", name, err)
		}
		s.checkGuards(t)
	}
}

func FuzzServe(f *testing.F) {
	f.Add(frame(header{op: opWrite, offset: 10}, []byte("hello")))
	f.Add(frame(header{op: opReadResp, id: 1}, []byte("0123456789abcdef")))
	f.Add(frame(header{op: opSend}, []byte("msg")))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := newServed(t, nil)
		// Frames that name a region get its key: a fuzzer cannot guess
		// 64 random bits, and bounds checks are what is under test.
		in = bytes.Clone(in)
		for off := 0; off+headerSize <= len(in); {
			h := decodeHeader(in[off:])
			if h.key == 1 {
				h.key = s.mr.key
				h.encode(in[off:])
			}
			off += headerSize
			if h.op != opRead && h.op != opFlush {
				off += int(min(h.length, 1<<20))
			}
		}
		s.c.br = bufio.NewReader(bytes.NewReader(in))
		if err := s.c.serve(); err == nil {
			t.Fatal("serve ended without an error")
		}
		s.checkGuards(t)
		if len(s.c.outq) > maxPeerOutstanding+s.c.cfg.SQSize+1 {
			t.Fatalf("%d responses queued", len(s.c.outq))
		}
	})
}

// rawPeer connects a client that speaks the frames itself (over the PSK
// TLS of the peers) to an endpoint of srv, which accepts with cfg. It
// returns the server's connection and the client's TLS stream.
func rawPeer(t *testing.T, srv *Peer, cfg *ConnConfig) (*Conn, *tls.Conn) {
	t.Helper()
	ep, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan *Conn, 1)
	go func() {
		r, err := ep.NextConnReq(ctx, cfg)
		if err != nil {
			done <- nil
			return
		}
		sc, _ := r.Connect(ctx, nil)
		done <- sc
	}()
	nc, err := tls.Dial("tcp", ep.Addr().String(), srv.client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	writeFrame(nc, opHello, nil)
	if op, _, err := readHandshake(nc); err != nil || op != opAccept {
		t.Fatalf("handshake answer %d, %v", op, err)
	}
	sc := <-done
	if sc == nil {
		t.Fatal("no connection")
	}
	t.Cleanup(func() { sc.Close() })
	return sc, nc
}

// A real TLS peer that sends half a frame and closes: the server's
// connection is lost with io.ErrUnexpectedEOF.
func TestHalfWrittenFrame(t *testing.T) {
	srv, err := NewPeer(&PeerOptions{PSK: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	mr, _ := srv.RegisterMemory(make([]byte, 4096), UsageWriteDst)
	sc, nc := rawPeer(t, srv, nil)
	whole := frame(header{op: opWrite, key: mr.key, offset: 0}, bytes.Repeat([]byte{9}, 1000))
	nc.Write(whole[:headerSize+10])
	nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, want := range []ConnEvent{EventEstablished, EventLost} {
		if ev, err := sc.NextEvent(ctx); ev != want {
			t.Fatalf("event %v, %v; want %v", ev, err, want)
		}
	}
	if !errors.Is(sc.Err(), io.ErrUnexpectedEOF) {
		t.Fatalf("lost for %v", sc.Err())
	}
}

// A peer that stops reading: this side's writes fill the socket and the
// SQ, posts wait, and Disconnect and Close still return within the
// timeout.
func TestPeerStopsReading(t *testing.T) {
	srv, err := NewPeer(&PeerOptions{PSK: bytes.Repeat([]byte{5}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	src, _ := srv.RegisterMemory(make([]byte, 64<<10), UsageWriteSrc)
	sc, _ := rawPeer(t, srv, &ConnConfig{Timeout: 300 * time.Millisecond, SQSize: 256})
	dst := &RemoteMR{key: 1, size: 64 << 10}
	posted := make(chan error, 1)
	go func() {
		for range 512 { // more than the SQ: the last posts wait
			if err := sc.Write(dst, 0, src, 0, 64<<10, CompletionOnError, nil); err != nil {
				posted <- err
				return
			}
		}
		posted <- nil
	}()
	select {
	case err := <-posted:
		t.Fatalf("512 writes of 64 KiB posted to a peer that reads nothing: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	sc.Close() // the disconnect cannot be written: Close gives up after the timeout
	if err := <-posted; !errors.Is(err, ErrClosed) {
		t.Fatalf("post on a closed connection: %v", err)
	}
	if err := src.Deregister(); err != nil {
		t.Fatalf("region still held after Close: %v", err)
	}
}

// A receive posted while a message is arriving (after the reader found
// no receive, before the message is whole) takes that message: it is not
// left queued beside a posted receive.
func TestRecvPostedWhileMessageArrives(t *testing.T) {
	s := newServed(t, nil)
	s.c.recvs[0].mr.release()
	s.c.recvs = nil
	pr, pw := io.Pipe()
	s.c.br = bufio.NewReader(pr)
	errc := make(chan error, 1)
	go func() { errc <- s.c.serve() }()
	f := frame(header{op: opSend}, []byte("12345678"))
	pw.Write(f[:headerSize+4])
	// This write returns once serve reads it: past its look for a receive.
	pw.Write(f[headerSize+4 : headerSize+6])
	buf := make([]byte, 8)
	mr, _ := s.c.peer.RegisterMemory(buf, UsageRecv)
	if err := s.c.Recv(mr, 0, 8, "late"); err != nil {
		t.Fatal(err)
	}
	pw.Write(f[headerSize+6:])
	pw.Close()
	if err := <-errc; err != io.EOF {
		t.Fatalf("serve: %v", err)
	}
	var wc [4]Completion
	n, _ := s.c.cq.Get(wc[:])
	if n != 1 || wc[0].Op != OpRecv || wc[0].Status != StatusSuccess || wc[0].Context != "late" || string(buf) != "12345678" {
		t.Fatalf("completions %v, buffer %q", wc[:n], buf)
	}
}
