package rpma

import "encoding/binary"

// The TCP transport frames every operation as a fixed header, followed by
// a payload of header.length bytes for the operations that carry data:
//
//	offset size field
//	0      1    op      (opWrite ...)
//	1      1    status  (responses: a Status; requests: 0)
//	2      2    flags   (opFlush: the FlushType; else 0)
//	4      4    length  (bytes of payload, or asked for by opRead/opFlush)
//	8      8    id      (the initiator's request id, echoed by responses)
//	16     8    key     (the target region's key)
//	24     8    offset  (in the target region)
//
// All little-endian. The other side executes requests in order on its
// registered region and answers each with opResp (opReadResp carries the
// data read). Handshake frames (opHello, opAccept, opReject) carry
// private data; opDisconnect ends the stream.
const headerSize = 32

const (
	opWrite      = 1
	opAtomic     = 2
	opRead       = 3
	opFlush      = 4
	opSend       = 5
	opResp       = 6
	opReadResp   = 7
	opDisconnect = 8
	opHello      = 9
	opAccept     = 10
	opReject     = 11
)

// Limits of frames. A frame beyond them is a protocol violation.
const (
	// MaxPrivateData is the longest private data of a connection request
	// or its acceptance, in bytes.
	MaxPrivateData = 255
	// MaxMessageSize is the longest message a Send may carry, in bytes.
	MaxMessageSize = 1 << 20
	// maxQueued is how many messages wait for a Recv before the sender
	// gets StatusRNRRetryExceeded.
	maxQueued = 64
	// maxPeerOutstanding bounds the requests of the other side whose
	// responses are not yet written: beyond it the other side ignores
	// its queue sizes, and the connection is lost.
	maxPeerOutstanding = 1 << 16
)

type header struct {
	op     uint8
	status Status
	flags  uint16
	length uint32
	id     uint64
	key    uint64
	offset uint64
}

func (h *header) encode(b []byte) {
	_ = b[headerSize-1]
	b[0] = h.op
	b[1] = uint8(h.status)
	binary.LittleEndian.PutUint16(b[2:], h.flags)
	binary.LittleEndian.PutUint32(b[4:], h.length)
	binary.LittleEndian.PutUint64(b[8:], h.id)
	binary.LittleEndian.PutUint64(b[16:], h.key)
	binary.LittleEndian.PutUint64(b[24:], h.offset)
}

func decodeHeader(b []byte) header {
	_ = b[headerSize-1]
	return header{
		op:     b[0],
		status: Status(b[1]),
		flags:  binary.LittleEndian.Uint16(b[2:]),
		length: binary.LittleEndian.Uint32(b[4:]),
		id:     binary.LittleEndian.Uint64(b[8:]),
		key:    binary.LittleEndian.Uint64(b[16:]),
		offset: binary.LittleEndian.Uint64(b[24:]),
	}
}
