package rpma

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ConnEvent is an event of a connection (enum rpma_conn_event).
type ConnEvent uint8

// The events. A connection yields Established, then one of Closed or
// Lost. Rejected and Unreachable are the errors [ErrRejected] and
// [ErrUnreachable] of [ConnReq.Connect] here.
const (
	EventUndefined   ConnEvent = iota // RPMA_CONN_UNDEFINED
	EventEstablished                  // RPMA_CONN_ESTABLISHED
	EventClosed                       // RPMA_CONN_CLOSED: a side disconnected
	EventLost                         // RPMA_CONN_LOST: the stream broke without a disconnect
	EventRejected                     // RPMA_CONN_REJECTED
	EventUnreachable                  // RPMA_CONN_UNREACHABLE
)

func (e ConnEvent) String() string {
	return [...]string{"undefined", "established", "closed", "lost", "rejected", "unreachable"}[min(int(e), 5)]
}

// FlushType is the depth of a flush (enum rpma_flush_type).
type FlushType uint16

// The flush types.
const (
	FlushPersistent FlushType = 1 // down to the persistence domain (RPMA_FLUSH_TYPE_PERSISTENT)
	FlushVisibility FlushType = 2 // visible on the remote side (RPMA_FLUSH_TYPE_VISIBILITY)
)

var errPeerDisconnected = errors.New("rpma: peer disconnected")

type outFrame struct {
	h       header
	payload []byte
	release *MR           // use of the region the payload is in, released once written
	done    chan struct{} // closed once written and flushed
}

type pending struct {
	op    Op
	flags Flags
	ctx   any
	dst   []byte // OpRead, OpRecv: where the data goes
	mr    *MR    // the local region held, or nil
}

// Conn is an established connection (rpma_conn). Its operations may be
// posted from several goroutines; completions are collected from its CQs.
type Conn struct {
	peer    *Peer
	cfg     ConnConfig
	nc      net.Conn   // the TLS stream
	raw     *batchConn // the socket under it; nil in tests without one
	br      io.Reader  // what serve reads: nc
	private []byte

	cq, rcq *CQ
	notify  chan struct{} // the shared completion channel, or nil
	sq      chan struct{} // a token per outstanding operation

	mu        sync.Mutex
	nextID    uint64
	pend      map[uint64]*pending
	recvs     []*pending
	queued    [][]byte // messages waiting for a receive
	remoteCfg *PeerConfig
	dead      bool // the reader ended
	localDisc bool
	err       error // why the connection broke

	outMu   sync.Mutex
	outq    []outFrame
	outWake chan struct{}

	events     chan ConnEvent
	eventsDone atomic.Bool
	quit       chan struct{}
	quitOnce   sync.Once
	closeOnce  sync.Once
	readerDone chan struct{}
	writerDone chan struct{}

	v *verbsConn // the verbs transport's queue pair, or nil for TCP
}

