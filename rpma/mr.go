package rpma

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/gopmdk/pmdk/core"
)

// Usage is what a registered memory region may be used for
// (RPMA_MR_USAGE_*), a bitwise OR. A region is read or written by the
// other side only within its bounds and its usages.
type Usage uint16

// The usages.
const (
	UsageReadSrc         Usage = 1 << iota // source of reads (RPMA_MR_USAGE_READ_SRC)
	UsageReadDst                           // destination of reads (RPMA_MR_USAGE_READ_DST)
	UsageWriteSrc                          // source of writes (RPMA_MR_USAGE_WRITE_SRC)
	UsageWriteDst                          // destination of writes (RPMA_MR_USAGE_WRITE_DST)
	UsageFlushVisibility                   // target of visibility flushes (RPMA_MR_USAGE_FLUSH_TYPE_VISIBILITY)
	UsageFlushPersistent                   // target of persistent flushes (RPMA_MR_USAGE_FLUSH_TYPE_PERSISTENT)
	UsageSend                              // source of sends (RPMA_MR_USAGE_SEND)
	UsageRecv                              // destination of receives (RPMA_MR_USAGE_RECV)

	usageAll = UsageRecv<<1 - 1
)

// MR is a registered memory region (rpma_mr_local): memory of this
// process the connections of its peer may use as their usages say.
type MR struct {
	peer  *Peer
	key   uint64
	mem   []byte
	m     *core.Map // non-nil: persistent flushes persist through it
	usage Usage

	use  sync.RWMutex // read-held by every operation using mem
	mu   sync.Mutex
	dead bool

	v *verbsMR // the registration of a verbs peer, or nil
}

// RegisterMemory registers b (rpma_mr_reg) for usage. b must stay valid
// and is not moved by Go as long as it is registered only if it is not
// on the Go heap, or is kept alive by the caller: the connections read
// and write it from their own goroutines until Deregister. A verbs peer
// registers only memory from [AllocMemory] (ErrInvalid otherwise): its
// NIC keeps the address, which Go heap memory must not be given for.
func (p *Peer) RegisterMemory(b []byte, usage Usage) (*MR, error) {
	return p.register(b, nil, usage)
}

// RegisterMap registers n bytes at off of m (rpma_mr_reg on a mapping of
// pmem): persistent flushes against the region persist through m's
// persist path ([core.Map.Persist]), and fail with a remote operation
// status when [core.Map.Err] reports a failed write-back. m must stay
// open until the region is deregistered.
func (p *Peer) RegisterMap(m *core.Map, off, n int, usage Usage) (*MR, error) {
	if m == nil || off < 0 || n < 0 || off > m.Size() || n > m.Size()-off {
		return nil, fmt.Errorf("rpma: register %d bytes at %d of a mapping: %w", n, off, ErrInvalid)
	}
	return p.register(m.Bytes()[off:off+n:off+n], m, usage)
}

