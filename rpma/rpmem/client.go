package rpmem

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/rpma"
)

func init() { pool.RegisterRemote(open) }

// open is the registered opener: Open with the default Config.
func open(req pool.RemoteRequest) (*core.Map, error) {
	cfg, err := currentConfig()
	if err != nil {
		return nil, err
	}
	return Open(cfg, req)
}

const (
	readChunk   = 256 << 10 // bytes per read of the initial fill
	stagingSize = 2 << 20   // bytes of writes posted between two persistent flushes at most
)

// Open connects to the rpmemd serving req's node and opens the remote
// pool its descriptor names: the core.RemoteOpener that importing this
// package registers (with the default Config). The Map holds a local copy
// of the remote replica (read at open: all of it, or with RemoteCreate
// its header); each of its persists writes the range to rpmemd and waits,
// at most cfg.Timeout, for rpmemd to have persisted it.
func Open(cfg *Config, req pool.RemoteRequest) (*core.Map, error) {
	addr, err := nodeAddr(req.Remote.Node)
	if err != nil {
		return nil, err
	}
	pd, err := (&request{mode: req.Mode, readOnly: req.ReadOnly, size: req.Size, descriptor: req.Remote.Descriptor}).encode()
	if err != nil {
		return nil, err
	}
	opts := &rpma.PeerOptions{PSK: cfg.PSK, Logger: cfg.Logger}
	if cfg.TLS != nil {
		t := cfg.TLS.Clone()
		if t.ServerName == "" {
			t.ServerName, _, _ = net.SplitHostPort(addr)
		}
		opts.TLS = t
	}
	peer, err := rpma.NewPeer(opts)
	if err != nil {
		return nil, err
	}
	timeout := cfg.timeout()
	creq, err := peer.NewConnReq(addr, &rpma.ConnConfig{Timeout: timeout, SQSize: 64, CQSize: 256})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := creq.Connect(ctx, pd)
	if err != nil {
		return nil, fmt.Errorf("rpmem: %s: %w", addr, err)
	}
	r := &replica{node: req.Remote.Node, conn: conn, timeout: timeout}
	if err := r.setup(peer, req); err != nil {
		conn.Close()
		return nil, fmt.Errorf("rpmem: %s: %w", req.Remote.Node, err)
	}
	return core.NewMemoryMap(r.mem, core.GranularityPage, r, r.close), nil
}

// replica is the persist path of a remote replica: Flush posts writes of
// the range (from a staging copy, so that the local copy may change
// meanwhile), Drain a persistent flush of what was written, and waits.
type replica struct {
	node    string
	conn    *rpma.Conn
	dst     *rpma.RemoteMR
	mem     []byte // the local copy of the remote replica
	memMR   *rpma.MR
	base    uintptr
	stage   []byte // staging copies of posted writes, reused after a flush
	stageMR *rpma.MR
	timeout time.Duration

	mu     sync.Mutex // serialises the persist methods
	used   int        // bytes of stage in use
	lo, hi int        // range written and not flushed (lo == hi: none)

	err atomic.Pointer[error] // the first failure
}

func (r *replica) setup(peer *rpma.Peer, req pool.RemoteRequest) error {
	resp := r.conn.PrivateData()
	switch {
	case len(resp) == 0:
		return fmt.Errorf("%w: empty answer", ErrRemote)
	case resp[0] != statusOK:
		return fmt.Errorf("%w: %s", ErrRemote, resp[1:])
	case len(resp) != respOKSize:
		return fmt.Errorf("%w: answer of %d bytes", rpma.ErrProtocol, len(resp))
	}
	dst, err := rpma.RemoteFromDescriptor(resp[1 : 1+rpma.MRDescriptorSize])
	if err != nil {
		return err
	}
	pc, err := rpma.PeerConfigFromDescriptor(resp[1+rpma.MRDescriptorSize:])
	if err != nil {
		return err
	}
	if err := r.conn.ApplyRemotePeerConfig(pc); err != nil {
		return err
	}
	if int64(dst.Size()) < req.Size {
		return fmt.Errorf("%w: remote region of %d bytes, need %d", ErrRemote, dst.Size(), req.Size)
	}
	r.dst = dst
	r.mem = make([]byte, req.Size)
	r.base = uintptr(unsafe.Pointer(unsafe.SliceData(r.mem)))
	if r.memMR, err = peer.RegisterMemory(r.mem, rpma.UsageReadDst); err != nil {
		return err
	}
	if !req.ReadOnly {
		r.stage = make([]byte, stagingSize)
		if r.stageMR, err = peer.RegisterMemory(r.stage, rpma.UsageWriteSrc); err != nil {
			return err
		}
	}
	n := len(r.mem)
	if req.Mode == pool.RemoteCreate {
		n = min(n, pool.HeaderSize)
	}
	return r.read(n)
}