func newConn(p *Peer, cfg ConnConfig, nc net.Conn, raw *batchConn, private []byte, recvs []*pending) *Conn {
	c := &Conn{
		peer: p, cfg: cfg, nc: nc, raw: raw, br: nc, private: private,
		sq:         make(chan struct{}, cfg.SQSize),
		pend:       make(map[uint64]*pending),
		recvs:      recvs,
		outWake:    make(chan struct{}, 1),
		events:     make(chan ConnEvent, 2),
		quit:       make(chan struct{}),
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	c.makeCQs()
	c.events <- EventEstablished
	if raw != nil {
		raw.idle = c.wakeWriter
	}
	go c.writer()
	go c.reader()
	return c
}

// makeCQs makes the CQ, and the receive CQ if the configuration asks
// for one, with their completion channels.
func (c *Conn) makeCQs() {
	cfg := c.cfg
	cqNotify := make(chan struct{}, 1)
	if cfg.SharedCompletionChannel {
		c.notify = cqNotify
	}
	c.cq = newCQ(c, cfg.CQSize, cqNotify)
	if cfg.RCQSize > 0 {
		rn := make(chan struct{}, 1)
		if cfg.SharedCompletionChannel {
			rn = cqNotify
		}
		c.rcq = newCQ(c, cfg.RCQSize, rn)
	}
	c.cq.shared = cfg.SharedCompletionChannel
	if c.rcq != nil {
		c.rcq.shared = cfg.SharedCompletionChannel
	}
}

// PrivateData returns the private data the other side gave when
// connecting or accepting (rpma_conn_get_private_data). It travelled
// inside TLS.
func (c *Conn) PrivateData() []byte { return c.private }

// CQ returns the main completion queue (rpma_conn_get_cq).
func (c *Conn) CQ() *CQ { return c.cq }

// RCQ returns the receive completion queue, nil unless the configuration
// asked for one (rpma_conn_get_rcq).
func (c *Conn) RCQ() *CQ { return c.rcq }

// Wait waits on the shared completion channel (rpma_conn_wait) and
// returns a CQ holding completions: ErrNotSupported unless the
// configuration asked for a shared channel.
func (c *Conn) Wait(ctx context.Context) (*CQ, error) {
	if c.notify == nil {
		return nil, ErrNotSupported
	}
	for {
		if err := waitAny(ctx, c.notify, c.cq, c.rcq); err != nil {
			return nil, err
		}
		// Another goroutine may have taken the completions meanwhile.
		if c.cq.ready() {
			return c.cq, nil
		}
		if c.rcq != nil && c.rcq.ready() {
			return c.rcq, nil
		}
	}
}

// NextEvent returns the next event of the connection
// (rpma_conn_next_event), waiting for it: Established first, then Closed
// or Lost; after that ErrNoEvent.
func (c *Conn) NextEvent(ctx context.Context) (ConnEvent, error) {
	select {
	case e, ok := <-c.events:
		if !ok {
			return EventUndefined, ErrNoEvent
		}
		return e, nil
	case <-ctx.Done():
		return EventUndefined, ctx.Err()
	}
}

// Err returns why the connection was lost, or nil.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// ApplyRemotePeerConfig applies the other side's peer configuration
// (rpma_conn_apply_remote_peer_cfg): it decides whether persistent
// flushes are possible.
func (c *Conn) ApplyRemotePeerConfig(pc *PeerConfig) error {
	if pc == nil {
		return ErrInvalid
	}
	c.mu.Lock()
	c.remoteCfg = &PeerConfig{DirectWriteToPmem: pc.DirectWriteToPmem}
	c.mu.Unlock()
	return nil
}

// Read posts a read of n bytes at srcOff of the remote region src into
// dst at dstOff (rpma_read). dst needs UsageReadDst; src must have
// UsageReadSrc on the other side, or the read completes with
// StatusRemoteAccess. The data is in dst once the completion is
// collected.
func (c *Conn) Read(dst *MR, dstOff int, src *RemoteMR, srcOff, n int, flags Flags, opCtx any) error {
	if src == nil || dst == nil || srcOff < 0 || !validFlags(flags) {
		return ErrInvalid
	}
	buf, err := localSpan(dst, dstOff, n, UsageReadDst)
	if err != nil {
		return err
	}
	p := &pending{op: OpRead, flags: flags, ctx: opCtx, dst: buf, mr: dst}
	return c.postTo(src, p, outFrame{h: header{op: opRead, length: uint32(n), key: src.key, offset: uint64(srcOff)}})
}

// Write posts a write of n bytes at srcOff of src to the remote region
// dst at dstOff (rpma_write). src needs UsageWriteSrc and must not change
// until the operation completes; dst must have UsageWriteDst on the other
// side. src nil with n 0 writes nothing (and still completes). The data
// is visible on the other side only after a flush.
func (c *Conn) Write(dst *RemoteMR, dstOff int, src *MR, srcOff, n int, flags Flags, opCtx any) error {
	if dst == nil || dstOff < 0 || !validFlags(flags) {
		return ErrInvalid
	}
	f := outFrame{h: header{op: opWrite, length: uint32(n), key: dst.key, offset: uint64(dstOff)}}
	if src != nil {
		buf, err := localSpan(src, srcOff, n, UsageWriteSrc)
		if err != nil {
			return err
		}
		f.payload, f.release = buf, src
	} else if srcOff != 0 || n != 0 {
		return ErrInvalid
	}
	return c.postTo(dst, &pending{op: OpWrite, flags: flags, ctx: opCtx}, f)
}

// AtomicWriteAlignment is the alignment an atomic write's destination
// offset needs (RPMA_ATOMIC_WRITE_ALIGNMENT).
const AtomicWriteAlignment = 8

// AtomicWrite posts a write of the 8 bytes of src to dstOff of dst, stored
// atomically on the other side (rpma_atomic_write): dstOff must be a
// multiple of 8, and the remote region's memory 8-aligned there
// (StatusRemoteInvalidRequest otherwise).
func (c *Conn) AtomicWrite(dst *RemoteMR, dstOff int, src [8]byte, flags Flags, opCtx any) error {
	if dst == nil || dstOff < 0 || dstOff%AtomicWriteAlignment != 0 || !validFlags(flags) {
		return ErrInvalid
	}
	b := src
	return c.postTo(dst, &pending{op: OpAtomicWrite, flags: flags, ctx: opCtx},
		outFrame{h: header{op: opAtomic, length: 8, key: dst.key, offset: uint64(dstOff)}, payload: b[:]})
}

// Flush posts a flush of n bytes at dstOff of dst (rpma_flush): once it
// completes, the writes posted before it on this connection are visible
// on the other side (FlushVisibility) or persistent there
// (FlushPersistent: the other side persists the range through its
// mapping's persist path). A persistent flush needs the other side's
// peer configuration applied with DirectWriteToPmem ([ErrNotSupported]
// otherwise); the remote region needs the matching flush usage.
func (c *Conn) Flush(dst *RemoteMR, dstOff, n int, typ FlushType, flags Flags, opCtx any) error {
	if dst == nil || dstOff < 0 || n < 0 || uint64(n) > 1<<32-1 || !validFlags(flags) {
		return ErrInvalid
	}
	switch typ {
	case FlushVisibility:
	case FlushPersistent:
		c.mu.Lock()
		ok := c.remoteCfg != nil && c.remoteCfg.DirectWriteToPmem
		c.mu.Unlock()
		if !ok {
			return ErrNotSupported
		}
	default:
		return ErrInvalid
	}
	return c.postTo(dst, &pending{op: OpFlush, flags: flags, ctx: opCtx},
		outFrame{h: header{op: opFlush, flags: uint16(typ), length: uint32(n), key: dst.key, offset: uint64(dstOff)}})
}

// Send posts a message of n bytes at off of src (rpma_send); the other
// side takes it into a buffer it posted with Recv. src needs UsageSend.
// src nil with n 0 sends an empty message.
func (c *Conn) Send(src *MR, off, n int, flags Flags, opCtx any) error {
	if !validFlags(flags) || n > MaxMessageSize {
		return ErrInvalid
	}
	f := outFrame{h: header{op: opSend, length: uint32(n)}}
	if src != nil {
		buf, err := localSpan(src, off, n, UsageSend)
		if err != nil {
			return err
		}
		f.payload, f.release = buf, src
	} else if off != 0 || n != 0 {
		return ErrInvalid
	}
	return c.postTo(nil, &pending{op: OpSend, flags: flags, ctx: opCtx}, f)
}

// Recv posts a buffer of n bytes at off of dst for one message from the
// other side (rpma_recv). dst needs UsageRecv. Posted buffers form an
// unordered set; each message completes one with OpRecv and its length,
// on the receive CQ if there is one. At most RQSize may be posted.
func (c *Conn) Recv(dst *MR, off, n int, opCtx any) error {
	p, err := newRecv(dst, off, n, opCtx)
	if err != nil {
		return err
	}
	if c.v != nil {
		return c.v.recv(p)
	}
	c.mu.Lock()
	switch {
	case c.dead:
		c.mu.Unlock()
		p.mr.release()
		return ErrClosed
	case len(c.recvs) >= c.cfg.RQSize:
		c.mu.Unlock()
		p.mr.release()
		return fmt.Errorf("rpma: more than %d receives posted: %w", c.cfg.RQSize, ErrInvalid)
	case len(c.queued) > 0:
		msg := c.queued[0]
		c.queued = c.queued[1:]
		c.mu.Unlock()
		c.deliver(p, msg)
		return nil
	}
	c.recvs = append(c.recvs, p)
	c.mu.Unlock()
	return nil
}

func newRecv(dst *MR, off, n int, opCtx any) (*pending, error) {
	if dst == nil {
		return nil, ErrInvalid
	}
	buf, err := localSpan(dst, off, n, UsageRecv)
	if err != nil {
		return nil, err
	}
	if !dst.acquire() {
		return nil, ErrInvalid
	}
	return &pending{op: OpRecv, flags: CompletionAlways, ctx: opCtx, dst: buf, mr: dst}, nil
}

// deliver completes the receive p with msg, copied; false if msg is
// longer than p's buffer (p completes with StatusLocalLength).
func (c *Conn) deliver(p *pending, msg []byte) bool {
	if len(msg) > len(p.dst) {
		c.complete(p, StatusLocalLength, 0)
		return false
	}
	copy(p.dst, msg)
	c.complete(p, StatusSuccess, uint32(len(msg)))
	return true
}

func validFlags(f Flags) bool { return f != 0 && f&^(CompletionOnError|CompletionAlways) == 0 }

// localSpan checks a range of a local region for an operation.
func localSpan(mr *MR, off, n int, want Usage) ([]byte, error) {
	if off < 0 || n < 0 || uint64(n) > 1<<32-1 {
		return nil, ErrInvalid
	}
	b, ok := mr.span(uint64(off), uint64(n), want)
	if !ok {
		return nil, fmt.Errorf("rpma: %d bytes at %d of a local region of %d bytes with usage %#x (need %#x): %w",
			n, off, mr.Size(), uint16(mr.usage), uint16(want), ErrInvalid)
	}
	return b, nil
}

// post registers p as outstanding, waiting for room in the SQ, and queues
// its frame.
func (c *Conn) post(p *pending, f outFrame) error {
	for _, mr := range []*MR{p.mr, f.release} {
		if mr != nil && !mr.acquire() {
			if p.mr != nil && mr == f.release {
				p.mr.release()
			}
			return fmt.Errorf("rpma: region deregistered: %w", ErrInvalid)
		}
	}
	undo := func() {
		if p.mr != nil {
			p.mr.release()
		}
		if f.release != nil {
			f.release.release()
		}
	}
	select {
	case c.sq <- struct{}{}:
	case <-c.readerDone:
		undo()
		return ErrClosed
	}
	c.mu.Lock()
	if c.dead || c.localDisc {
		c.mu.Unlock()
		<-c.sq
		undo()
		return ErrClosed
	}
	c.nextID++
	f.h.id = c.nextID
	c.pend[f.h.id] = p
	c.mu.Unlock()
	c.enqueue(f, true)
	return nil
}

// enqueue hands f to the writer; it never blocks, so the reader can
// answer while the writer waits for the socket. Without wake the writer
// is not woken for f: the reader's answers wait until it has executed
// what it has read and is about to wait for the socket (wakeWriter,
// called by the socket's idle hook), so a batch of requests gets its
// answers in one batch, and the writer one wake-up.
func (c *Conn) enqueue(f outFrame, wake bool) int {
	c.outMu.Lock()
	c.outq = append(c.outq, f)
	n := len(c.outq)
	c.outMu.Unlock()
	if wake {
		c.wakeWriter()
	}
	return n
}

func (c *Conn) wakeWriter() {
	select {
	case c.outWake <- struct{}{}:
	default:
	}
}

// complete ends the outstanding operation p with st.
func (c *Conn) complete(p *pending, st Status, n uint32) {
	if p.mr != nil {
		p.mr.release()
	}
	if p.op != OpRecv {
		<-c.sq
	}
	if st == StatusSuccess && p.flags&CompletionAlways == 0 {
		return
	}
	q := c.cq
	if p.op == OpRecv && c.rcq != nil {
		q = c.rcq
	}
	if !q.push(Completion{Op: p.op, Status: st, Context: p.ctx, Len: n}) {
		c.fail(ErrCQOverrun)
	}
}

// fail breaks the connection for err: the reader ends, and the
// connection is lost.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.closeStream()
}