func (p *Peer) register(b []byte, m *core.Map, usage Usage) (*MR, error) {
	if len(b) == 0 || usage == 0 || usage&^usageAll != 0 {
		return nil, fmt.Errorf("rpma: register %d bytes with usage %#x: %w", len(b), uint16(usage), ErrInvalid)
	}
	mr := &MR{peer: p, mem: b, m: m, usage: usage}
	if p.v != nil {
		if err := p.v.register(mr); err != nil {
			return nil, err
		}
		return mr, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	for {
		var k [8]byte
		rand.Read(k[:])
		mr.key = binary.LittleEndian.Uint64(k[:])
		if _, taken := p.regions[mr.key]; !taken && mr.key != 0 {
			break
		}
	}
	p.regions[mr.key] = mr
	return mr, nil
}

// Deregister removes the region (rpma_mr_dereg): the other side's
// operations on it fail from then on. It fails with ErrBusy while posted
// operations of this process still use it (a receive not yet completed,
// a write not yet sent).
func (mr *MR) Deregister() error {
	if !mr.use.TryLock() {
		return ErrBusy
	}
	defer mr.use.Unlock()
	mr.mu.Lock()
	already := mr.dead
	mr.dead = true
	mr.mu.Unlock()
	if already {
		return nil
	}
	if mr.v != nil {
		return mr.v.deregister()
	}
	mr.peer.mu.Lock()
	delete(mr.peer.regions, mr.key)
	mr.peer.mu.Unlock()
	return nil
}

// acquire takes a use of the region; false if it is deregistered.
func (mr *MR) acquire() bool {
	mr.use.RLock()
	mr.mu.Lock()
	dead := mr.dead
	mr.mu.Unlock()
	if dead {
		mr.use.RUnlock()
		return false
	}
	return true
}

func (mr *MR) release() { mr.use.RUnlock() }

// Size returns the length of the region in bytes (rpma_mr_get_size).
func (mr *MR) Size() int { return len(mr.mem) }

// Bytes returns the region's memory.
func (mr *MR) Bytes() []byte { return mr.mem }

// Usage returns the usages the region was registered with.
func (mr *MR) Usage() Usage { return mr.usage }

// span checks that [off, off+n) lies in the region and it has want; it
// returns the bytes.
func (mr *MR) span(off uint64, n uint64, want Usage) ([]byte, bool) {
	size := uint64(len(mr.mem))
	if mr.usage&want != want || off > size || n > size-off {
		return nil, false
	}
	return mr.mem[off : off+n], true
}

// Descriptor layout (little-endian): version u8, placement u8 (1: pmem),
// usage u16, key u64, size u64.
const (
	mrDescVersion = 1
	// MRDescriptorSize is the length of a region's descriptor in bytes
	// (rpma_mr_get_descriptor_size).
	MRDescriptorSize = 20
)

// Descriptor encodes what the other side needs to address the region
// (rpma_mr_get_descriptor): its key, size, usages and whether it is
// pmem. The key is the capability: whoever holds the descriptor can use
// the region as its usages allow, so send it over the connection (its
// private data or a message), which TLS protects.
func (mr *MR) Descriptor() []byte {
	if mr.v != nil {
		return mr.v.desc
	}
	r := RemoteMR{key: mr.key, size: uint64(len(mr.mem)), usage: mr.usage, pmem: mr.m != nil}
	return r.Descriptor()
}

// RemoteMR is a region of the other side (rpma_mr_remote), decoded from
// its descriptor. The other side checks every access against the region
// it registered, whatever this copy says.
type RemoteMR struct {
	key   uint64
	size  uint64
	usage Usage
	pmem  bool

	verbs bool   // a region of a verbs peer: key is its rkey
	raddr uint64 // verbs: its address in the other process
}

// RemoteFromDescriptor decodes a region descriptor
// (rpma_mr_remote_from_descriptor).
func RemoteFromDescriptor(d []byte) (*RemoteMR, error) {
	if len(d) == MRDescriptorSize && d[0] == mrDescVerbs {
		return decodeVerbsDesc(d)
	}
	if len(d) != MRDescriptorSize || d[0] != mrDescVersion || d[1] > 1 {
		return nil, fmt.Errorf("rpma: region descriptor of %d bytes: %w", len(d), ErrBadDescriptor)
	}
	r := &RemoteMR{
		pmem:  d[1] == 1,
		usage: Usage(binary.LittleEndian.Uint16(d[2:])),
		key:   binary.LittleEndian.Uint64(d[4:]),
		size:  binary.LittleEndian.Uint64(d[12:]),
	}
	if r.usage&^usageAll != 0 {
		return nil, fmt.Errorf("rpma: region descriptor with usage %#x: %w", uint16(r.usage), ErrBadDescriptor)
	}
	return r, nil
}

// Size returns the remote region's length in bytes
// (rpma_mr_remote_get_size).
func (r *RemoteMR) Size() int { return int(min(r.size, uint64(maxInt))) }

// Usage returns the remote region's usages.
func (r *RemoteMR) Usage() Usage { return r.usage }

// FlushTypes returns the flush usages of the remote region
// (rpma_mr_remote_get_flush_type).
func (r *RemoteMR) FlushTypes() Usage { return r.usage & (UsageFlushVisibility | UsageFlushPersistent) }

// IsPmem reports whether the remote region is a mapping of pmem.
func (r *RemoteMR) IsPmem() bool { return r.pmem }

const maxInt = int(^uint(0) >> 1)

// Descriptor encodes the remote region again, as its owner's
// [MR.Descriptor] did.
func (r *RemoteMR) Descriptor() []byte {
	if r.verbs {
		d, _ := encodeVerbsDesc(r.raddr, uint32(r.key), r.size, r.usage, r.pmem)
		return d
	}
	d := make([]byte, MRDescriptorSize)
	d[0] = mrDescVersion
	if r.pmem {
		d[1] = 1
	}
	binary.LittleEndian.PutUint16(d[2:], uint16(r.usage))
	binary.LittleEndian.PutUint64(d[4:], r.key)
	binary.LittleEndian.PutUint64(d[12:], r.size)
	return d
}
