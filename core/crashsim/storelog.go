package crashsim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// OpKind is the kind of one operation of a [StoreLog].
type OpKind uint8

// The operations of a store log. The values are the record types of the
// encoding.
const (
	// OpStore: Data reached the media at Off, within one 64-byte line
	// (the content of the line's changed words when it was flushed).
	OpStore OpKind = 0x02
	// OpFence: the stores since the previous fence are durable.
	OpFence OpKind = 0x03
	// OpMarker: a named point the recorded program set with [Mark].
	OpMarker OpKind = 0x04
)

const (
	recBase   = 0x01 // a line of the initial image
	recEnd    = 0xff // the last byte of a log
	logMagic  = "GOPMSLOG"
	logVer    = 1
	headerLen = 24
	// MaxStoreLogSize is the largest device size a store log may name.
	MaxStoreLogSize = 1 << 40
	// MaxMarkerLen is the longest marker name in bytes.
	MaxMarkerLen = 255
)

// ErrStoreLog is wrapped by every error decoding or encoding a malformed
// store log.
var ErrStoreLog = errors.New("crashsim: malformed store log")

// Op is one operation of a [StoreLog].
type Op struct {
	Kind OpKind
	// Off and Data: the bytes an OpStore (or a line of StoreLog.Base)
	// writes; 1 to 64 bytes that do not cross a 64-byte line.
	Off  int
	Data []byte
	// Marker is the name of an OpMarker.
	Marker string
}

// String describes the operation in one line.
func (o Op) String() string {
	switch o.Kind {
	case OpStore:
		return fmt.Sprintf("store %#x+%d", o.Off, len(o.Data))
	case OpFence:
		return "fence"
	case OpMarker:
		return "marker " + o.Marker
	}
	return fmt.Sprintf("OpKind(%#x)", uint8(o.Kind))
}

// StoreLog is a recording of the stores, fences and markers of a program
// on a [Device], as [Device.StartRecording] makes it: what pmemcheck's
// store log is to PMDK's pmreorder. Replaying Base then the stores of Ops
// in order gives the durable content of the device at the end of the
// recording (up to its last fence).
//
// # Encoding
//
// All integers are little-endian. A log is a 24-byte header, records, and
// one end byte:
//
//	header:  "GOPMSLOG" (8 bytes), version uint32 (1), flags uint32 (0),
//	         device size uint64 (1 .. MaxStoreLogSize)
//	0x01 base:   offset uint64, length uint16, data: part of the initial
//	             image (the recorder writes the lines that are not all zero);
//	             before any other record
//	0x02 store:  offset uint64, length uint16, data
//	0x03 fence
//	0x04 marker: length uint8 (1 .. 255), name (UTF-8, no control characters)
//	0xff end: nothing may follow
//
// The data of a base or store record is 1 to 64 bytes within one 64-byte
// line of the device (offset/64 == (offset+length-1)/64, offset+length <=
// size). Each encoding is canonical: decoding and re-encoding gives the
// same bytes.
type StoreLog struct {
	// Size of the device in bytes.
	Size int
	// Base holds the non-zero parts of the device's durable image when
	// the recording started, as stores (OpStore).
	Base []Op
	// Ops is what happened, in order.
	Ops []Op
}

// Image returns the device's image when the recording started: Size
// bytes, zero but for Base.
func (l *StoreLog) Image() []byte {
	img := make([]byte, l.Size)
	for _, o := range l.Base {
		copy(img[o.Off:], o.Data)
	}
	return img
}

// Stores returns the number of OpStore operations of Ops.
func (l *StoreLog) Stores() int {
	n := 0
	for _, o := range l.Ops {
		if o.Kind == OpStore {
			n++
		}
	}
	return n
}

func checkStore(size, off int, data []byte) error {
	n := len(data)
	if n < 1 || n > lineSize || off < 0 || off >= size || n > size-off || off/lineSize != (off+n-1)/lineSize {
		return fmt.Errorf("%w: store of %d bytes at %#x: outside one line of a %d-byte device", ErrStoreLog, n, off, size)
	}
	return nil
}

func checkMarker(name string) error {
	if name == "" || len(name) > MaxMarkerLen || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: marker %q: want 1 to %d bytes of UTF-8 without control characters", ErrStoreLog, name, MaxMarkerLen)
	}
	return nil
}

