package rpma

// The parts of the verbs transport that need no device and no cgo: the
// mapping of usages to ibv access flags and of ibv_wc_status to Status,
// the private data and region descriptor encodings, the addresses, and
// the pinned memory that verbs may register. They build and are tested
// with or without -tags verbs.

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ibv_access_flags (infiniband/verbs.h); verbs.go checks them against
// the header at compile time.
const (
	ibvAccessLocalWrite  = 1 << 0
	ibvAccessRemoteWrite = 1 << 1
	ibvAccessRemoteRead  = 1 << 2
)

// usageAccess returns the ibv access flags a region registered for usage
// needs. A flush is a read of the remote region (the read after write
// that librpma calls the appliance persistency method), so both flush
// usages need remote read; remote write needs local write (a rule of
// ibv_reg_mr); the sources of writes and sends are only read locally,
// which every registration allows.
func usageAccess(u Usage) int {
	a := 0
	if u&(UsageReadSrc|UsageFlushVisibility|UsageFlushPersistent) != 0 {
		a |= ibvAccessRemoteRead
	}
	if u&UsageWriteDst != 0 {
		a |= ibvAccessRemoteWrite | ibvAccessLocalWrite
	}
	if u&(UsageReadDst|UsageRecv) != 0 {
		a |= ibvAccessLocalWrite
	}
	return a
}

// The ibv_wc_status values (infiniband/verbs.h) this package names.
const (
	ibvWCSuccess        = 0
	ibvWCLocLenErr      = 1
	ibvWCLocQPOpErr     = 2
	ibvWCLocProtErr     = 4
	ibvWCWRFlushErr     = 5
	ibvWCLocAccessErr   = 8
	ibvWCRemInvReqErr   = 9
	ibvWCRemAccessErr   = 10
	ibvWCRemOpErr       = 11
	ibvWCRetryExcErr    = 12
	ibvWCRNRRetryExcErr = 13
)

// wcStatus maps an ibv_wc_status to the Status of a completion. The
// statuses TCP also produces keep their meaning; a transport retry
// exceeded (the other side stopped acknowledging) is
// StatusRetryExceeded, and every other error StatusGeneral.
func wcStatus(s uint32) Status {
	switch s {
	case ibvWCSuccess:
		return StatusSuccess
	case ibvWCLocLenErr:
		return StatusLocalLength
	case ibvWCLocProtErr, ibvWCLocAccessErr:
		return StatusLocalProtection
	case ibvWCWRFlushErr:
		return StatusFlushed
	case ibvWCRemInvReqErr:
		return StatusRemoteInvalidRequest
	case ibvWCRemAccessErr:
		return StatusRemoteAccess
	case ibvWCRemOpErr:
		return StatusRemoteOperation
	case ibvWCRetryExcErr:
		return StatusRetryExceeded
	case ibvWCRNRRetryExcErr:
		return StatusRNRRetryExceeded
	}
	return StatusGeneral
}

// The private data limits of the RDMA CM on InfiniBand and RoCE (a
// connect carries 56 bytes, an accept 196), less the 2-byte header of
// verbsPrivate.
const (
	// MaxVerbsConnectData is the longest private data a client's
	// [ConnReq.Connect] carries over verbs.
	MaxVerbsConnectData = 56 - 2
	// MaxVerbsAcceptData is the longest private data a server's
	// [ConnReq.Connect] carries over verbs.
	MaxVerbsAcceptData = 196 - 2
)

const verbsPrivateMagic = 0xa7

// encodeVerbsPrivate frames private data for the RDMA CM: a magic byte
// and the length, then the data. The CM pads private data to its fixed
// size on InfiniBand, so the length must travel with it.
func encodeVerbsPrivate(pd []byte, max int) ([]byte, error) {
	if len(pd) > max {
		return nil, fmt.Errorf("rpma: %d bytes of private data over verbs, at most %d: %w", len(pd), max, ErrInvalid)
	}
	b := make([]byte, 2+len(pd))
	b[0], b[1] = verbsPrivateMagic, byte(len(pd))
	copy(b[2:], pd)
	return b, nil
}

