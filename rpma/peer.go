package rpma

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"
)

// MinPSKSize is the shortest pre-shared key accepted, in bytes.
const MinPSKSize = 16

// PeerOptions configure a [Peer]. The TCP transport requires one of TLS
// or PSK: a peer with neither is refused ([ErrNoSecurity]).
type PeerOptions struct {
	// TLS is the TLS configuration: a server's needs Certificates (set
	// ClientAuth to tls.RequireAndVerifyClientCert and ClientCAs to
	// authenticate clients too); a client's needs RootCAs (or the system
	// pool) and ServerName. TLS 1.3 is enforced. Used as a clone.
	TLS *tls.Config
	// PSK is a pre-shared key of at least MinPSKSize bytes, used when TLS
	// is nil. Both sides derive one Ed25519 key pair from it and run
	// mutually authenticated TLS 1.3 with it: a side that does not hold
	// the key cannot complete the handshake.
	PSK []byte
	// HandshakeTimeout bounds, on a listening endpoint, the time from
	// accepting a TCP connection to accepting its request with
	// [ConnReq.Connect]: the TLS handshake, the arrival of the private
	// data and the wait for NextConnReq; 0 means 10 s. A client that is
	// slower is dropped.
	HandshakeTimeout time.Duration
	// Logger receives diagnostics (rejected handshakes, lost
	// connections); nil is silent.
	Logger *slog.Logger
	// RDMAAddr, if set, is the IP address of an RDMA interface of this
	// host (as rpma_utils_get_ibv_context's): the peer uses the verbs
	// transport on the device the RDMA CM finds there instead of TCP.
	// It needs a build with -tags verbs (ErrNotSupported otherwise) and
	// excludes TLS and PSK: verbs traffic is neither encrypted nor
	// authenticated, as with librpma.
	RDMAAddr string
}

// Peer is librpma's rpma_peer: the context connections, endpoints and
// memory regions are made in. Over TCP it holds the security
// configuration and the table of registered regions that the other side
// of its connections may address. Its methods may be called concurrently.
type Peer struct {
	server *tls.Config
	client *tls.Config
	log    *slog.Logger

	handshake time.Duration

	mu      sync.RWMutex
	regions map[uint64]*MR
	conns   int  // connections not yet closed with Conn.Close
	eps     int  // endpoints not yet shut down
	closed  bool // Close succeeded

	v *verbsPeer // the verbs transport's device, or nil for TCP
}

// Close releases the peer (rpma_peer_delete). As librpma's, whose
// protection domain cannot be deallocated while regions or queue pairs
// use it, it refuses while the peer still has registered regions,
// connections not closed with [Conn.Close], or endpoints not shut down:
// the error wraps [ErrBusy] and says what is left, and the peer stays
// usable. Once it succeeds, making regions, endpoints or connections
// with the peer fails with [ErrClosed]. It is idempotent.
func (p *Peer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.regions); n > 0 || p.conns > 0 || p.eps > 0 {
		return fmt.Errorf("rpma: peer still has %d registered regions, %d connections and %d endpoints: %w",
			n, p.conns, p.eps, ErrBusy)
	}
	p.closed = true
	return nil
}

// hold counts a connection (conn) or an endpoint of the peer; false once
// the peer is closed.
func (p *Peer) hold(conn bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if conn {
		p.conns++
	} else {
		p.eps++
	}
	return true
}

// drop ends what hold counted.
func (p *Peer) drop(conn bool) {
	p.mu.Lock()
	if conn {
		p.conns--
	} else {
		p.eps--
	}
	p.mu.Unlock()
}

// NewPeer makes a peer (rpma_peer_new). opts must name TLS or a PSK.
func NewPeer(opts *PeerOptions) (*Peer, error) {
	if opts != nil && opts.RDMAAddr != "" {
		return newVerbsPeer(opts)
	}
	if opts == nil || (opts.TLS == nil && opts.PSK == nil) {
		return nil, ErrNoSecurity
	}
	p := &Peer{regions: make(map[uint64]*MR), log: opts.Logger, handshake: opts.HandshakeTimeout}
	if p.handshake <= 0 {
		p.handshake = 10 * time.Second
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if opts.TLS != nil {
		p.server = opts.TLS.Clone()
		p.server.MinVersion = tls.VersionTLS13
		p.server.DynamicRecordSizingDisabled = true
		p.client = p.server
		return p, nil
	}
	if len(opts.PSK) < MinPSKSize {
		return nil, fmt.Errorf("rpma: pre-shared key of %d bytes, need %d: %w", len(opts.PSK), MinPSKSize, ErrInvalid)
	}
	cert, pub, err := pskCertificate(opts.PSK)
	if err != nil {
		return nil, err
	}
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("rpma: peer presented no certificate")
		}
		c, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return err
		}
		k, ok := c.PublicKey.(ed25519.PublicKey)
		if !ok || !bytes.Equal(k, pub) {
			return errors.New("rpma: peer does not hold the pre-shared key")
		}
		return nil
	}
	p.server = &tls.Config{
		MinVersion:            tls.VersionTLS13,
		Certificates:          []tls.Certificate{cert},
		ClientAuth:            tls.RequireAnyClientCert,
		VerifyPeerCertificate: verify,
		// Full records from the start: the streams are bulk transfers.
		DynamicRecordSizingDisabled: true,
	}
	p.client = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		// The chain is checked by verify against the key derived from
		// the PSK, not against a CA: there is none.
		InsecureSkipVerify:          true,
		VerifyPeerCertificate:       verify,
		DynamicRecordSizingDisabled: true,
	}
	return p, nil
}

// pskCertificate derives the Ed25519 key pair of psk and a self-signed
// certificate of it.
func pskCertificate(psk []byte) (tls.Certificate, ed25519.PublicKey, error) {
	seed, err := hkdf.Key(sha256.New, psk, nil, "gopmdk rpma psk v1", ed25519.SeedSize)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "rpma-psk"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, pub, priv)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, pub, nil
}

// lookup returns the live region of key holding a use of it (released
// with mr.release), or nil.
func (p *Peer) lookup(key uint64) *MR {
	p.mu.RLock()
	mr := p.regions[key]
	p.mu.RUnlock()
	if mr == nil || !mr.acquire() {
		return nil
	}
	return mr
}

// PeerConfig is rpma_peer_cfg: what a peer declares about its platform
// to the peers connecting to it.
type PeerConfig struct {
	// DirectWriteToPmem declares that data written to this peer's pmem
	// reaches persistence with a persistent flush. Over TCP the peer
	// persists flushed ranges through core's persist path (CPU flush on
	// DAX, msync on the page cache), so a peer whose regions are
	// mappings sets it. Without it the other side's persistent flushes
	// fail with ErrNotSupported.
	DirectWriteToPmem bool
}

const peerCfgDescVersion = 1

// Descriptor encodes the configuration for the other side
// (rpma_peer_cfg_get_descriptor).
func (c *PeerConfig) Descriptor() []byte {
	d := []byte{peerCfgDescVersion, 0}
	if c.DirectWriteToPmem {
		d[1] = 1
	}
	return d
}

// PeerConfigFromDescriptor decodes a descriptor made by
// [PeerConfig.Descriptor] (rpma_peer_cfg_from_descriptor).
func PeerConfigFromDescriptor(d []byte) (*PeerConfig, error) {
	if len(d) != 2 || d[0] != peerCfgDescVersion || d[1] > 1 {
		return nil, fmt.Errorf("rpma: peer configuration descriptor of %d bytes: %w", len(d), ErrBadDescriptor)
	}
	return &PeerConfig{DirectWriteToPmem: d[1] == 1}, nil
}
