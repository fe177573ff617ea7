package rpma

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// Endpoint is a listening endpoint (rpma_ep). It accepts TCP connections,
// runs the TLS handshake (with the peer's certificate pair or PSK) and
// reads each client's request before offering it to NextConnReq: a
// client that does not complete the handshake within the peer's
// HandshakeTimeout, or fails it, is dropped and never seen.
type Endpoint struct {
	peer *Peer
	ln   net.Listener
	reqs chan *ConnReq
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	mu      sync.Mutex
	shaking map[net.Conn]struct{} // connections in their handshake

	v *verbsEP // the verbs transport's listening id, or nil for TCP
}

// maxHandshakes bounds the connections of an endpoint in their TLS
// handshake: more are closed at once, so unauthenticated peers cannot
// hold unbounded goroutines and sockets.
const maxHandshakes = 1024

// Listen makes an endpoint listening on addr ("host:port"; port 0
// picks one) (rpma_ep_listen).
func (p *Peer) Listen(addr string) (*Endpoint, error) {
	if !p.hold(false) {
		return nil, ErrClosed
	}
	if p.v != nil {
		e, err := p.v.listen(p, addr)
		if err != nil {
			p.drop(false)
		}
		return e, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.drop(false)
		return nil, err
	}
	e := &Endpoint{peer: p, ln: ln, reqs: make(chan *ConnReq, 16), quit: make(chan struct{}),
		shaking: make(map[net.Conn]struct{})}
	e.wg.Add(1)
	go e.accept()
	return e, nil
}

// Addr returns the address the endpoint listens on.
func (e *Endpoint) Addr() net.Addr {
	if e.v != nil {
		return e.v.addr
	}
	return e.ln.Addr()
}

func (e *Endpoint) accept() {
	defer e.wg.Done()
	for {
		raw, err := e.ln.Accept()
		if err != nil {
			select {
			case <-e.quit:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		e.mu.Lock()
		select {
		case <-e.quit:
			e.mu.Unlock()
			raw.Close()
			return
		default:
		}
		if len(e.shaking) >= maxHandshakes {
			e.mu.Unlock()
			e.peer.log.Info("rpma: too many handshakes in progress", "remote", raw.RemoteAddr())
			raw.Close()
			continue
		}
		e.shaking[raw] = struct{}{}
		e.wg.Add(1)
		e.mu.Unlock()
		go e.handshake(raw)
	}
}

func (e *Endpoint) handshake(raw net.Conn) {
	defer e.wg.Done()
	defer func() {
		e.mu.Lock()
		delete(e.shaking, raw)
		e.mu.Unlock()
	}()
	bc := newBatchConn(raw)
	nc := tls.Server(bc, e.peer.server)
	nc.SetDeadline(time.Now().Add(e.peer.handshake))
	if err := nc.Handshake(); err != nil {
		e.peer.log.Info("rpma: handshake refused", "remote", raw.RemoteAddr(), "err", err)
		nc.Close()
		return
	}
	// Unbuffered: the connection reads on from nc where this stops.
	op, pd, err := readHandshake(nc)
	if err != nil || op != opHello {
		e.peer.log.Info("rpma: connection request refused", "remote", raw.RemoteAddr(), "err", err)
		nc.Close()
		return
	}
	select {
	case e.reqs <- &ConnReq{peer: e.peer, nc: nc, raw: bc, private: pd}:
	case <-e.quit:
		nc.Close()
	}
}

// NextConnReq waits for the next incoming connection request
// (rpma_ep_next_conn_req) and gives it cfg (nil: the defaults). Accept
// it with [ConnReq.Connect] or reject it with [ConnReq.Delete].
func (e *Endpoint) NextConnReq(ctx context.Context, cfg *ConnConfig) (*ConnReq, error) {
	rc, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if e.v != nil {
		return e.v.next(ctx, e, rc)
	}
	select {
	case r := <-e.reqs:
		r.cfg = rc
		return r, nil
	case <-e.quit:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Shutdown stops listening (rpma_ep_shutdown); requests not yet taken
// are rejected. Established connections stay. It is idempotent.
func (e *Endpoint) Shutdown() error {
	if e.v != nil {
		err := e.v.shutdown()
		e.once.Do(func() { e.peer.drop(false) })
		return err
	}
	var err error
	e.once.Do(func() {
		e.mu.Lock()
		close(e.quit)
		for raw := range e.shaking {
			raw.Close()
		}
		e.mu.Unlock()
		err = e.ln.Close()
		e.wg.Wait()
		for {
			select {
			case r := <-e.reqs:
				r.cfg, _ = (*ConnConfig)(nil).resolve()
				r.Delete()
			default:
				e.peer.drop(false)
				return
			}
		}
	})
	return err
}
