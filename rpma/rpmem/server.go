package rpmem

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/core/poolset"
	"github.com/gopmdk/pmdk/rpma"
)

// ServerConfig configures a Server (rpmemd).
type ServerConfig struct {
	// Dir is the poolset directory: a descriptor names a poolset file
	// relative to it (C's rpmemd --poolset-dir). Descriptors that are
	// absolute or leave it are refused.
	Dir string
	// PSK or TLS: the security of the listener, as rpma.PeerOptions.
	PSK []byte
	TLS *tls.Config
	// Timeout bounds the handshake of a connection; 0 means 10 s.
	Timeout time.Duration
	// Logger receives a line per connection and per refusal; nil is
	// silent.
	Logger *slog.Logger
}

// Server is rpmemd: it serves the remote replicas that clients (Open,
// core/pool with this package imported) open by poolset descriptor. Each
// connection opens (or creates) the parts of its poolset, locked, maps
// them as one range and registers it as an rpma region that the client
// may read, write and flush to persistence (core's persist path).
type Server struct {
	cfg    ServerConfig
	log    *slog.Logger
	peer   *rpma.Peer
	ep     *rpma.Endpoint
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewServer makes a server; Listen starts it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("rpmem: server without a poolset directory: %w", rpma.ErrInvalid)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	peer, err := rpma.NewPeer(&rpma.PeerOptions{PSK: cfg.PSK, TLS: cfg.TLS, Logger: cfg.Logger, HandshakeTimeout: cfg.Timeout})
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, log: log, peer: peer, ctx: ctx, cancel: cancel}, nil
}

// Listen listens on addr and serves connections until Close; it returns
// the address listened on.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ep, err := s.peer.Listen(addr)
	if err != nil {
		return nil, err
	}
	s.ep = ep
	s.wg.Add(1)
	go s.accept()
	return ep.Addr(), nil
}

// Close stops listening, ends the connections and waits for them (their
// pools are closed, their parts unlocked).
func (s *Server) Close() error {
	s.cancel()
	var err error
	if s.ep != nil {
		err = s.ep.Shutdown()
	}
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		req, err := s.ep.NextConnReq(s.ctx, &rpma.ConnConfig{Timeout: s.cfg.Timeout, SQSize: 64, CQSize: 64})
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, rpma.ErrClosed) {
				return
			}
			s.log.Warn("rpmemd: connection request", "err", err)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(req)
		}()
	}
}

// serve answers one connection request and serves its pool until the
// client disconnects or is lost.
func (s *Server) serve(creq *rpma.ConnReq) {
	req, err := decodeRequest(creq.PrivateData())
	if err != nil {
		s.refuse(creq, "", err)
		return
	}
	rp, err := s.openPool(req)
	if err != nil {
		s.refuse(creq, req.descriptor, err)
		return
	}
	usage := rpma.UsageReadSrc
	if !req.readOnly {
		usage |= rpma.UsageWriteDst | rpma.UsageFlushPersistent
	}
	mr, err := s.peer.RegisterMap(rp.m, 0, int(req.size), usage)
	if err != nil {
		rp.close()
		s.refuse(creq, req.descriptor, err)
		return
	}
	// The pool is closed (its parts unlocked) before this side's
	// disconnect, which the client waits for: a client that reopens the
	// pool at once finds it free.
	release := func() {
		mr.Deregister()
		rp.removeUnused(s.log)
		rp.close()
	}
	pc := rpma.PeerConfig{DirectWriteToPmem: true}
	resp := append(append([]byte{statusOK}, mr.Descriptor()...), pc.Descriptor()...)
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	conn, err := creq.Connect(ctx, resp)
	cancel()
	if err != nil {
		release()
		s.log.Warn("rpmemd: connect", "pool", req.descriptor, "err", err)
		return
	}
	s.log.Info("rpmemd: serving", "pool", req.descriptor, "mode", req.mode, "size", req.size, "read-only", req.readOnly)
	for {
		ev, err := conn.NextEvent(s.ctx)
		if err != nil || ev == rpma.EventClosed || ev == rpma.EventLost {
			s.log.Info("rpmemd: done", "pool", req.descriptor, "event", ev, "err", err)
			release()
			conn.Close()
			return
		}
	}
}

