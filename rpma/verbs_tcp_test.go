package rpma_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gopmdk/pmdk/rpma"
)

// A verbs region's descriptor (version 2) decodes anywhere, but a TCP
// connection refuses to address it: its key is an rkey the other side's
// table does not hold, and the refusal is local and immediate.
func TestVerbsRegionOnTCP(t *testing.T) {
	srv, cli := newPeer(t, testPSK), newPeer(t, testPSK)
	_, c := pair(t, srv, cli, nil, nil, nil, nil)
	d := make([]byte, rpma.MRDescriptorSize)
	d[0] = 2 // verbs
	binary.LittleEndian.PutUint16(d[2:], uint16(rpma.UsageWriteDst|rpma.UsageReadSrc|rpma.UsageFlushVisibility))
	binary.LittleEndian.PutUint32(d[4:], 0x1234)
	d[8], d[14] = 0x10, 0x40 // address 0x10, 64 bytes
	r := remote(t, d)
	if r.Size() != 64 {
		t.Fatalf("verbs descriptor decoded to %d bytes", r.Size())
	}
	buf := make([]byte, 64)
	mr := register(t, cli, buf, rpma.UsageWriteSrc|rpma.UsageReadDst)
	for name, err := range map[string]error{
		"write":  c.Write(r, 0, mr, 0, 8, rpma.CompletionAlways, nil),
		"read":   c.Read(mr, 0, r, 0, 8, rpma.CompletionAlways, nil),
		"atomic": c.AtomicWrite(r, 0, [8]byte{}, rpma.CompletionAlways, nil),
		"flush":  c.Flush(r, 0, 8, rpma.FlushVisibility, rpma.CompletionAlways, nil),
	} {
		if !errors.Is(err, rpma.ErrInvalid) {
			t.Errorf("%s on a verbs region over TCP: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := c.CQ().Get(make([]rpma.Completion, 1)); !errors.Is(err, rpma.ErrNoCompletion) {
		t.Fatalf("refused operations completed: %v", err)
	}
}
