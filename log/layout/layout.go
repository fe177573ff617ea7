// Package layout is the on-media format of a libpmemlog pool of PMDK 1.12.1
// (src/libpmemlog/log.h; man 7 libpmemlog): the 4096-byte pool header
// (core/pool), then the log descriptor of three little-endian uint64
// offsets, then the log data from the next page on. Package log and the
// tools (pmempool check, info and repair) share it.
package layout

import (
	"encoding/binary"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
)

const (
	// DescOffset is where the log descriptor (struct pmemlog after its
	// pool_hdr) starts.
	DescOffset = pool.HeaderSize
	// StartOffsetAt, EndOffsetAt and WriteOffsetAt are the byte offsets of
	// the descriptor fields start_offset, end_offset and write_offset.
	StartOffsetAt = DescOffset
	EndOffsetAt   = DescOffset + 8
	WriteOffsetAt = DescOffset + 16
	// DescSize is the persistent part of the descriptor (three uint64).
	DescSize = 24
	// RuntimeAt..RuntimeEnd is where C libpmemlog keeps its run-time
	// fields (mapping address, size, flags, lock pointer, ...) inside the
	// pool. They are not part of the format: never read, written as zeros.
	RuntimeAt  = DescOffset + DescSize
	RuntimeEnd = RuntimeAt + 56
	// DataAlign is LOG_FORMAT_DATA_ALIGN (the page size).
	DataAlign = 4096
	// DataStart is start_offset as C computes it: sizeof(struct pmemlog)
	// rounded up to DataAlign.
	DataStart = 2 * DataAlign
	// MinPoolSize is PMEMLOG_MIN_POOL: the smallest pool C accepts.
	MinPoolSize = 2 << 20
	// DumpSize is sizeof(struct pmemlog) after its pool_hdr on x86-64:
	// the descriptor and C's run-time fields, as pmempool info -x dumps
	// them.
	DumpSize = RuntimeEnd - DescOffset
)

// Descriptor is the persistent part of struct pmemlog, in host order.
type Descriptor struct {
	StartOffset uint64 // offset 4096: first byte of log data
	EndOffset   uint64 // offset 4104: end of usable log space (pool size)
	WriteOffset uint64 // offset 4112: where the next append goes
}

// Decode reads the descriptor from a pool image. It returns a
// CorruptError when the image is too short to hold it.
func Decode(pool []byte) (Descriptor, error) {
	if len(pool) < DescOffset+DescSize {
		return Descriptor{}, core.Corrupt(int64(len(pool)), "log descriptor: pool image size",
			DescOffset+DescSize, len(pool))
	}
	le := binary.LittleEndian
	return Descriptor{
		StartOffset: le.Uint64(pool[StartOffsetAt:]),
		EndOffset:   le.Uint64(pool[EndOffsetAt:]),
		WriteOffset: le.Uint64(pool[WriteOffsetAt:]),
	}, nil
}

// Encode writes d into a pool image (not persisting it).
func (d Descriptor) Encode(pool []byte) {
	le := binary.LittleEndian
	le.PutUint64(pool[StartOffsetAt:], d.StartOffset)
	le.PutUint64(pool[EndOffsetAt:], d.EndOffset)
	le.PutUint64(pool[WriteOffsetAt:], d.WriteOffset)
}

// New returns the descriptor of an empty log in a pool of poolSize bytes.
func New(poolSize uint64) Descriptor {
	return Descriptor{StartOffset: DataStart, EndOffset: poolSize, WriteOffset: DataStart}
}

// Problems returns every way d disagrees with what C libpmemlog accepts in
// a pool of poolSize usable bytes (the checks of log_descr_check and
// pmemlog_check), each as a *core.CorruptError. poolSize must not exceed
// the mapped image, so a descriptor without problems keeps every offset
// inside it.
func (d Descriptor) Problems(poolSize uint64) []error {
	var p []error
	if d.StartOffset != DataStart {
		p = append(p, core.Corrupt(StartOffsetAt, "log descriptor: start_offset", uint64(DataStart), d.StartOffset))
	}
	if d.EndOffset != poolSize {
		p = append(p, core.Corrupt(EndOffsetAt, "log descriptor: end_offset (pool size)", poolSize, d.EndOffset))
	}
	if d.StartOffset > d.EndOffset {
		p = append(p, core.Corrupt(StartOffsetAt, "log descriptor: start_offset above end_offset",
			nil, d.StartOffset))
	}
	if d.WriteOffset < d.StartOffset {
		p = append(p, core.Corrupt(WriteOffsetAt, "log descriptor: write_offset below start_offset",
			nil, d.WriteOffset))
	}
	if d.WriteOffset > d.EndOffset {
		p = append(p, core.Corrupt(WriteOffsetAt, "log descriptor: write_offset past end_offset",
			nil, d.WriteOffset))
	}
	return p
}

// UsableSize returns the pool size C uses for a mapping of n bytes: n
// rounded down to whole pages (rep->repsize of a single-file pool).
func UsableSize(n int) uint64 {
	if n < 0 {
		return 0
	}
	return uint64(n) &^ (DataAlign - 1)
}
