package rpma

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The verbs transport's device-free parts, run with or without -tags
// verbs.

func TestUsageAccess(t *testing.T) {
	const lw, rw, rr = ibvAccessLocalWrite, ibvAccessRemoteWrite, ibvAccessRemoteRead
	for _, c := range []struct {
		u    Usage
		want int
	}{
		{UsageReadSrc, rr},
		{UsageReadDst, lw},
		{UsageWriteSrc, 0},
		{UsageWriteDst, rw | lw},
		{UsageFlushVisibility, rr},
		{UsageFlushPersistent, rr},
		{UsageSend, 0},
		{UsageRecv, lw},
		{UsageWriteDst | UsageFlushPersistent, rw | lw | rr},
		{UsageWriteSrc | UsageSend, 0},
		{usageAll, rw | lw | rr},
	} {
		if got := usageAccess(c.u); got != c.want {
			t.Errorf("usageAccess(%#x) = %#x, want %#x", uint16(c.u), got, c.want)
		}
	}
	// Whatever the usages, remote write never comes without local
	// write (ibv_reg_mr refuses that).
	for u := Usage(1); u <= usageAll; u++ {
		if a := usageAccess(u); a&rw != 0 && a&lw == 0 {
			t.Fatalf("usage %#x: remote write without local write", uint16(u))
		}
	}
}

func TestWCStatus(t *testing.T) {
	want := map[uint32]Status{
		0: StatusSuccess, 1: StatusLocalLength, 2: StatusGeneral, 3: StatusGeneral,
		4: StatusLocalProtection, 5: StatusFlushed, 6: StatusGeneral, 7: StatusGeneral,
		8: StatusLocalProtection, 9: StatusRemoteInvalidRequest, 10: StatusRemoteAccess,
		11: StatusRemoteOperation, 12: StatusRetryExceeded, 13: StatusRNRRetryExceeded,
		14: StatusGeneral, 19: StatusGeneral, 21: StatusGeneral, 23: StatusGeneral, 1000: StatusGeneral,
	}
	for s, w := range want {
		if got := wcStatus(s); got != w {
			t.Errorf("wcStatus(%d) = %v, want %v", s, got, w)
		}
	}
	for s := StatusSuccess; s < statusCount; s++ {
		if name := s.String(); name == "" || name[0] == 's' && s != StatusSuccess {
			t.Errorf("status %d has no name (%q)", s, name)
		}
	}
}

func TestVerbsPrivate(t *testing.T) {
	for _, max := range []int{MaxVerbsConnectData, MaxVerbsAcceptData} {
		for n := 0; n <= max; n++ {
			pd := bytes.Repeat([]byte{byte(n)}, n)
			enc, err := encodeVerbsPrivate(pd, max)
			if err != nil {
				t.Fatal(err)
			}
			// The CM pads to its fixed size (56 or 196 bytes).
			padded := append(enc, make([]byte, max+2-len(enc))...)
			for _, b := range [][]byte{enc, padded} {
				got, err := decodeVerbsPrivate(b)
				if err != nil || !bytes.Equal(got, pd) || (n == 0) != (got == nil) {
					t.Fatalf("%d bytes: decoded %v, %v", n, got, err)
				}
			}
		}
		if _, err := encodeVerbsPrivate(make([]byte, max+1), max); !errors.Is(err, ErrInvalid) {
			t.Errorf("%d bytes over a limit of %d: %v", max+1, max, err)
		}
	}
	for _, b := range [][]byte{nil, {verbsPrivateMagic}, {0, 0}, {verbsPrivateMagic, 3, 1, 2}} {
		if _, err := decodeVerbsPrivate(b); !errors.Is(err, ErrProtocol) {
			t.Errorf("decode %v: %v, want ErrProtocol", b, err)
		}
	}
	// A decoded copy does not alias the CM's buffer.
	b, _ := encodeVerbsPrivate([]byte("abc"), MaxVerbsConnectData)
	got, _ := decodeVerbsPrivate(b)
	b[2] = 'x'
	if string(got) != "abc" {
		t.Fatalf("decoded private data changed with its buffer: %q", got)
	}
}