// closeStream closes the socket, then the TLS stream: a writer blocked
// on a peer that stopped reading returns at once (no close_notify
// alert waits behind it; the protocol's own disconnect frame, inside
// TLS, is what ends a stream cleanly).
func (c *Conn) closeStream() {
	if c.raw != nil {
		c.raw.Conn.Close()
	}
	if c.nc != nil {
		c.nc.Close()
	}
}

func (c *Conn) writer() {
	defer close(c.writerDone)
	w := frameWriter{c: c, stage: make([]byte, 0, maxRecord)}
	var batch []outFrame
	for {
		select {
		case <-c.outWake:
		case <-c.quit:
			c.dropOut(nil)
			return
		}
		w.begin()
		for {
			c.outMu.Lock()
			batch, c.outq = c.outq, batch[:0]
			c.outMu.Unlock()
			if len(batch) == 0 {
				break
			}
			for i := range batch {
				f := &batch[i]
				w.put(f)
				if f.release != nil {
					f.release.release()
				}
				if f.done != nil {
					close(f.done)
				}
				*f = outFrame{}
			}
		}
		w.end()
	}
}

// maxRecord is the most data a TLS record carries.
const maxRecord = 16 << 10

// frameWriter writes frames to a connection's TLS stream: headers and
// small payloads gathered into records of up to maxRecord bytes, large
// payloads handed to TLS as they are (no copy: TLS seals them from the
// region into its records).
type frameWriter struct {
	c     *Conn
	stage []byte
	err   error
}

