//go:build verbs && cgo

package rpma

// The verbs transport over rdma-core (libibverbs and librdmacm), built
// with -tags verbs where their headers are installed (libibverbs-dev,
// librdmacm-dev). A peer made with PeerOptions.RDMAAddr uses it; the
// public API is the one of the TCP transport.
//
// Connections are RDMA CM reliable connections, each with its own event
// channel, completion channel(s), CQ(s) and queue pair. Every work
// request is signaled, so every one completes and releases what it held;
// a successful one posted with CompletionOnError completes silently. A
// goroutine per connection waits (poll(2)) on its completion channels and
// CM event channel, moves work completions into the connection's CQs and
// turns CM events into connection events. The remote side's CPU takes no
// part in reads, writes, atomic writes and flushes: its NIC executes
// them against the registered region, checking the rkey, bounds and
// access flags.

/*
#cgo LDFLAGS: -lrdmacm -libverbs
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

// verbs_wire.go's copies of these values.
_Static_assert(IBV_ACCESS_LOCAL_WRITE == 1 && IBV_ACCESS_REMOTE_WRITE == 2 && IBV_ACCESS_REMOTE_READ == 4, "ibv_access_flags");
_Static_assert(IBV_WC_SUCCESS == 0 && IBV_WC_LOC_LEN_ERR == 1 && IBV_WC_LOC_PROT_ERR == 4 && IBV_WC_WR_FLUSH_ERR == 5 &&
	IBV_WC_LOC_ACCESS_ERR == 8 && IBV_WC_REM_INV_REQ_ERR == 9 && IBV_WC_REM_ACCESS_ERR == 10 &&
	IBV_WC_REM_OP_ERR == 11 && IBV_WC_RETRY_EXC_ERR == 12 && IBV_WC_RNR_RETRY_EXC_ERR == 13, "ibv_wc_status");

static int gp_nonblock(int fd) {
	int f = fcntl(fd, F_GETFL);
	if (f < 0 || fcntl(fd, F_SETFL, f | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

// ibv_reg_mr is a macro; on EOPNOTSUPP (a file system DAX mapping the
// kernel will not pin) it retries with on-demand paging, which the
// device may support.
static struct ibv_mr *gp_reg_mr(struct ibv_pd *pd, void *addr, size_t len, int access) {
	struct ibv_mr *mr = ibv_reg_mr(pd, addr, len, access);
	if (mr == NULL && errno == EOPNOTSUPP)
		mr = ibv_reg_mr(pd, addr, len, access | IBV_ACCESS_ON_DEMAND);
	return mr;
}

static struct ibv_qp *gp_create_qp(struct rdma_cm_id *id, struct ibv_pd *pd,
		struct ibv_cq *scq, struct ibv_cq *rcq, int sq, int rq) {
	struct ibv_qp_init_attr a;
	memset(&a, 0, sizeof(a));
	a.send_cq = scq;
	a.recv_cq = rcq;
	a.cap.max_send_wr = sq;
	a.cap.max_recv_wr = rq;
	a.cap.max_send_sge = 1;
	a.cap.max_recv_sge = 1;
	a.cap.max_inline_data = 8; // the atomic write
	a.qp_type = IBV_QPT_RC;
	if (rdma_create_qp(id, pd, &a))
		return NULL;
	return id->qp;
}

// gp_post_send posts one signaled work request of at most one SGE; it
// returns ibv_post_send's error number.
static int gp_post_send(struct ibv_qp *qp, uint64_t wr_id, int opcode, int flags,
		uint64_t laddr, uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey) {
	struct ibv_sge sge = {.addr = laddr, .length = len, .lkey = lkey};
	struct ibv_send_wr wr = {.wr_id = wr_id, .sg_list = &sge, .num_sge = len > 0}, *bad = NULL;
	wr.opcode = opcode;
	wr.send_flags = IBV_SEND_SIGNALED | flags;
	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	return ibv_post_send(qp, &wr, &bad);
}

// gp_post_write8 posts the atomic write as librpma 1.2 does without
// native atomic write support: an 8-byte RDMA write with its data inline
// (copied at post time) and fenced behind the reads before it.
static int gp_post_write8(struct ibv_qp *qp, uint64_t wr_id, uint64_t val, uint64_t raddr, uint32_t rkey) {
	uint64_t v = val;
	return gp_post_send(qp, wr_id, IBV_WR_RDMA_WRITE, IBV_SEND_INLINE | IBV_SEND_FENCE,
		(uint64_t)(uintptr_t)&v, 8, 0, raddr, rkey);
}

static int gp_post_recv(struct ibv_qp *qp, uint64_t wr_id, uint64_t laddr, uint32_t len, uint32_t lkey) {
	struct ibv_sge sge = {.addr = laddr, .length = len, .lkey = lkey};
	struct ibv_recv_wr wr = {.wr_id = wr_id, .sg_list = &sge, .num_sge = len > 0}, *bad = NULL;
	return ibv_post_recv(qp, &wr, &bad);
}

// gp_establish connects (accept 0) or accepts (accept 1) with private
// data; the depths are the device's maxima, negotiated by the CM.
static int gp_establish(struct rdma_cm_id *id, const void *pd, int pdlen, int accept) {
	struct rdma_conn_param p;
	memset(&p, 0, sizeof(p));
	p.private_data = pd;
	p.private_data_len = pdlen;
	p.responder_resources = RDMA_MAX_RESP_RES;
	p.initiator_depth = RDMA_MAX_INIT_DEPTH;
	p.flow_control = 1;
	p.retry_count = 7;
	p.rnr_retry_count = 7;
	return accept ? rdma_accept(id, &p) : rdma_connect(id, &p);
}

// gp_cq_events takes the pending events of a completion channel,
// acknowledges them and asks each CQ for its next notification: -1 on an
// error other than no more events.
static int gp_cq_events(struct ibv_comp_channel *cc) {
	struct ibv_cq *cq;
	void *ctx;
	while (ibv_get_cq_event(cc, &cq, &ctx) == 0) {
		ibv_ack_cq_events(cq, 1);
		if (ibv_req_notify_cq(cq, 0))
			return -1;
	}
	return errno == EAGAIN ? 0 : -1;
}

static int gp_req_notify(struct ibv_cq *cq) { return ibv_req_notify_cq(cq, 0); }
static int gp_poll_cq(struct ibv_cq *cq, struct ibv_wc *wc, int n) { return ibv_poll_cq(cq, n, wc); }
static const void *gp_ev_pdata(struct rdma_cm_event *e) { return e->param.conn.private_data; }
static int gp_ev_pdata_len(struct rdma_cm_event *e) { return e->param.conn.private_data_len; }
static int gp_sockaddr_len(struct sockaddr *sa) {
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}
*/
import "C"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// verbsDevices returns the names of the RDMA devices rdma-core sees.
func verbsDevices() ([]string, error) {
	var n C.int
	list := C.ibv_get_device_list(&n)
	if list == nil {
		return nil, ErrNotSupported
	}
	defer C.ibv_free_device_list(list)
	devs := unsafe.Slice(list, int(n))
	names := make([]string, 0, len(devs))
	for _, d := range devs {
		names = append(names, C.GoString(C.ibv_get_device_name(d)))
	}
	return names, nil
}