func TestVerbsDescriptor(t *testing.T) {
	const addr, size = 0x7f12_3456_7000, 64 << 20
	d, err := encodeVerbsDesc(addr, 0xdeadbeef, size, UsageWriteDst|UsageFlushPersistent, true)
	if err != nil || len(d) != MRDescriptorSize {
		t.Fatalf("encode: %d bytes, %v", len(d), err)
	}
	r, err := RemoteFromDescriptor(d)
	if err != nil {
		t.Fatal(err)
	}
	if !r.verbs || r.raddr != addr || r.key != 0xdeadbeef || r.Size() != size || !r.IsPmem() ||
		r.Usage() != UsageWriteDst|UsageFlushPersistent || r.FlushTypes() != UsageFlushPersistent {
		t.Fatalf("decoded %+v", *r)
	}
	if !bytes.Equal(r.Descriptor(), d) {
		t.Fatalf("re-encoded %x, want %x", r.Descriptor(), d)
	}
	// The TCP descriptor still decodes as one.
	tcp := (&RemoteMR{key: 42, size: 10, usage: UsageReadSrc}).Descriptor()
	if r, err := RemoteFromDescriptor(tcp); err != nil || r.verbs || r.key != 42 {
		t.Fatalf("TCP descriptor: %+v, %v", r, err)
	}
	for _, c := range []struct{ addr, size uint64 }{{1 << 48, 8}, {0, 1<<48 + 1}, {1<<48 - 8, 16}} {
		if _, err := encodeVerbsDesc(c.addr, 1, c.size, UsageReadSrc, false); !errors.Is(err, ErrNotSupported) {
			t.Errorf("region at %#x of %d: %v, want ErrNotSupported", c.addr, c.size, err)
		}
	}
	if _, err := encodeVerbsDesc(1<<48-8, 1, 8, UsageReadSrc, false); err != nil {
		t.Errorf("region ending at 2^48: %v", err)
	}
	bad := func(f func(d []byte)) []byte {
		b := bytes.Clone(d)
		f(b)
		return b
	}
	for _, b := range [][]byte{
		bad(func(d []byte) { d[1] = 2 }),                  // placement
		bad(func(d []byte) { d[3] = 0x80 }),               // usage
		bad(func(d []byte) { put48(d[14:], verbsMax48) }), // end beyond 2^48
		d[:MRDescriptorSize-1],
	} {
		if _, err := RemoteFromDescriptor(b); !errors.Is(err, ErrBadDescriptor) {
			t.Errorf("descriptor %x: %v, want ErrBadDescriptor", b, err)
		}
	}
}

func TestParseVerbsAddr(t *testing.T) {
	for s, want := range map[string]string{
		"192.168.1.5:7204":    "192.168.1.5:7204",
		"[fe80::1%lo]:1":      "[fe80::1%lo]:1",
		"[::ffff:10.0.0.1]:0": "10.0.0.1:0",
		"localhost:9":         "127.0.0.1:9",
	} {
		ap, err := parseVerbsAddr(s)
		if err != nil || ap.String() != want {
			t.Errorf("parseVerbsAddr(%q) = %v, %v; want %s", s, ap, err, want)
		}
	}
	for _, s := range []string{"192.168.1.5", "192.168.1.5:", ":70000", "1.2.3.4:-1", "1.2.3.4:x", "no.such.host.invalid:1"} {
		if _, err := parseVerbsAddr(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("parseVerbsAddr(%q): %v, want ErrInvalid", s, err)
		}
	}
}