func (w *frameWriter) begin() {
	if w.c.raw != nil {
		w.c.raw.begin()
	}
}

func (w *frameWriter) write(b []byte) {
	if w.err == nil && len(b) > 0 {
		_, w.err = w.c.nc.Write(b)
	}
}

func (w *frameWriter) flushStage() {
	w.write(w.stage)
	w.stage = w.stage[:0]
}

// put writes f; once f.done is set, f is on the socket.
func (w *frameWriter) put(f *outFrame) {
	if w.err != nil {
		return
	}
	small := len(f.payload) <= maxRecord/4
	if len(w.stage)+headerSize+len(f.payload) > cap(w.stage) && (small || len(w.stage)+headerSize > cap(w.stage)) {
		w.flushStage()
	}
	var hb [headerSize]byte
	f.h.encode(hb[:])
	w.stage = append(w.stage, hb[:]...)
	if small {
		w.stage = append(w.stage, f.payload...)
	} else {
		w.flushStage()
		w.write(f.payload)
	}
	if f.done != nil {
		w.end()
		w.begin()
	}
}

// end writes what is gathered to the socket; a failed write breaks the
// connection.
func (w *frameWriter) end() {
	w.flushStage()
	if w.c.raw != nil {
		if err := w.c.raw.end(); w.err == nil {
			w.err = err
		}
	}
	if w.err != nil {
		w.c.fail(w.err)
	}
}

