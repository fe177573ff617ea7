package rpma

import (
	"errors"
	"strings"
	"testing"
)

// The bookkeeping of a verbs connection, fed made-up work completions
// and events: runs without a device.

type bookFixture struct {
	b   *verbsBook
	c   *Conn
	mr  *MR
	tcp *MR
	rem *RemoteMR
}

func newBookFixture(t *testing.T, cfg ConnConfig) *bookFixture {
	t.Helper()
	rc, err := cfg.resolve()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPeer(&PeerOptions{PSK: make([]byte, MinPSKSize)})
	if err != nil {
		t.Fatal(err)
	}
	mr, err := p.RegisterMemory(make([]byte, 4096), usageAll)
	if err != nil {
		t.Fatal(err)
	}
	mr.v = &verbsMR{} // as a verbs peer's registration
	tcp, err := p.RegisterMemory(make([]byte, 64), usageAll)
	if err != nil {
		t.Fatal(err)
	}
	b := newVerbsBook(rc)
	c := &Conn{cfg: rc, events: make(chan ConnEvent, 2)}
	c.makeCQs()
	c.events <- EventEstablished
	b.c = c
	rem := &RemoteMR{verbs: true, key: 7, raddr: 1 << 20, size: 4096, usage: UsageWriteDst | UsageFlushVisibility}
	return &bookFixture{b: &b, c: c, mr: mr, tcp: tcp, rem: rem}
}

func (f *bookFixture) write(t *testing.T, flags Flags, ctx any) uint64 {
	t.Helper()
	id, local, err := f.b.begin(&pending{op: OpWrite, flags: flags, ctx: ctx},
		outFrame{h: header{op: opWrite, length: 8}, payload: f.mr.mem[:8], release: f.mr}, f.rem)
	if err != nil || local != f.mr {
		t.Fatalf("begin: %v (local %p)", err, local)
	}
	return id
}

// deregisters reports whether the region has no use held: Deregister
// would not be ErrBusy.
func deregisters(mr *MR) bool {
	if !mr.use.TryLock() {
		return false
	}
	mr.use.Unlock()
	return true
}

