package rpma

import (
	"fmt"
	"sync"
)

// verbsBook is the bookkeeping of a verbs connection, apart from the
// device: which operation each work request id is, the regions the work
// requests hold, the room in the send queue, the receives posted, and
// the connection's last event. verbs.go feeds it the work completions
// and CM events of a device; its tests feed it made-up ones. Every work
// request is signaled, so each ends here exactly once.
type verbsBook struct {
	c    *Conn // once established
	cfg  ConnConfig
	sq   chan struct{} // a token per posted send work request
	done chan struct{} // closed when the connection's poller ends

	mu        sync.Mutex
	nextID    uint64
	pend      map[uint64]*pending
	recvs     int
	disc      bool // rdma_disconnect called
	ended     bool // the last connection event was given
	destroyed bool
}

func newVerbsBook(cfg ConnConfig) verbsBook {
	return verbsBook{cfg: cfg, sq: make(chan struct{}, cfg.SQSize), done: make(chan struct{}),
		pend: make(map[uint64]*pending)}
}

var errTCPRegion = fmt.Errorf("rpma: a region of a TCP peer on a verbs connection: %w", ErrInvalid)

// begin admits the operation p (of the TCP frame f) on the remote
// region r (nil for a send): it checks that the regions are verbs ones
// and a flush's region has the flush's usage, takes a use of the local
// region (p.mr from then on, released when the work request ends), waits
// for room in the send queue, and returns the work request's id and the
// local region (nil for none).
func (b *verbsBook) begin(p *pending, f outFrame, r *RemoteMR) (uint64, *MR, error) {
	if r != nil && !r.verbs {
		return 0, nil, errTCPRegion
	}
	if p.op == OpFlush && (r == nil || r.usage&flushUsage(FlushType(f.h.flags)) == 0) {
		return 0, nil, fmt.Errorf("rpma: a flush of a region without that flush usage: %w", ErrNotSupported)
	}
	local := p.mr
	if local == nil {
		local = f.release
	}
	if local != nil {
		if local.v == nil {
			return 0, nil, errTCPRegion
		}
		if !local.acquire() {
			return 0, nil, fmt.Errorf("rpma: region deregistered: %w", ErrInvalid)
		}
		p.mr = local
	}
	select {
	case b.sq <- struct{}{}:
	case <-b.done:
		if local != nil {
			local.release()
		}
		return 0, nil, ErrClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.disc || b.ended || b.destroyed {
		<-b.sq
		if local != nil {
			local.release()
		}
		return 0, nil, ErrClosed
	}
	b.nextID++
	b.pend[b.nextID] = p
	return b.nextID, local, nil
}

// abort undoes begin for a work request the device refused.
func (b *verbsBook) abort(id uint64) {
	if p := b.untrack(id); p != nil {
		if p.op != OpRecv {
			<-b.sq
		}
		if p.mr != nil {
			p.mr.release()
		}
	}
}

// beginRecv admits the receive p (its region held by newRecv): at most
// RQSize are posted.
func (b *verbsBook) beginRecv(p *pending) (uint64, error) {
	if p.mr.v == nil {
		p.mr.release()
		return 0, errTCPRegion
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.disc || b.ended || b.destroyed:
		p.mr.release()
		return 0, ErrClosed
	case b.recvs >= b.cfg.RQSize:
		p.mr.release()
		return 0, fmt.Errorf("rpma: more than %d receives posted: %w", b.cfg.RQSize, ErrInvalid)
	}
	b.nextID++
	b.pend[b.nextID] = p
	b.recvs++
	return b.nextID, nil
}

func (b *verbsBook) untrack(id uint64) *pending {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.pend[id]
	delete(b.pend, id)
	if p != nil && p.op == OpRecv {
		b.recvs--
	}
	return p
}

// complete ends the work request id with the ibv_wc_status status (and,
// for a receive, n bytes): it releases what the request held and gives
// its completion to the CQ unless it succeeded with CompletionOnError.
// It returns false if the CQ was full: the connection must be lost.
func (b *verbsBook) complete(id uint64, status uint32, n uint32) bool {
	p := b.untrack(id)
	if p == nil {
		return true
	}
	if p.mr != nil {
		p.mr.release()
	}
	if p.op != OpRecv {
		<-b.sq
	}
	st := wcStatus(status)
	if st == StatusSuccess && p.flags&CompletionAlways == 0 {
		return true
	}
	wc := Completion{Op: p.op, Status: st, Context: p.ctx}
	q := b.c.cq
	if p.op == OpRecv {
		wc.Len = n
		if b.c.rcq != nil {
			q = b.c.rcq
		}
	}
	return q.push(wc)
}

// markDisc records that the connection is being disconnected; false if
// it already was.
func (b *verbsBook) markDisc() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	first := !b.disc
	b.disc = true
	return first
}

// end gives the connection's last event, once: ev, or if ev is
// EventUndefined, EventLost when the connection has an error and
// EventClosed otherwise.
func (b *verbsBook) end(ev ConnEvent) {
	b.mu.Lock()
	ended := b.ended
	b.ended = true
	b.mu.Unlock()
	if ended {
		return
	}
	if ev == EventUndefined {
		ev = EventClosed
		if b.c.Err() != nil {
			ev = EventLost
		}
	}
	b.c.events <- ev
	close(b.c.events)
}

// idle reports whether nothing more can complete: the connection ended
// and every work request did; its CQs are then killed, so waits on them
// end with ErrClosed once they are empty.
func (b *verbsBook) idle() bool {
	b.mu.Lock()
	idle := b.ended && len(b.pend) == 0
	b.mu.Unlock()
	if idle {
		b.killCQs()
	}
	return idle
}

func (b *verbsBook) killCQs() {
	b.c.cq.kill()
	if b.c.rcq != nil {
		b.c.rcq.kill()
	}
}

func (b *verbsBook) setErr(err error) {
	b.c.mu.Lock()
	if b.c.err == nil {
		b.c.err = err
	}
	b.c.mu.Unlock()
}

// teardown marks the book destroyed and returns the requests still
// outstanding (nil if it already was), whose regions the caller releases
// once the device is done with them.
func (b *verbsBook) teardown() (map[uint64]*pending, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.destroyed {
		return nil, false
	}
	b.destroyed = true
	pend := b.pend
	b.pend = nil
	return pend, true
}

func releaseAll(pend map[uint64]*pending) {
	for _, p := range pend {
		if p.mr != nil {
			p.mr.release()
		}
	}
}