// dropOut releases the frames never written.
func (c *Conn) dropOut(_ error) {
	c.outMu.Lock()
	q := c.outq
	c.outq = nil
	c.outMu.Unlock()
	for _, f := range q {
		if f.release != nil {
			f.release.release()
		}
		if f.done != nil {
			close(f.done)
		}
	}
}

func (c *Conn) reader() {
	err := c.serve()
	c.mu.Lock()
	c.dead = true
	ev := EventLost
	if errors.Is(err, errPeerDisconnected) || c.localDisc {
		ev = EventClosed
	} else if c.err == nil {
		c.err = err
	}
	closeNow := c.localDisc || ev == EventLost
	pend := c.pend
	c.pend = map[uint64]*pending{}
	recvs := c.recvs
	c.recvs = nil
	c.mu.Unlock()
	if ev == EventLost {
		c.peer.log.Debug("rpma: connection lost", "remote", c.nc.RemoteAddr(), "err", err)
	}
	if closeNow {
		c.closeStream()
	}
	for _, p := range pend {
		c.flushed(p)
	}
	for _, p := range recvs {
		c.flushed(p)
	}
	c.cq.kill()
	if c.rcq != nil {
		c.rcq.kill()
	}
	close(c.readerDone)
	c.events <- ev
	close(c.events)
}

// flushed ends p with StatusFlushed once the connection is gone; a full
// CQ drops it.
func (c *Conn) flushed(p *pending) {
	if p.mr != nil {
		p.mr.release()
	}
	if p.op != OpRecv {
		<-c.sq
	}
	q := c.cq
	if p.op == OpRecv && c.rcq != nil {
		q = c.rcq
	}
	q.push(Completion{Op: p.op, Status: StatusFlushed, Context: p.ctx})
}

// respond queues the answer to a request of the other side.
func (c *Conn) respond(h header, st Status, payload []byte, mr *MR) error {
	n := c.enqueue(outFrame{h: header{op: h.op, status: st, length: uint32(len(payload)), id: h.id}, payload: payload, release: mr},
		c.raw == nil || c.raw.idle == nil)
	if n > maxPeerOutstanding+c.cfg.SQSize {
		return fmt.Errorf("rpma: more than %d requests unanswered: %w", maxPeerOutstanding, ErrProtocol)
	}
	return nil
}

// serve reads and executes the other side's frames until the stream
// ends, breaks or violates the protocol.
func (c *Conn) serve() error {
	var hb [headerSize]byte
	for {
		if _, err := io.ReadFull(c.br, hb[:]); err != nil {
			return err
		}
		h := decodeHeader(hb[:])
		if h.status != 0 && h.op != opResp && h.op != opReadResp || h.flags != 0 && h.op != opFlush {
			return fmt.Errorf("rpma: frame op %d with status %d flags %#x: %w", h.op, h.status, h.flags, ErrProtocol)
		}
		var err error
		switch h.op {
		case opWrite, opAtomic:
			err = c.serveWrite(h)
		case opRead:
			err = c.serveRead(h)
		case opFlush:
			err = c.serveFlush(h)
		case opSend:
			err = c.serveSend(h)
		case opResp, opReadResp:
			err = c.serveResp(h)
		case opDisconnect:
			if h.length != 0 || h.id != 0 || h.key != 0 || h.offset != 0 {
				return fmt.Errorf("rpma: malformed disconnect: %w", ErrProtocol)
			}
			return errPeerDisconnected
		default:
			return fmt.Errorf("rpma: frame op %d: %w", h.op, ErrProtocol)
		}
		if err != nil {
			return err
		}
	}
}