func TestSockaddr(t *testing.T) {
	ap := netip.MustParseAddrPort("10.1.2.3:7204")
	b := sockaddrOf(ap)
	if len(b) != unix.SizeofSockaddrInet4 {
		t.Fatalf("sockaddr_in of %d bytes", len(b))
	}
	sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&b[0]))
	port := [2]byte(unsafe.Slice((*byte)(unsafe.Pointer(&sa4.Port)), 2))
	if sa4.Family != unix.AF_INET || port != [2]byte{0x1c, 0x24} || sa4.Addr != [4]byte{10, 1, 2, 3} {
		t.Fatalf("sockaddr_in %+v", *sa4)
	}
	ap6 := netip.MustParseAddrPort("[2001:db8::7]:1")
	b6 := sockaddrOf(ap6)
	sa6 := (*unix.RawSockaddrInet6)(unsafe.Pointer(&b6[0]))
	if len(b6) != unix.SizeofSockaddrInet6 || sa6.Family != unix.AF_INET6 || sa6.Addr != ap6.Addr().As16() {
		t.Fatalf("sockaddr_in6 %+v", *sa6)
	}
	for _, c := range []struct {
		b    []byte
		want string
	}{{b, "10.1.2.3:7204"}, {b6, "[2001:db8::7]:1"}} {
		a, err := addrOfSockaddr(c.b)
		if err != nil || a.String() != c.want {
			t.Errorf("addrOfSockaddr = %v, %v; want %s", a, err, c.want)
		}
	}
	for _, bad := range [][]byte{nil, b[:8], b6[:20], {1, 0, 0, 0}} {
		if _, err := addrOfSockaddr(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("addrOfSockaddr(%v): %v", bad, err)
		}
	}
}

func TestAllocMemory(t *testing.T) {
	b, err := AllocMemory(3 << 12)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] = 1
	if !isPinned(b) || !isPinned(b[100:200]) || !isPinned(b[len(b)-1:]) {
		t.Fatal("AllocMemory's memory, or part of it, not recognised")
	}
	if isPinned(make([]byte, 64)) || isPinned(nil) {
		t.Fatal("Go memory taken for pinned memory")
	}
	if err := FreeMemory(b[1:]); !errors.Is(err, ErrInvalid) {
		t.Fatalf("FreeMemory of a part: %v", err)
	}
	if err := FreeMemory(make([]byte, 8)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("FreeMemory of Go memory: %v", err)
	}
	if err := FreeMemory(b); err != nil {
		t.Fatal(err)
	}
	if isPinned(b) {
		t.Fatal("freed memory still pinned")
	}
	if _, err := AllocMemory(0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("AllocMemory(0): %v", err)
	}
	// A TCP peer registers it like any memory.
	p, err := NewPeer(&PeerOptions{PSK: make([]byte, MinPSKSize)})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := AllocMemory(4096)
	defer FreeMemory(m)
	mr, err := p.RegisterMemory(m, UsageWriteDst)
	if err != nil {
		t.Fatal(err)
	}
	mr.Deregister()
}

func TestFlushRead(t *testing.T) {
	for _, c := range []struct{ off, size, wantOff, wantN uint64 }{
		{0, 4096, 0, 8}, {100, 4096, 100, 8}, {4090, 4096, 4088, 8}, {9999, 4096, 4088, 8},
		{0, 5, 0, 5}, {3, 5, 0, 5}, {0, 0, 0, 0},
	} {
		if off, n := flushRead(c.off, c.size); off != c.wantOff || n != c.wantN {
			t.Errorf("flushRead(%d, %d) = %d, %d; want %d, %d", c.off, c.size, off, n, c.wantOff, c.wantN)
		}
	}
	if flushUsage(FlushPersistent) != UsageFlushPersistent || flushUsage(FlushVisibility) != UsageFlushVisibility {
		t.Fatal("flushUsage")
	}
}

func TestVerbsOptions(t *testing.T) {
	// With or without -tags verbs, on a machine without an RDMA device
	// (or without the tag) a verbs peer is ErrNotSupported, and with
	// TLS or a PSK it is refused.
	_, err := NewPeer(&PeerOptions{RDMAAddr: "127.0.0.1"})
	if len(verbsDeviceNames()) == 0 && !errors.Is(err, ErrNotSupported) {
		t.Fatalf("NewPeer(RDMAAddr) without a device: %v", err)
	}
	if verbsBuilt {
		_, err = NewPeer(&PeerOptions{RDMAAddr: "127.0.0.1", PSK: make([]byte, MinPSKSize)})
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("NewPeer(RDMAAddr, PSK): %v", err)
		}
	}
}