// decodeVerbsPrivate returns a copy of the private data framed by
// encodeVerbsPrivate in b (which may be padded), nil for none.
func decodeVerbsPrivate(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != verbsPrivateMagic || int(b[1]) > len(b)-2 {
		return nil, fmt.Errorf("rpma: private data of %d bytes not framed by this package: %w", len(b), ErrProtocol)
	}
	if b[1] == 0 {
		return nil, nil
	}
	return append([]byte(nil), b[2:2+int(b[1])]...), nil
}

// A verbs region's descriptor (version 2, MRDescriptorSize bytes, little
// endian): version u8, placement u8 (1: pmem), usage u16, rkey u32, then
// the region's address and size in 48 bits each (user space addresses on
// Linux fit in 48 bits unless a mapping asks for more).
const (
	mrDescVerbs = 2
	verbsMax48  = 1<<48 - 1
)

func encodeVerbsDesc(addr uint64, rkey uint32, size uint64, usage Usage, pmem bool) ([]byte, error) {
	if addr > verbsMax48 || size > verbsMax48 || addr+size > verbsMax48+1 {
		return nil, fmt.Errorf("rpma: region at %#x of %d bytes beyond 48 bits: %w", addr, size, ErrNotSupported)
	}
	d := make([]byte, MRDescriptorSize)
	d[0] = mrDescVerbs
	if pmem {
		d[1] = 1
	}
	binary.LittleEndian.PutUint16(d[2:], uint16(usage))
	binary.LittleEndian.PutUint32(d[4:], rkey)
	put48(d[8:], addr)
	put48(d[14:], size)
	return d, nil
}

func put48(b []byte, v uint64) {
	binary.LittleEndian.PutUint32(b, uint32(v))
	binary.LittleEndian.PutUint16(b[4:], uint16(v>>32))
}

func get48(b []byte) uint64 {
	return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint16(b[4:]))<<32
}

// decodeVerbsDesc decodes a version 2 descriptor (d has the right
// length and version).
func decodeVerbsDesc(d []byte) (*RemoteMR, error) {
	r := &RemoteMR{
		verbs: true,
		pmem:  d[1] == 1,
		usage: Usage(binary.LittleEndian.Uint16(d[2:])),
		key:   uint64(binary.LittleEndian.Uint32(d[4:])),
		raddr: get48(d[8:]),
		size:  get48(d[14:]),
	}
	if d[1] > 1 || r.usage&^usageAll != 0 || r.raddr+r.size > verbsMax48+1 {
		return nil, fmt.Errorf("rpma: verbs region descriptor: %w", ErrBadDescriptor)
	}
	return r, nil
}

// parseVerbsAddr resolves "host:port" (port 0 allowed when listening)
// for the RDMA CM.
func parseVerbsAddr(s string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("rpma: address %q: %w: %w", s, ErrInvalid, err)
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("rpma: port of %q: %w", s, ErrInvalid)
	}
	ip, err := parseVerbsHost(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ip, uint16(pn)), nil
}

// parseVerbsHost resolves a host name or IP address to one address,
// IPv4 preferred.
func parseVerbsHost(host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap(), nil
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("rpma: host %q: %w", host, ErrInvalid)
	}
	for _, ip := range ips {
		if v4 := ip.To4(); v4 != nil {
			return netip.AddrFrom4([4]byte(v4)), nil
		}
	}
	a, _ := netip.AddrFromSlice(ips[0])
	return a, nil
}

// sockaddrOf encodes ap as a struct sockaddr_in or sockaddr_in6.
func sockaddrOf(ap netip.AddrPort) []byte {
	ip := ap.Addr()
	if ip.Is4() {
		b := make([]byte, unix.SizeofSockaddrInet4)
		binary.NativeEndian.PutUint16(b, unix.AF_INET)
		binary.BigEndian.PutUint16(b[2:], ap.Port())
		a := ip.As4()
		copy(b[4:], a[:])
		return b
	}
	b := make([]byte, unix.SizeofSockaddrInet6)
	binary.NativeEndian.PutUint16(b, unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], ap.Port())
	a := ip.As16()
	copy(b[8:], a[:])
	if z := ip.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			binary.NativeEndian.PutUint32(b[24:], uint32(ifi.Index))
		}
	}
	return b
}