func (c *Conn) discard(n uint32) error {
	_, err := io.CopyN(io.Discard, c.br, int64(n))
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (c *Conn) serveWrite(h header) error {
	atomicOp := h.op == opAtomic
	if atomicOp && h.length != 8 {
		return fmt.Errorf("rpma: atomic write of %d bytes: %w", h.length, ErrProtocol)
	}
	h.op = opResp
	mr := c.peer.lookup(h.key)
	var dst []byte
	ok := false
	if mr != nil {
		dst, ok = mr.span(h.offset, uint64(h.length), UsageWriteDst)
		if !ok {
			mr.release()
		}
	}
	if !ok {
		if err := c.discard(h.length); err != nil {
			return err
		}
		return c.respond(h, StatusRemoteAccess, nil, nil)
	}
	defer mr.release()
	if atomicOp {
		var v [8]byte
		if _, err := io.ReadFull(c.br, v[:]); err != nil {
			return unexpected(err)
		}
		p := unsafe.Pointer(unsafe.SliceData(dst))
		if uintptr(p)%8 != 0 {
			return c.respond(h, StatusRemoteInvalidRequest, nil, nil)
		}
		// One 8-byte store: the other side's readers never see a torn
		// value (the project builds for little-endian hosts only).
		atomic.StoreUint64((*uint64)(p), binary.LittleEndian.Uint64(v[:]))
	} else if _, err := io.ReadFull(c.br, dst); err != nil {
		return unexpected(err)
	}
	return c.respond(h, StatusSuccess, nil, nil)
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (c *Conn) serveRead(h header) error {
	h.op = opReadResp
	mr := c.peer.lookup(h.key)
	if mr == nil {
		return c.respond(h, StatusRemoteAccess, nil, nil)
	}
	src, ok := mr.span(h.offset, uint64(h.length), UsageReadSrc)
	if !ok {
		mr.release()
		return c.respond(h, StatusRemoteAccess, nil, nil)
	}
	// The writer copies src to the socket and then releases mr.
	return c.respond(h, StatusSuccess, src, mr)
}

func (c *Conn) serveFlush(h header) error {
	typ := FlushType(h.flags)
	h.op, h.flags = opResp, 0
	want := UsageFlushVisibility
	switch typ {
	case FlushVisibility:
	case FlushPersistent:
		want = UsageFlushPersistent
	default:
		return fmt.Errorf("rpma: flush type %d: %w", typ, ErrProtocol)
	}
	mr := c.peer.lookup(h.key)
	if mr == nil {
		return c.respond(h, StatusRemoteAccess, nil, nil)
	}
	defer mr.release()
	b, ok := mr.span(h.offset, uint64(h.length), want)
	if !ok {
		return c.respond(h, StatusRemoteAccess, nil, nil)
	}
	// Writes before the flush are already in the region: this side
	// executes frames in order. Persistence is the mapping's.
	if typ == FlushPersistent && mr.m != nil && len(b) > 0 {
		mr.m.Persist(b)
		if mr.m.Err() != nil {
			return c.respond(h, StatusRemoteOperation, nil, nil)
		}
	}
	return c.respond(h, StatusSuccess, nil, nil)
}

func (c *Conn) serveSend(h header) error {
	if h.key != 0 || h.offset != 0 {
		return fmt.Errorf("rpma: send with key or offset: %w", ErrProtocol)
	}
	h.op = opResp
	if h.length > MaxMessageSize {
		return fmt.Errorf("rpma: message of %d bytes: %w", h.length, ErrProtocol)
	}
	c.mu.Lock()
	var p *pending
	if n := len(c.recvs); n > 0 {
		p = c.recvs[n-1]
		c.recvs = c.recvs[:n-1]
	}
	full := p == nil && len(c.queued) >= maxQueued
	c.mu.Unlock()
	switch {
	case p != nil && int(h.length) > len(p.dst):
		if err := c.discard(h.length); err != nil {
			return err
		}
		c.complete(p, StatusLocalLength, 0)
		return c.respond(h, StatusRemoteInvalidRequest, nil, nil)
	case p != nil:
		if _, err := io.ReadFull(c.br, p.dst[:h.length]); err != nil {
			c.mu.Lock()
			c.recvs = append(c.recvs, p) // flushed with the others
			c.mu.Unlock()
			return unexpected(err)
		}
		c.complete(p, StatusSuccess, h.length)
	case full:
		if err := c.discard(h.length); err != nil {
			return err
		}
		return c.respond(h, StatusRNRRetryExceeded, nil, nil)
	default:
		msg := make([]byte, h.length)
		if _, err := io.ReadFull(c.br, msg); err != nil {
			return unexpected(err)
		}
		// A receive may have been posted while the message arrived.
		c.mu.Lock()
		if n := len(c.recvs); n > 0 {
			p = c.recvs[n-1]
			c.recvs = c.recvs[:n-1]
		} else {
			c.queued = append(c.queued, msg)
		}
		c.mu.Unlock()
		if p != nil && !c.deliver(p, msg) {
			return c.respond(h, StatusRemoteInvalidRequest, nil, nil)
		}
	}
	return c.respond(h, StatusSuccess, nil, nil)
}

func (c *Conn) serveResp(h header) error {
	if h.key != 0 || h.offset != 0 || h.status >= statusCount {
		return fmt.Errorf("rpma: malformed response: %w", ErrProtocol)
	}
	c.mu.Lock()
	p := c.pend[h.id]
	delete(c.pend, h.id)
	c.mu.Unlock()
	if p == nil {
		return fmt.Errorf("rpma: response to unknown request %d: %w", h.id, ErrProtocol)
	}
	reread := func(err error) error {
		c.mu.Lock()
		c.pend[h.id] = p // flushed with the others
		c.mu.Unlock()
		return err
	}
	if (h.op == opReadResp) != (p.op == OpRead) {
		return reread(fmt.Errorf("rpma: response op %d to a %v: %w", h.op, p.op, ErrProtocol))
	}
	switch {
	case h.op == opReadResp && h.status == StatusSuccess:
		if int(h.length) != len(p.dst) {
			return reread(fmt.Errorf("rpma: read response of %d bytes to a read of %d: %w", h.length, len(p.dst), ErrProtocol))
		}
		if _, err := io.ReadFull(c.br, p.dst); err != nil {
			return reread(unexpected(err))
		}
	case h.length != 0:
		return reread(fmt.Errorf("rpma: response with %d bytes of payload: %w", h.length, ErrProtocol))
	}
	c.complete(p, h.status, 0)
	return nil
}

// Disconnect ends the connection (rpma_conn_disconnect): the other side
// gets EventClosed, and so does this side once the other side has
// disconnected too (or gone). Operations still outstanding complete with
// StatusFlushed. It waits at most the configuration's timeout for the
// disconnect to be written.
func (c *Conn) Disconnect() error {
	if c.v != nil {
		return c.v.disconnect(nil)
	}
	c.mu.Lock()
	if c.localDisc {
		c.mu.Unlock()
		return nil
	}
	c.localDisc = true
	peerGone := c.dead
	c.mu.Unlock()
	done := make(chan struct{})
	c.enqueue(outFrame{h: header{op: opDisconnect}, done: done}, true)
	t := time.NewTimer(c.cfg.Timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-c.writerDone:
	case <-t.C:
		c.fail(errors.New("rpma: disconnect not written in time"))
	}
	if peerGone {
		c.closeStream()
	}
	return nil
}

// Close disconnects if that was not done, closes the stream without
// waiting for the other side's disconnect, and waits for the
// connection's goroutines (rpma_conn_delete). Completions not collected
// are dropped. It is idempotent.
func (c *Conn) Close() error {
	if c.v != nil {
		err := c.v.close()
		c.closeOnce.Do(func() { c.peer.drop(true) })
		return err
	}
	// The disconnect is written (or timed out) when Disconnect returns;
	// the other side's is not awaited.
	c.Disconnect()
	c.closeStream()
	<-c.readerDone
	c.quitOnce.Do(func() { close(c.quit) })
	<-c.writerDone
	c.closeOnce.Do(func() { c.peer.drop(true) })
	return nil
}

// ConnReq is a connection request (rpma_conn_req): made by a client with
// [Peer.NewConnReq], or obtained by a server from [Endpoint.NextConnReq].
type ConnReq struct {
	peer    *Peer
	cfg     ConnConfig
	addr    string
	nc      *tls.Conn
	raw     *batchConn
	private []byte
	recvs   []*pending
	done    bool

	v *verbsReq // the verbs transport's request, or nil for TCP
}

// NewConnReq makes an outgoing connection request to addr ("host:port")
// with cfg (rpma_conn_req_new); nil cfg is the defaults.
func (p *Peer) NewConnReq(addr string, cfg *ConnConfig) (*ConnReq, error) {
	p.mu.RLock()
	closed := p.closed
	p.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	rc, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if p.v != nil {
		return p.v.newConnReq(p, addr, rc)
	}
	return &ConnReq{peer: p, cfg: rc, addr: addr}, nil
}

// PrivateData returns the private data of an incoming request
// (rpma_conn_req_get_private_data); nil for an outgoing one.
func (r *ConnReq) PrivateData() []byte { return r.private }

// Recv posts a receive before the connection exists
// (rpma_conn_req_recv), as [Conn.Recv].
func (r *ConnReq) Recv(dst *MR, off, n int, opCtx any) error {
	if r.done {
		return ErrClosed
	}
	if len(r.recvs) >= r.cfg.RQSize {
		return ErrInvalid
	}
	p, err := newRecv(dst, off, n, opCtx)
	if err != nil {
		return err
	}
	if r.v != nil {
		return r.v.conn.recv(p)
	}
	r.recvs = append(r.recvs, p)
	return nil
}

// Connect establishes the connection (rpma_conn_req_connect) giving the
// other side privateData (at most MaxPrivateData bytes). A client dials,
// runs the TLS handshake and waits for the server's answer within the
// configuration's timeout: ErrRejected if the server deleted the
// request, ErrUnreachable if no server answered. The request is used up
// whatever the result.
func (r *ConnReq) Connect(ctx context.Context, privateData []byte) (*Conn, error) {
	if r.done {
		return nil, ErrClosed
	}
	r.done = true
	if r.v != nil {
		if !r.peer.hold(true) {
			return nil, ErrClosed
		}
		c, err := r.v.connect(ctx, r, privateData)
		if err != nil {
			r.peer.drop(true)
		}
		return c, err
	}
	if len(privateData) > MaxPrivateData {
		r.dropRecvs()
		return nil, fmt.Errorf("rpma: %d bytes of private data: %w", len(privateData), ErrInvalid)
	}
	if r.nc != nil { // server: accept
		if err := writeFrame(r.nc, opAccept, privateData); err != nil {
			r.nc.Close()
			r.dropRecvs()
			return nil, fmt.Errorf("rpma: accept: %w", err)
		}
		if !r.peer.hold(true) {
			r.nc.Close()
			r.dropRecvs()
			return nil, ErrClosed
		}
		r.nc.SetDeadline(time.Time{})
		return newConn(r.peer, r.cfg, r.nc, r.raw, r.private, r.recvs), nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		r.dropRecvs()
		return nil, fmt.Errorf("rpma: connect %s: %w: %w", r.addr, ErrUnreachable, err)
	}
	bc := newBatchConn(raw)
	nc := tls.Client(bc, r.peer.client)
	fail := func(e error) (*Conn, error) {
		nc.Close()
		r.dropRecvs()
		return nil, fmt.Errorf("rpma: connect %s: %w", r.addr, e)
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	if err := nc.HandshakeContext(ctx); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrUnreachable, err))
	}
	if err := writeFrame(nc, opHello, privateData); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrUnreachable, err))
	}
	// Unbuffered: the connection reads on from nc where this stops.
	op, pd, err := readHandshake(nc)
	switch {
	case err != nil:
		return fail(fmt.Errorf("%w: %w", ErrUnreachable, err))
	case op == opReject:
		return fail(ErrRejected)
	case op != opAccept:
		return fail(fmt.Errorf("%w: answer op %d", ErrProtocol, op))
	}
	if !r.peer.hold(true) {
		return fail(ErrClosed)
	}
	nc.SetDeadline(time.Time{})
	return newConn(r.peer, r.cfg, nc, bc, pd, r.recvs), nil
}