// refuse answers a request with the reason of its refusal.
func (s *Server) refuse(creq *rpma.ConnReq, desc string, why error) {
	s.log.Warn("rpmemd: refused", "pool", desc, "err", why)
	msg := why.Error()
	if len(msg) > maxRespMessage {
		msg = msg[:maxRespMessage]
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	conn, err := creq.Connect(ctx, append([]byte{statusFailed}, msg...))
	if err != nil {
		creq.Delete()
		return
	}
	conn.Close()
}

// remotePool is a served pool: its part files, locked, and their mapping.
type remotePool struct {
	files   []*os.File
	m       *core.Map
	created []string // part files this connection created
}

// removeUnused removes the part files this connection created when the
// pool header is still zero: the client's create failed before writing
// it (C's local side removes the remote pool then).
func (p *remotePool) removeUnused(log *slog.Logger) {
	if len(p.created) == 0 || !pool.IsZero(p.m.Bytes()[:pool.HeaderSize]) {
		return
	}
	for _, path := range p.created {
		log.Info("rpmemd: removed part of a failed create", "path", path)
		os.Remove(path)
	}
}

func (p *remotePool) close() {
	if p.m != nil {
		p.m.Close()
	}
	for _, f := range p.files {
		f.Close()
	}
}

// openPool opens the poolset req names under the poolset directory: one
// replica, with its pool header in the first part only (one part,
// SINGLEHDR or NOHDRS: the parts are mapped whole, one after the other),
// at least req.size bytes. Missing parts are created by a create or a
// rebuild; a rebuild also resizes parts of the wrong size.
func (s *Server) openPool(req *request) (*remotePool, error) {
	if !filepath.IsLocal(req.descriptor) {
		return nil, fmt.Errorf("descriptor %q: not a path inside the poolset directory: %w", req.descriptor, fs.ErrInvalid)
	}
	set, err := poolset.ParseFile(filepath.Join(s.cfg.Dir, req.descriptor), nil)
	if err != nil {
		return nil, err
	}
	switch {
	case len(set.Replicas) != 1 || set.HasRemote():
		return nil, fmt.Errorf("%s: a remote pool set has one replica: %w", req.descriptor, pool.ErrPoolsetNotSupported)
	case set.Directories:
		return nil, fmt.Errorf("%s: directory parts: %w", req.descriptor, pool.ErrPoolsetNotSupported)
	case set.Headers(0) > 1:
		return nil, fmt.Errorf("%s: parts after the first need OPTION NOHDRS or SINGLEHDR: %w", req.descriptor, pool.ErrPoolsetNotSupported)
	case set.ReplicaSize(0) < req.size:
		return nil, fmt.Errorf("%s: %d bytes, the pool needs %d: %w", req.descriptor, set.ReplicaSize(0), req.size, pool.ErrTooSmall)
	}
	rp := &remotePool{}
	layout := set.Layout(0)
	parts := make([]core.Part, len(layout))
	for i, part := range set.Replicas[0].Parts {
		f, created, err := s.openPart(part, req)
		if created {
			rp.created = append(rp.created, part.Path)
		}
		if err != nil {
			rp.close()
			rp.removeCreated()
			return nil, fmt.Errorf("part %s: %w", part.Path, err)
		}
		rp.files = append(rp.files, f)
		src, err := core.FromFile(f)
		if err != nil {
			rp.close()
			rp.removeCreated()
			return nil, fmt.Errorf("part %s: %w", part.Path, err)
		}
		parts[i] = core.Part{Src: src, Offset: layout[i].Offset, Length: layout[i].Length}
	}
	cfg := &core.Config{RequiredGranularity: core.GranularityPage}
	if req.readOnly {
		cfg.Sharing = core.SharingPrivate
	}
	if rp.m, err = core.NewPartsMap(parts, cfg); err != nil {
		rp.close()
		rp.removeCreated()
		return nil, err
	}
	return rp, nil
}

func (p *remotePool) removeCreated() {
	for _, path := range p.created {
		os.Remove(path)
	}
}

// openPart opens and locks one part file, creating or resizing it as the
// request's mode allows; created reports a file it made.
func (s *Server) openPart(part poolset.Part, req *request) (f *os.File, created bool, err error) {
	flag := os.O_RDWR
	if req.readOnly {
		flag = os.O_RDONLY
	}
	f, err = os.OpenFile(part.Path, flag, 0)
	if errors.Is(err, fs.ErrNotExist) && req.mode != pool.RemoteOpen && !req.readOnly {
		if f, err = os.OpenFile(part.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			created = true
			s.log.Info("rpmemd: created part", "path", part.Path, "size", part.Size)
			if err = unix.Fallocate(int(f.Fd()), 0, 0, part.Size); errors.Is(err, unix.EOPNOTSUPP) {
				err = f.Truncate(part.Size)
			}
		}
	}
	if err == nil {
		err = pool.Lock(f)
	}
	var st os.FileInfo
	if err == nil {
		st, err = f.Stat()
	}
	switch {
	case err != nil:
	case !st.Mode().IsRegular():
		err = fmt.Errorf("not a regular file: %w", fs.ErrInvalid)
	case st.Size() != part.Size && req.mode == pool.RemoteRebuild:
		err = f.Truncate(part.Size)
	case st.Size() != part.Size:
		err = fmt.Errorf("%w: %d bytes, the poolset says %d", pool.ErrPartSize, st.Size(), part.Size)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, created, err
	}
	return f, created, nil
}