// addrOfSockaddr decodes a struct sockaddr_in or sockaddr_in6.
func addrOfSockaddr(b []byte) (*net.TCPAddr, error) {
	if len(b) < 2 {
		return nil, ErrInvalid
	}
	switch binary.NativeEndian.Uint16(b) {
	case unix.AF_INET:
		if len(b) >= unix.SizeofSockaddrInet4 {
			return &net.TCPAddr{IP: net.IP(append([]byte(nil), b[4:8]...)), Port: int(binary.BigEndian.Uint16(b[2:]))}, nil
		}
	case unix.AF_INET6:
		if len(b) >= unix.SizeofSockaddrInet6 {
			return &net.TCPAddr{IP: net.IP(append([]byte(nil), b[8:24]...)), Port: int(binary.BigEndian.Uint16(b[2:]))}, nil
		}
	}
	return nil, fmt.Errorf("rpma: socket address of family %d: %w", binary.NativeEndian.Uint16(b), ErrInvalid)
}

// pinned records the memory AllocMemory made, which is outside the Go
// heap: a verbs peer registers only such memory or a mapping of a
// core.Map.
var pinned struct {
	sync.Mutex
	m map[uintptr]int // start: length
}

// AllocMemory returns n bytes of zeroed memory outside the Go heap (an
// anonymous private mapping), for regions a verbs peer registers: the
// NIC keeps using a registered region's address, which Go memory must
// not be handed to C for. TCP peers may register it too. Release it with
// FreeMemory once its regions are deregistered.
func AllocMemory(n int) ([]byte, error) {
	if n <= 0 {
		return nil, ErrInvalid
	}
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("rpma: allocate %d bytes: %w", n, err)
	}
	pinned.Lock()
	if pinned.m == nil {
		pinned.m = make(map[uintptr]int)
	}
	pinned.m[uintptr(unsafe.Pointer(&b[0]))] = n
	pinned.Unlock()
	return b, nil
}

// FreeMemory releases memory from AllocMemory (the whole of it).
func FreeMemory(b []byte) error {
	if len(b) == 0 {
		return ErrInvalid
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	pinned.Lock()
	n, ok := pinned.m[p]
	if ok && n == len(b) {
		delete(pinned.m, p)
	}
	pinned.Unlock()
	if !ok || n != len(b) {
		return fmt.Errorf("rpma: FreeMemory of memory AllocMemory did not return: %w", ErrInvalid)
	}
	return unix.Munmap(b)
}

// isPinned reports whether b lies in memory from AllocMemory.
func isPinned(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	pinned.Lock()
	defer pinned.Unlock()
	for start, n := range pinned.m {
		if p >= start && p-start <= uintptr(n) && uintptr(len(b)) <= uintptr(n)-(p-start) {
			return true
		}
	}
	return false
}

// postTo posts an operation on r (nil for a send) over the connection's
// transport.
func (c *Conn) postTo(r *RemoteMR, p *pending, f outFrame) error {
	if c.v != nil {
		return c.v.post(p, f, r)
	}
	if r != nil && r.verbs {
		return fmt.Errorf("rpma: a region of a verbs peer on a TCP connection: %w", ErrInvalid)
	}
	return c.post(p, f)
}

// flushUsage is the region usage a flush of typ needs.
func flushUsage(typ FlushType) Usage {
	if typ == FlushPersistent {
		return UsageFlushPersistent
	}
	return UsageFlushVisibility
}

// flushRead returns where in a region of size bytes a flush at off
// reads: 8 bytes (fewer in a smaller region) starting at off, or ending
// at the region's end. Any read after the writes orders them; this one
// stays in the region.
func flushRead(off, size uint64) (uint64, uint64) {
	n := min(size, 8)
	if off > size-n {
		off = size - n
	}
	return off, n
}