// Delete drops the request (rpma_conn_req_delete): an incoming one is
// rejected, so its client's Connect fails with ErrRejected.
func (r *ConnReq) Delete() error {
	if r.done {
		return nil
	}
	r.done = true
	if r.v != nil {
		return r.v.delete()
	}
	r.dropRecvs()
	if r.nc != nil {
		r.nc.SetDeadline(time.Now().Add(r.cfg.Timeout))
		writeFrame(r.nc, opReject, nil)
		return r.nc.Close()
	}
	return nil
}

func (r *ConnReq) dropRecvs() {
	for _, p := range r.recvs {
		p.mr.release()
	}
	r.recvs = nil
}

func writeFrame(w io.Writer, op uint8, payload []byte) error {
	b := make([]byte, headerSize+len(payload))
	h := header{op: op, length: uint32(len(payload))}
	h.encode(b)
	copy(b[headerSize:], payload)
	_, err := w.Write(b)
	return err
}

// readHandshake reads one handshake frame with its private data.
func readHandshake(r io.Reader) (uint8, []byte, error) {
	var hb [headerSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return 0, nil, err
	}
	h := decodeHeader(hb[:])
	if h.op < opHello || h.op > opReject || h.length > MaxPrivateData || h.status != 0 || h.flags != 0 || h.id != 0 || h.key != 0 || h.offset != 0 {
		return 0, nil, fmt.Errorf("rpma: malformed handshake frame: %w", ErrProtocol)
	}
	var pd []byte
	if h.length > 0 {
		pd = make([]byte, h.length)
		if _, err := io.ReadFull(r, pd); err != nil {
			return 0, nil, unexpected(err)
		}
	}
	return h.op, pd, nil
}