// verbsBuilt tells whether the verbs transport is built in.
const verbsBuilt = true

// verbsDeviceNames returns the RDMA devices, none if there are none.
func verbsDeviceNames() []string {
	names, _ := verbsDevices()
	return names
}

// verbsPeer is the device of a verbs peer: the RDMA CM id bound to its
// address (kept for the life of the process, so the device context it
// opened stays open) and the protection domain every region, queue pair
// and connection of the peer is made in.
type verbsPeer struct {
	id  *C.struct_rdma_cm_id
	ctx *C.struct_ibv_context
	pd  *C.struct_ibv_pd
	src netip.Addr
}

func newVerbsPeer(opts *PeerOptions) (*Peer, error) {
	if opts.TLS != nil || opts.PSK != nil {
		return nil, fmt.Errorf("rpma: TLS or PSK with RDMAAddr (the verbs transport has neither): %w", ErrInvalid)
	}
	ip, err := parseVerbsHost(opts.RDMAAddr)
	if err != nil {
		return nil, err
	}
	if devs, _ := verbsDevices(); len(devs) == 0 {
		return nil, fmt.Errorf("rpma: no RDMA device (ibv_get_device_list found none): %w", ErrNotSupported)
	}
	sa := C.CBytes(sockaddrOf(netip.AddrPortFrom(ip, 0)))
	defer C.free(sa)
	var id *C.struct_rdma_cm_id
	if r, err := C.rdma_create_id(nil, &id, nil, C.RDMA_PS_TCP); r != 0 {
		return nil, fmt.Errorf("rpma: rdma_create_id: %w: %w", ErrNotSupported, err)
	}
	if r, err := C.rdma_bind_addr(id, (*C.struct_sockaddr)(sa)); r != 0 || id.verbs == nil {
		C.rdma_destroy_id(id)
		return nil, fmt.Errorf("rpma: %s is not the address of an RDMA device: %w: %v", ip, ErrNotSupported, err)
	}
	pd, err := C.ibv_alloc_pd(id.verbs)
	if pd == nil {
		C.rdma_destroy_id(id)
		return nil, fmt.Errorf("rpma: ibv_alloc_pd: %w", err)
	}
	p := &Peer{regions: make(map[uint64]*MR), log: opts.Logger, handshake: opts.HandshakeTimeout,
		v: &verbsPeer{id: id, ctx: id.verbs, pd: pd, src: ip}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

type verbsMR struct {
	mr   *C.struct_ibv_mr
	desc []byte
}

// register registers mr's memory with the device: only memory outside
// the Go heap, a core.Map's mapping or AllocMemory's.
func (v *verbsPeer) register(mr *MR) error {
	if mr.m == nil && !isPinned(mr.mem) {
		return fmt.Errorf("rpma: a verbs peer registers only a core.Map (RegisterMap) or memory from AllocMemory: %w", ErrInvalid)
	}
	addr := unsafe.Pointer(unsafe.SliceData(mr.mem))
	m, err := C.gp_reg_mr(v.pd, addr, C.size_t(len(mr.mem)), C.int(usageAccess(mr.usage)))
	if m == nil {
		return fmt.Errorf("rpma: ibv_reg_mr of %d bytes: %w", len(mr.mem), err)
	}
	desc, err := encodeVerbsDesc(uint64(uintptr(addr)), uint32(m.rkey), uint64(len(mr.mem)), mr.usage, mr.m != nil)
	if err != nil {
		C.ibv_dereg_mr(m)
		return err
	}
	mr.v = &verbsMR{mr: m, desc: desc}
	return nil
}

func (v *verbsMR) deregister() error {
	if r := C.ibv_dereg_mr(v.mr); r != 0 {
		return fmt.Errorf("rpma: ibv_dereg_mr: %w", syscall.Errno(r))
	}
	return nil
}

func (v *verbsMR) lkey() C.uint32_t { return v.mr.lkey }

// cmEvent is what this package keeps of an RDMA CM event.
type cmEvent struct {
	typ     C.enum_rdma_cm_event_type
	status  int
	id      *C.struct_rdma_cm_id
	private []byte
}

// errWoken is a wait ended by the wake file descriptor.
var errWoken = errors.New("rpma: woken")

// getCM returns the next event of ch, acknowledged, if there is one
// (ok false: none now).
func getCM(ch *C.struct_rdma_event_channel) (e cmEvent, ok bool, err error) {
	var ev *C.struct_rdma_cm_event
	r, err := C.rdma_get_cm_event(ch, &ev)
	if r != 0 {
		if errors.Is(err, syscall.EAGAIN) {
			return e, false, nil
		}
		return e, false, fmt.Errorf("rpma: rdma_get_cm_event: %w", err)
	}
	e = cmEvent{typ: ev.event, status: int(ev.status), id: ev.id}
	if n := C.gp_ev_pdata_len(ev); n > 0 && C.gp_ev_pdata(ev) != nil {
		e.private = C.GoBytes(C.gp_ev_pdata(ev), n)
	}
	C.rdma_ack_cm_event(ev)
	return e, true, nil
}

// nextCM returns the next event of ch, acknowledged, waiting for it
// until ctx ends or wake (if not -1) is readable.
func nextCM(ctx context.Context, ch *C.struct_rdma_event_channel, wake int) (cmEvent, error) {
	for {
		if e, ok, err := getCM(ch); ok || err != nil {
			return e, err
		}
		fds := []unix.PollFd{{Fd: int32(ch.fd), Events: unix.POLLIN}}
		if wake >= 0 {
			fds = append(fds, unix.PollFd{Fd: int32(wake), Events: unix.POLLIN})
		}
		timeout := -1
		if ctx.Done() != nil {
			timeout = 20 // ms: the context is checked this often
		}
		if _, err := unix.Poll(fds, timeout); err != nil && err != unix.EINTR {
			return cmEvent{}, fmt.Errorf("rpma: poll: %w", err)
		}
		if wake >= 0 && fds[1].Revents != 0 {
			return cmEvent{}, errWoken
		}
		if err := ctx.Err(); err != nil {
			return cmEvent{}, err
		}
	}
}

// expectCM waits for the event want on ch within ctx, mapping the CM's
// failures to ErrRejected and ErrUnreachable.
func expectCM(ctx context.Context, ch *C.struct_rdma_event_channel, want C.enum_rdma_cm_event_type) (cmEvent, error) {
	e, err := nextCM(ctx, ch, -1)
	switch {
	case err != nil:
		return e, fmt.Errorf("%w: %w", ErrUnreachable, err)
	case e.typ == want && e.status == 0:
		return e, nil
	case e.typ == C.RDMA_CM_EVENT_REJECTED:
		return e, ErrRejected
	}
	return e, fmt.Errorf("%w: %s (status %d)", ErrUnreachable, C.GoString(C.rdma_event_str(e.typ)), e.status)
}

func newEventChannel() (*C.struct_rdma_event_channel, error) {
	ch, err := C.rdma_create_event_channel()
	if ch == nil {
		return nil, fmt.Errorf("rpma: rdma_create_event_channel: %w", err)
	}
	if C.gp_nonblock(ch.fd) != 0 {
		C.rdma_destroy_event_channel(ch)
		return nil, errors.New("rpma: event channel not made non-blocking")
	}
	return ch, nil
}

// verbsEP is a listening RDMA CM id and the goroutine taking its
// connection requests.
type verbsEP struct {
	peer *Peer
	ch   *C.struct_rdma_event_channel
	id   *C.struct_rdma_cm_id
	addr net.Addr
	wake int
	reqs chan cmEvent
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

// newCMID parses addr and makes an RDMA CM id for it on a new event
// channel.
func newCMID(addr string) (netip.AddrPort, *C.struct_rdma_event_channel, *C.struct_rdma_cm_id, error) {
	ap, err := parseVerbsAddr(addr)
	if err != nil {
		return ap, nil, nil, err
	}
	ch, err := newEventChannel()
	if err != nil {
		return ap, nil, nil, err
	}
	var id *C.struct_rdma_cm_id
	if r, err := C.rdma_create_id(ch, &id, nil, C.RDMA_PS_TCP); r != 0 {
		C.rdma_destroy_event_channel(ch)
		return ap, nil, nil, fmt.Errorf("rpma: rdma_create_id: %w", err)
	}
	return ap, ch, id, nil
}

func (v *verbsPeer) listen(p *Peer, addr string) (*Endpoint, error) {
	ap, ch, id, err := newCMID(addr)
	if err != nil {
		return nil, err
	}
	e := &verbsEP{peer: p, ch: ch, id: id, wake: -1, reqs: make(chan cmEvent, 16), quit: make(chan struct{}), done: make(chan struct{})}
	fail := func(what string, err error) (*Endpoint, error) {
		e.destroy()
		return nil, fmt.Errorf("rpma: listen %s: %s: %w", addr, what, err)
	}
	sa := C.CBytes(sockaddrOf(ap))
	defer C.free(sa)
	if r, err := C.rdma_bind_addr(e.id, (*C.struct_sockaddr)(sa)); r != 0 {
		return fail("rdma_bind_addr", err)
	}
	if r, err := C.rdma_listen(e.id, 128); r != 0 {
		return fail("rdma_listen", err)
	}
	la := C.rdma_get_local_addr(e.id)
	if e.addr, err = addrOfSockaddr(C.GoBytes(unsafe.Pointer(la), C.gp_sockaddr_len(la))); err != nil {
		return fail("local address", err)
	}
	if e.wake, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		e.wake = -1
		return fail("eventfd", err)
	}
	go e.accept()
	return &Endpoint{peer: p, v: e}, nil
}

// accept takes the connection requests: each with private data framed
// by this package is queued for next, the others are rejected. Events of
// requests not yet taken are dropped.
func (e *verbsEP) accept() {
	defer close(e.done)
	for {
		ev, err := nextCM(context.Background(), e.ch, e.wake)
		if err != nil {
			if err != errWoken {
				e.peer.log.Info("rpma: verbs listener ended", "err", err)
			}
			return
		}
		if ev.typ != C.RDMA_CM_EVENT_CONNECT_REQUEST {
			continue
		}
		pd, err := decodeVerbsPrivate(ev.private)
		if err != nil {
			e.peer.log.Info("rpma: verbs connection request refused", "err", err)
			rejectID(ev.id)
			continue
		}
		ev.private = pd
		select {
		case e.reqs <- ev:
		default:
			e.peer.log.Info("rpma: verbs connection request refused: too many waiting")
			rejectID(ev.id)
		}
	}
}

func rejectID(id *C.struct_rdma_cm_id) {
	C.rdma_reject(id, nil, 0)
	C.rdma_destroy_id(id)
}

func wakeFD(fd int) {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(fd, one[:])
}

func (e *verbsEP) next(ctx context.Context, ep *Endpoint, cfg ConnConfig) (*ConnReq, error) {
	var ev cmEvent
	select {
	case ev = <-e.reqs:
	case <-e.quit:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	v := e.peer.v
	if ev.id.verbs != v.ctx {
		rejectID(ev.id)
		return nil, fmt.Errorf("rpma: a connection request on another RDMA device than the peer's: %w", ErrNotSupported)
	}
	ch, err := newEventChannel()
	if err != nil {
		rejectID(ev.id)
		return nil, err
	}
	if r, err := C.rdma_migrate_id(ev.id, ch); r != 0 {
		rejectID(ev.id)
		C.rdma_destroy_event_channel(ch)
		return nil, fmt.Errorf("rpma: rdma_migrate_id: %w", err)
	}
	vc, err := newVerbsConn(v, ch, ev.id, cfg)
	if err != nil {
		return nil, err // the id destroyed unanswered: the CM rejects it
	}
	return &ConnReq{peer: e.peer, cfg: cfg, private: ev.private, v: &verbsReq{conn: vc, server: true}}, nil
}

func (e *verbsEP) shutdown() error {
	e.once.Do(func() {
		close(e.quit)
		wakeFD(e.wake)
		<-e.done
		for {
			select {
			case ev := <-e.reqs:
				rejectID(ev.id)
				continue
			default:
			}
			break
		}
		e.destroy()
	})
	return nil
}

func (e *verbsEP) destroy() {
	if e.id != nil {
		C.rdma_destroy_id(e.id)
	}
	C.rdma_destroy_event_channel(e.ch)
	if e.wake >= 0 {
		unix.Close(e.wake)
	}
}

// verbsReq is a connection request: its connection's resources exist
// (a request's receives are posted to its queue pair), it is not
// established.
type verbsReq struct {
	conn   *verbsConn
	server bool
}

func (v *verbsPeer) newConnReq(p *Peer, addr string, cfg ConnConfig) (*ConnReq, error) {
	ap, ch, id, err := newCMID(addr)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*ConnReq, error) {
		C.rdma_destroy_id(id)
		C.rdma_destroy_event_channel(ch)
		return nil, fmt.Errorf("rpma: connect %s: %w", addr, err)
	}
	src := C.CBytes(sockaddrOf(netip.AddrPortFrom(v.src, 0)))
	defer C.free(src)
	dst := C.CBytes(sockaddrOf(ap))
	defer C.free(dst)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	ms := C.int(cfg.Timeout.Milliseconds())
	if r, err := C.rdma_resolve_addr(id, (*C.struct_sockaddr)(src), (*C.struct_sockaddr)(dst), ms); r != 0 {
		return fail(fmt.Errorf("%w: rdma_resolve_addr: %w", ErrUnreachable, err))
	}
	if _, err := expectCM(ctx, ch, C.RDMA_CM_EVENT_ADDR_RESOLVED); err != nil {
		return fail(err)
	}
	if r, err := C.rdma_resolve_route(id, ms); r != 0 {
		return fail(fmt.Errorf("%w: rdma_resolve_route: %w", ErrUnreachable, err))
	}
	if _, err := expectCM(ctx, ch, C.RDMA_CM_EVENT_ROUTE_RESOLVED); err != nil {
		return fail(err)
	}
	if id.verbs != v.ctx {
		return fail(fmt.Errorf("the route leaves through another RDMA device than the peer's: %w", ErrNotSupported))
	}
	vc, err := newVerbsConn(v, ch, id, cfg)
	if err != nil {
		return nil, err // newVerbsConn destroyed id and ch
	}
	return &ConnReq{peer: p, cfg: cfg, addr: addr, v: &verbsReq{conn: vc}}, nil
}

func (r *verbsReq) connect(ctx context.Context, req *ConnReq, private []byte) (*Conn, error) {
	vc := r.conn
	limit := MaxVerbsConnectData
	if r.server {
		limit = MaxVerbsAcceptData
	}
	enc, err := encodeVerbsPrivate(private, limit)
	if err != nil {
		r.delete()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, vc.cfg.Timeout)
	defer cancel()
	accept := C.int(0)
	if r.server {
		accept = 1
	}
	if rc, err := C.gp_establish(vc.id, unsafe.Pointer(&enc[0]), C.int(len(enc)), accept); rc != 0 {
		r.delete()
		return nil, fmt.Errorf("rpma: rdma_connect/accept: %w: %w", ErrUnreachable, err)
	}
	ev, err := expectCM(ctx, vc.ch, C.RDMA_CM_EVENT_ESTABLISHED)
	if err != nil {
		vc.destroy()
		return nil, err
	}
	pd := req.private
	if !r.server {
		if pd, err = decodeVerbsPrivate(ev.private); err != nil {
			C.rdma_disconnect(vc.id)
			vc.destroy()
			return nil, err
		}
	}
	c := &Conn{peer: req.peer, cfg: vc.cfg, private: pd, events: make(chan ConnEvent, 2), v: vc}
	c.makeCQs()
	c.events <- EventEstablished
	vc.c = c
	go vc.poll()
	return c, nil
}

func (r *verbsReq) delete() error {
	if r.server {
		C.rdma_reject(r.conn.id, nil, 0)
	}
	r.conn.destroy()
	return nil
}

// wcBatch is how many work completions one poll of a CQ takes.
const wcBatch = 16

// verbsConn is a connection's RDMA resources; its verbsBook keeps track
// of its work requests.
type verbsConn struct {
	verbsBook
	p *verbsPeer

	ch      *C.struct_rdma_event_channel
	id      *C.struct_rdma_cm_id
	qp      *C.struct_ibv_qp
	cc, rcc *C.struct_ibv_comp_channel // rcc: the receive CQ's, if it has its own
	cq, rcq *C.struct_ibv_cq           // rcq nil: receives complete on cq
	wcs     *C.struct_ibv_wc
	raw     unsafe.Pointer // where flushes' reads land
	rawMR   *C.struct_ibv_mr
	wake    int

	closeOnce sync.Once
}

// newVerbsConn makes the completion channels, CQs and queue pair of a
// connection on id (whose events arrive on ch); on failure it destroys
// everything, id and ch included.
func newVerbsConn(v *verbsPeer, ch *C.struct_rdma_event_channel, id *C.struct_rdma_cm_id, cfg ConnConfig) (*verbsConn, error) {
	vc := &verbsConn{verbsBook: newVerbsBook(cfg), p: v, ch: ch, id: id, wake: -1}
	fail := func(what string, err error) (*verbsConn, error) {
		vc.destroy()
		return nil, fmt.Errorf("rpma: %s: %w", what, err)
	}
	var err error
	if vc.cc, err = C.ibv_create_comp_channel(v.ctx); vc.cc == nil {
		return fail("ibv_create_comp_channel", err)
	}
	// Every work request is signaled and the poller drains the CQs as
	// they fill: a CQ needs room for all that may be outstanding.
	n := cfg.SQSize
	if cfg.RCQSize == 0 {
		n += cfg.RQSize
	}
	if vc.cq, err = C.ibv_create_cq(v.ctx, C.int(max(n, cfg.CQSize)), nil, vc.cc, 0); vc.cq == nil {
		return fail("ibv_create_cq", err)
	}
	rcq := vc.cq
	if cfg.RCQSize > 0 {
		rcc := vc.cc
		if !cfg.SharedCompletionChannel {
			if vc.rcc, err = C.ibv_create_comp_channel(v.ctx); vc.rcc == nil {
				return fail("ibv_create_comp_channel", err)
			}
			rcc = vc.rcc
		}
		if vc.rcq, err = C.ibv_create_cq(v.ctx, C.int(max(cfg.RQSize, cfg.RCQSize)), nil, rcc, 0); vc.rcq == nil {
			return fail("ibv_create_cq", err)
		}
		rcq = vc.rcq
	}
	for _, cc := range []*C.struct_ibv_comp_channel{vc.cc, vc.rcc} {
		if cc != nil && C.gp_nonblock(cc.fd) != 0 {
			return fail("completion channel", errors.New("not made non-blocking"))
		}
	}
	for _, q := range []*C.struct_ibv_cq{vc.cq, vc.rcq} {
		if q != nil {
			if r := C.gp_req_notify(q); r != 0 {
				return fail("ibv_req_notify_cq", syscall.Errno(r))
			}
		}
	}
	if vc.qp, err = C.gp_create_qp(id, v.pd, vc.cq, rcq, C.int(cfg.SQSize), C.int(cfg.RQSize)); vc.qp == nil {
		return fail("rdma_create_qp", err)
	}
	vc.wcs = (*C.struct_ibv_wc)(C.calloc(wcBatch, C.size_t(unsafe.Sizeof(C.struct_ibv_wc{}))))
	vc.raw = C.calloc(1, 64)
	if vc.rawMR, err = C.gp_reg_mr(v.pd, vc.raw, 8, C.IBV_ACCESS_LOCAL_WRITE); vc.rawMR == nil {
		return fail("ibv_reg_mr", err)
	}
	if vc.wake, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		vc.wake = -1
		return fail("eventfd", err)
	}
	return vc, nil
}

// destroy frees the connection's resources and releases the regions its
// outstanding work requests held; the poller must have ended (or never
// started).

// destroy frees the connection's resources and releases the regions its
// outstanding work requests held; the poller must have ended (or never
// started).
func (vc *verbsConn) destroy() {
	pend, first := vc.teardown()
	if !first {
		return
	}
	if vc.qp != nil {
		C.rdma_destroy_qp(vc.id) // the NIC is done with the regions
	}
	releaseAll(pend)
	for _, q := range []*C.struct_ibv_cq{vc.rcq, vc.cq} {
		if q != nil {
			C.ibv_destroy_cq(q)
		}
	}
	for _, cc := range []*C.struct_ibv_comp_channel{vc.rcc, vc.cc} {
		if cc != nil {
			C.ibv_destroy_comp_channel(cc)
		}
	}
	if vc.rawMR != nil {
		C.ibv_dereg_mr(vc.rawMR)
	}
	C.free(vc.raw)
	C.free(unsafe.Pointer(vc.wcs))
	C.rdma_destroy_id(vc.id)
	C.rdma_destroy_event_channel(vc.ch)
	if vc.wake >= 0 {
		unix.Close(vc.wake)
	}
}

func addrOf(b []byte) C.uint64_t {
	if len(b) == 0 {
		return 0
	}
	return C.uint64_t(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// post posts the operation p of the TCP frame f on the remote region r
// as a work request: a read, a write, the atomic write (an inline
// fenced 8-byte write), a flush (an 8-byte read of r after the writes
// before it, librpma's appliance persistency method) or a send.
func (vc *verbsConn) post(p *pending, f outFrame, r *RemoteMR) error {
	id, local, err := vc.begin(p, f, r)
	if err != nil {
		return err
	}
	lkey := C.uint32_t(0)
	if local != nil {
		lkey = local.v.lkey()
	}
	wr := C.uint64_t(id)
	var rc C.int
	switch p.op {
	case OpRead:
		rc = C.gp_post_send(vc.qp, wr, C.IBV_WR_RDMA_READ, 0, addrOf(p.dst), C.uint32_t(len(p.dst)),
			lkey, C.uint64_t(r.raddr+f.h.offset), C.uint32_t(r.key))
	case OpWrite:
		rc = C.gp_post_send(vc.qp, wr, C.IBV_WR_RDMA_WRITE, 0, addrOf(f.payload), C.uint32_t(len(f.payload)),
			lkey, C.uint64_t(r.raddr+f.h.offset), C.uint32_t(r.key))
	case OpAtomicWrite:
		rc = C.gp_post_write8(vc.qp, wr, C.uint64_t(binary.NativeEndian.Uint64(f.payload)),
			C.uint64_t(r.raddr+f.h.offset), C.uint32_t(r.key))
	case OpFlush:
		off, n := flushRead(f.h.offset, r.size)
		rc = C.gp_post_send(vc.qp, wr, C.IBV_WR_RDMA_READ, 0, C.uint64_t(uintptr(vc.raw)), C.uint32_t(n),
			vc.rawMR.lkey, C.uint64_t(r.raddr+off), C.uint32_t(r.key))
	case OpSend:
		rc = C.gp_post_send(vc.qp, wr, C.IBV_WR_SEND, 0, addrOf(f.payload), C.uint32_t(len(f.payload)), lkey, 0, 0)
	}
	if rc != 0 {
		vc.abort(id)
		return fmt.Errorf("rpma: ibv_post_send: %w", syscall.Errno(rc))
	}
	return nil
}

// recv posts the receive p (its region held by newRecv).
func (vc *verbsConn) recv(p *pending) error {
	id, err := vc.beginRecv(p)
	if err != nil {
		return err
	}
	if rc := C.gp_post_recv(vc.qp, C.uint64_t(id), addrOf(p.dst), C.uint32_t(len(p.dst)), p.mr.v.lkey()); rc != 0 {
		vc.abort(id)
		return fmt.Errorf("rpma: ibv_post_recv: %w", syscall.Errno(rc))
	}
	return nil
}

// poll runs for the life of the connection: it moves work completions
// into the connection's CQs and turns CM events into connection events.
func (vc *verbsConn) poll() {
	defer close(vc.done)
	fds := []unix.PollFd{{Fd: int32(vc.wake), Events: unix.POLLIN}, {Fd: int32(vc.ch.fd), Events: unix.POLLIN},
		{Fd: int32(vc.cc.fd), Events: unix.POLLIN}}
	if vc.rcc != nil {
		fds = append(fds, unix.PollFd{Fd: int32(vc.rcc.fd), Events: unix.POLLIN})
	}
	for {
		vc.drain(vc.cq)
		if vc.rcq != nil {
			vc.drain(vc.rcq)
		}
		vc.idle()
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			vc.fail(fmt.Errorf("rpma: poll: %w", err))
			vc.end(EventLost)
			return
		}
		if fds[0].Revents != 0 {
			return
		}
		if fds[1].Revents != 0 && !vc.cmEvents() {
			fds[1].Fd = -1 // the event channel failed: poll no more
		}
		for _, fd := range fds[2:] {
			if fd.Revents != 0 {
				cc := vc.cc
				if fd.Fd != int32(vc.cc.fd) {
					cc = vc.rcc
				}
				if C.gp_cq_events(cc) != 0 {
					vc.fail(errors.New("rpma: completion channel failed"))
				}
			}
		}
	}
}

// drain moves the work completions of q into the connection's CQs.
func (vc *verbsConn) drain(q *C.struct_ibv_cq) {
	wcs := unsafe.Slice(vc.wcs, wcBatch)
	for {
		n := int(C.gp_poll_cq(q, vc.wcs, wcBatch))
		if n <= 0 {
			return
		}
		for _, wc := range wcs[:n] {
			if !vc.complete(uint64(wc.wr_id), uint32(wc.status), uint32(wc.byte_len)) {
				vc.fail(ErrCQOverrun)
			}
		}
	}
}

// cmEvents handles the CM events of the connection: a disconnect (by
// either side) ends it with EventClosed, or EventLost if it broke
// (Conn.Err says why); a device removal or error loses it. It returns
// false if the event channel failed (the connection is then lost).
func (vc *verbsConn) cmEvents() bool {
	for {
		ev, ok, err := getCM(vc.ch)
		if !ok {
			if err != nil {
				vc.fail(err)
				vc.end(EventLost)
			}
			return err == nil
		}
		switch ev.typ {
		case C.RDMA_CM_EVENT_DISCONNECTED:
			vc.disconnect(nil) // answer the other side's
			vc.end(EventUndefined)
		case C.RDMA_CM_EVENT_DEVICE_REMOVAL, C.RDMA_CM_EVENT_CONNECT_ERROR, C.RDMA_CM_EVENT_UNREACHABLE:
			vc.setErr(fmt.Errorf("rpma: %s", C.GoString(C.rdma_event_str(ev.typ))))
			vc.end(EventLost)
		}
	}
}

// fail breaks the connection for err.
func (vc *verbsConn) fail(err error) {
	vc.setErr(err)
	vc.disconnect(nil)
}

// disconnect calls rdma_disconnect once: the queue pair goes to its
// error state (outstanding work requests complete with StatusFlushed)
// and both sides get RDMA_CM_EVENT_DISCONNECTED.
func (vc *verbsConn) disconnect(error) error {
	if vc.markDisc() {
		C.rdma_disconnect(vc.id)
	}
	return nil
}

// close disconnects, stops the poller and frees everything; uncollected
// completions are dropped.
func (vc *verbsConn) close() error {
	vc.closeOnce.Do(func() {
		vc.disconnect(nil)
		wakeFD(vc.wake)
		<-vc.done
		vc.end(EventUndefined)
		vc.killCQs()
		vc.destroy()
	})
	return nil
}