func TestVerbsBookCompletions(t *testing.T) {
	f := newBookFixture(t, ConnConfig{SQSize: 4, RQSize: 2, RCQSize: 4, CQSize: 4})
	// A successful write posted with CompletionOnError completes
	// silently, releasing its region and its send queue slot.
	id := f.write(t, CompletionOnError, nil)
	if deregisters(f.mr) || len(f.b.sq) != 1 {
		t.Fatal("a posted write does not hold its region and a send queue slot")
	}
	if !f.b.complete(id, ibvWCSuccess, 0) {
		t.Fatal("overrun")
	}
	if !deregisters(f.mr) || len(f.b.sq) != 0 {
		t.Fatal("a completed write still holds its region or slot")
	}
	if _, err := f.c.cq.Get(make([]Completion, 1)); !errors.Is(err, ErrNoCompletion) {
		t.Fatalf("silent success gave a completion: %v", err)
	}
	// Errors complete whatever the flags, with their status mapped.
	id = f.write(t, CompletionOnError, "bad")
	f.b.complete(id, ibvWCRemAccessErr, 0)
	wc := make([]Completion, 4)
	if n, err := f.c.cq.Get(wc); n != 1 || err != nil || wc[0] != (Completion{Op: OpWrite, Status: StatusRemoteAccess, Context: "bad"}) {
		t.Fatalf("error completion %v %v %+v", n, err, wc[0])
	}
	// CompletionAlways completes on success; an unknown id is ignored.
	id = f.write(t, CompletionAlways, 1)
	f.b.complete(id+100, ibvWCSuccess, 0)
	f.b.complete(id, ibvWCSuccess, 0)
	f.b.complete(id, ibvWCSuccess, 0) // twice: the device never does, nothing happens
	if n, _ := f.c.cq.Get(wc); n != 1 || wc[0].Status != StatusSuccess || wc[0].Context != 1 {
		t.Fatalf("always completion %d %+v", n, wc[0])
	}

	// Receives go to the receive CQ with their length; at most RQSize.
	var ids []uint64
	for i := range 3 {
		p, err := newRecv(f.mr, 0, 100, i)
		if err != nil {
			t.Fatal(err)
		}
		id, err := f.b.beginRecv(p)
		if i == 2 {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("receive beyond RQSize: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	f.b.complete(ids[0], ibvWCSuccess, 42)
	f.b.complete(ids[1], ibvWCWRFlushErr, 0)
	if n, _ := f.c.rcq.Get(wc); n != 2 || wc[0] != (Completion{Op: OpRecv, Status: StatusSuccess, Context: 0, Len: 42}) ||
		wc[1].Status != StatusFlushed || wc[1].Context != 1 {
		t.Fatalf("receive completions %d %+v", n, wc[:2])
	}
	if f.b.recvs != 0 || !deregisters(f.mr) {
		t.Fatal("completed receives still counted or holding their region")
	}

	// A CQ that overflows says so (the connection is then lost).
	for i := range 5 {
		id := f.write(t, CompletionAlways, i)
		if ok := f.b.complete(id, ibvWCSuccess, 0); ok != (i < 4) {
			t.Fatalf("completion %d into a CQ of 4: ok %v", i, ok)
		}
	}
}

func TestVerbsBookRefusals(t *testing.T) {
	f := newBookFixture(t, ConnConfig{SQSize: 1})
	tcpRemote := &RemoteMR{key: 7, size: 4096, usage: usageAll}
	cases := []struct {
		name string
		p    *pending
		fr   outFrame
		r    *RemoteMR
		want error
	}{
		{"TCP remote region", &pending{op: OpWrite}, outFrame{release: f.mr}, tcpRemote, ErrInvalid},
		{"TCP local region", &pending{op: OpWrite}, outFrame{release: f.tcp}, f.rem, ErrInvalid},
		{"TCP read destination", &pending{op: OpRead, mr: f.tcp}, outFrame{}, f.rem, ErrInvalid},
		{"persistent flush without the usage", &pending{op: OpFlush}, outFrame{h: header{flags: uint16(FlushPersistent)}}, f.rem, ErrNotSupported},
	}
	for _, c := range cases {
		if _, _, err := f.b.begin(c.p, c.fr, c.r); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if len(f.b.sq) != 0 || !deregisters(f.mr) {
		t.Fatal("a refused operation holds a slot or its region")
	}
	// A visibility flush is fine, and takes the only slot.
	id, local, err := f.b.begin(&pending{op: OpFlush, flags: CompletionOnError}, outFrame{h: header{flags: uint16(FlushVisibility)}}, f.rem)
	if err != nil || local != nil {
		t.Fatalf("visibility flush: %v", err)
	}
	// The device refusing a work request undoes it.
	f.b.abort(id)
	if len(f.b.sq) != 0 || len(f.b.pend) != 0 {
		t.Fatal("abort left the request")
	}
	// A full send queue waits; the poller's end releases the wait.
	held := f.write(t, CompletionOnError, nil)
	res := make(chan error, 1)
	go func() {
		_, _, err := f.b.begin(&pending{op: OpSend}, outFrame{}, nil)
		res <- err
	}()
	close(f.b.done)
	if err := <-res; !errors.Is(err, ErrClosed) {
		t.Fatalf("post into a full send queue of an ended connection: %v", err)
	}
	// A deregistered region is refused.
	f.b.complete(held, ibvWCSuccess, 0)
	f.mr.mu.Lock()
	f.mr.dead = true // as Deregister does (whose ibv_dereg_mr the fake registration cannot take)
	f.mr.mu.Unlock()
	if _, _, err := f.b.begin(&pending{op: OpRead, mr: f.mr}, outFrame{}, f.rem); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "deregistered") {
		t.Fatalf("read into a deregistered region: %v", err)
	}
}

func TestVerbsBookEnd(t *testing.T) {
	for _, lost := range []bool{false, true} {
		f := newBookFixture(t, ConnConfig{})
		id := f.write(t, CompletionOnError, nil)
		if lost {
			f.b.setErr(errors.New("broken"))
		}
		if !f.b.markDisc() || f.b.markDisc() {
			t.Fatal("markDisc not once")
		}
		if _, _, err := f.b.begin(&pending{op: OpSend}, outFrame{}, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("post after disconnect: %v", err)
		}
		p, err := newRecv(f.mr, 0, 8, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.b.beginRecv(p); !errors.Is(err, ErrClosed) {
			t.Fatalf("receive after disconnect: %v", err)
		}
		f.b.end(EventUndefined)
		f.b.end(EventLost) // once only
		want := EventClosed
		if lost {
			want = EventLost
		}
		for _, w := range []ConnEvent{EventEstablished, want} {
			if ev := <-f.c.events; ev != w {
				t.Fatalf("event %v, want %v", ev, w)
			}
		}
		if _, ok := <-f.c.events; ok {
			t.Fatal("events not closed after the last")
		}
		// The CQs end once the outstanding request has completed.
		if f.b.idle() {
			t.Fatal("idle with a request outstanding")
		}
		f.b.complete(id, ibvWCWRFlushErr, 0)
		if !f.b.idle() {
			t.Fatal("not idle")
		}
		if wc, err := f.c.cq.Next(t.Context()); err != nil || wc.Status != StatusFlushed {
			t.Fatalf("flushed completion %+v %v", wc, err)
		}
		if _, err := f.c.cq.Next(t.Context()); !errors.Is(err, ErrClosed) {
			t.Fatalf("CQ after the end: %v", err)
		}
		// Teardown hands over what is still held, once.
		f.b.ended, f.b.disc = false, false
		id2 := f.write(t, CompletionOnError, nil)
		pend, first := f.b.teardown()
		if !first || len(pend) != 1 || pend[id2] == nil {
			t.Fatalf("teardown: %v %v", pend, first)
		}
		releaseAll(pend)
		if !deregisters(f.mr) {
			t.Fatal("releaseAll left a use")
		}
		if _, again := f.b.teardown(); again {
			t.Fatal("teardown twice")
		}
	}
}