// MarshalBinary encodes the log; it fails on a log the decoder would
// reject (a store outside the device, an empty marker...).
func (l *StoreLog) MarshalBinary() ([]byte, error) {
	if l.Size < 1 || l.Size > MaxStoreLogSize {
		return nil, fmt.Errorf("%w: device size %d", ErrStoreLog, l.Size)
	}
	b := make([]byte, 0, headerLen+1+len(l.Ops)*16)
	b = append(b, logMagic...)
	b = binary.LittleEndian.AppendUint32(b, logVer)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(l.Size))
	appendData := func(rec byte, o Op) error {
		if err := checkStore(l.Size, o.Off, o.Data); err != nil {
			return err
		}
		b = append(b, rec)
		b = binary.LittleEndian.AppendUint64(b, uint64(o.Off))
		b = binary.LittleEndian.AppendUint16(b, uint16(len(o.Data)))
		b = append(b, o.Data...)
		return nil
	}
	for _, o := range l.Base {
		if o.Kind != OpStore {
			return nil, fmt.Errorf("%w: base holds a %v", ErrStoreLog, o)
		}
		if err := appendData(recBase, o); err != nil {
			return nil, err
		}
	}
	for _, o := range l.Ops {
		switch o.Kind {
		case OpStore:
			if err := appendData(byte(OpStore), o); err != nil {
				return nil, err
			}
		case OpFence:
			b = append(b, byte(OpFence))
		case OpMarker:
			if err := checkMarker(o.Marker); err != nil {
				return nil, err
			}
			b = append(b, byte(OpMarker), byte(len(o.Marker)))
			b = append(b, o.Marker...)
		default:
			return nil, fmt.Errorf("%w: %v", ErrStoreLog, o)
		}
	}
	return append(b, recEnd), nil
}

// WriteTo writes the encoded log to w.
func (l *StoreLog) WriteTo(w io.Writer) (int64, error) {
	b, err := l.MarshalBinary()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// UnmarshalBinary decodes an encoded log into l. Every length and offset
// is checked: malformed input gives an error wrapping [ErrStoreLog].
func (l *StoreLog) UnmarshalBinary(b []byte) error {
	if len(b) < headerLen || string(b[:8]) != logMagic {
		return fmt.Errorf("%w: no store log header", ErrStoreLog)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != logVer {
		return fmt.Errorf("%w: version %d, want %d", ErrStoreLog, v, logVer)
	}
	if f := binary.LittleEndian.Uint32(b[12:]); f != 0 {
		return fmt.Errorf("%w: flags %#x, want 0", ErrStoreLog, f)
	}
	size := binary.LittleEndian.Uint64(b[16:])
	if size < 1 || size > MaxStoreLogSize {
		return fmt.Errorf("%w: device size %d", ErrStoreLog, size)
	}
	out := StoreLog{Size: int(size)}
	rest := b[headerLen:]
	pos := func() int { return len(b) - len(rest) }
	for {
		if len(rest) == 0 {
			return fmt.Errorf("%w: truncated at byte %d", ErrStoreLog, pos())
		}
		rec := rest[0]
		at := pos()
		rest = rest[1:]
		switch rec {
		case recEnd:
			if len(rest) != 0 {
				return fmt.Errorf("%w: %d bytes after the end", ErrStoreLog, len(rest))
			}
			*l = out
			return nil
		case recBase, byte(OpStore):
			if rec == recBase && len(out.Ops) != 0 {
				return fmt.Errorf("%w: base line at byte %d after the first operation", ErrStoreLog, at)
			}
			if len(rest) < 10 {
				return fmt.Errorf("%w: truncated at byte %d", ErrStoreLog, at)
			}
			off := binary.LittleEndian.Uint64(rest)
			n := int(binary.LittleEndian.Uint16(rest[8:]))
			rest = rest[10:]
			if off >= size || n > len(rest) {
				return fmt.Errorf("%w: record at byte %d: %d bytes at %#x", ErrStoreLog, at, n, off)
			}
			o := Op{Kind: OpStore, Off: int(off), Data: bytes.Clone(rest[:n])}
			rest = rest[n:]
			if err := checkStore(out.Size, o.Off, o.Data); err != nil {
				return err
			}
			if rec == recBase {
				out.Base = append(out.Base, o)
			} else {
				out.Ops = append(out.Ops, o)
			}
		case byte(OpFence):
			out.Ops = append(out.Ops, Op{Kind: OpFence})
		case byte(OpMarker):
			if len(rest) < 1 || int(rest[0]) > len(rest)-1 {
				return fmt.Errorf("%w: truncated marker at byte %d", ErrStoreLog, at)
			}
			name := string(rest[1 : 1+int(rest[0])])
			rest = rest[1+int(rest[0]):]
			if err := checkMarker(name); err != nil {
				return err
			}
			out.Ops = append(out.Ops, Op{Kind: OpMarker, Marker: name})
		default:
			return fmt.Errorf("%w: unknown record %#x at byte %d", ErrStoreLog, rec, at)
		}
	}
}

// ReadStoreLog reads and decodes a whole store log from r.
func ReadStoreLog(r io.Reader) (*StoreLog, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var l StoreLog
	if err := l.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return &l, nil
}