// read fills the first n bytes of the local copy from the remote replica.
func (r *replica) read(n int) error {
	done := new(int)
	err := r.guard(func() error {
		for off := 0; off < n; off += readChunk {
			l := min(readChunk, n-off)
			flags, ctx := rpma.CompletionOnError, any(nil)
			if off+l == n {
				flags, ctx = rpma.CompletionAlways, done
			}
			if err := r.conn.Read(r.memMR, off, r.dst, off, l, flags, ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = r.wait(done)
	}
	return err
}

// guard runs post, closing the connection if it takes longer than the
// timeout (a post waits for room in the send queue, which a silent node
// never makes).
func (r *replica) guard(post func() error) error {
	var fired atomic.Bool
	t := time.AfterFunc(r.timeout, func() {
		fired.Store(true)
		r.conn.Close()
	})
	err := post()
	t.Stop()
	if fired.Load() {
		return fmt.Errorf("no progress in %v: %w", r.timeout, err)
	}
	return err
}

// wait collects completions until the one posted with opCtx tok.
func (r *replica) wait(tok any) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	for {
		wc, err := r.conn.CQ().Next(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			go r.conn.Close()
			return fmt.Errorf("no answer in %v", r.timeout)
		}
		if err != nil {
			return err
		}
		if wc.Status != rpma.StatusSuccess {
			return fmt.Errorf("%v: %v", wc.Op, wc.Status)
		}
		if wc.Context == tok {
			return nil
		}
	}
}

// fail records the first failure; the persists after it do nothing.
func (r *replica) fail(err error) {
	err = fmt.Errorf("%w: remote replica %s: %w", core.ErrPersist, r.node, err)
	r.err.CompareAndSwap(nil, &err)
}

func (r *replica) failed() bool { return r.err.Load() != nil }

func (r *replica) Err() error {
	if p := r.err.Load(); p != nil {
		return *p
	}
	return nil
}

// offset is b's offset in the local copy.
func (r *replica) offset(b []byte) int {
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - r.base)
}

// write posts writes of b (inside r.mem) to the same offset remotely.
func (r *replica) write(b []byte) {
	if len(b) == 0 || r.failed() {
		return
	}
	if r.stage == nil {
		r.fail(fmt.Errorf("write to a read-only replica: %w", rpma.ErrInvalid))
		return
	}
	off := r.offset(b)
	if off < 0 || off+len(b) > len(r.mem) {
		panic("rpmem: persist of memory outside the replica")
	}
	for len(b) > 0 {
		if r.used == len(r.stage) {
			// Every write posted so far completes before this flush.
			if r.drain(); r.failed() {
				return
			}
		}
		n := copy(r.stage[r.used:], b)
		s := r.used
		if err := r.guard(func() error {
			return r.conn.Write(r.dst, off, r.stageMR, s, n, rpma.CompletionOnError, nil)
		}); err != nil {
			r.fail(err)
			return
		}
		r.used += n
		if r.lo == r.hi {
			r.lo, r.hi = off, off+n
		} else {
			r.lo, r.hi = min(r.lo, off), max(r.hi, off+n)
		}
		b, off = b[n:], off+n
	}
}

// drain makes what was written persistent on the remote node.
func (r *replica) drain() {
	if r.lo == r.hi || r.failed() {
		return
	}
	tok := new(int)
	lo, hi := r.lo, r.hi
	err := r.guard(func() error {
		return r.conn.Flush(r.dst, lo, hi-lo, rpma.FlushPersistent, rpma.CompletionAlways, tok)
	})
	if err == nil {
		err = r.wait(tok)
	}
	if err != nil {
		r.fail(err)
		return
	}
	r.lo, r.hi, r.used = 0, 0, 0
}

func (r *replica) Flush(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.write(b)
}

func (r *replica) Drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drain()
}

func (r *replica) Persist(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.write(b)
	r.drain()
}

// stored sends dst, just stored, as flags say: not at all with
// MemNoFlush, without waiting with MemNoDrain.
func (r *replica) stored(dst []byte, flags core.MemFlags) {
	if flags&core.MemNoFlush != 0 {
		return
	}
	r.write(dst)
	if flags&core.MemNoDrain == 0 {
		r.drain()
	}
}

func (r *replica) Memmove(dst, src []byte, flags core.MemFlags) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := copy(dst, src)
	r.stored(dst[:n], flags)
}

func (r *replica) Memset(dst []byte, c byte, flags core.MemFlags) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range dst {
		dst[i] = c
	}
	r.stored(dst, flags)
}

// close ends the connection, the Map's Close: it disconnects and waits
// (at most the timeout) for rpmemd's disconnect, which comes once rpmemd
// has closed the pool, so that it can be opened again at once.
func (r *replica) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.failed() {
		r.conn.Disconnect()
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		for {
			ev, err := r.conn.NextEvent(ctx)
			if err != nil || ev == rpma.EventClosed || ev == rpma.EventLost {
				break
			}
		}
		cancel()
	}
	r.conn.Close()
	return nil
}
