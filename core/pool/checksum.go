package pool

import "encoding/binary"

// Checksum computes PMDK's Fletcher-64-like checksum (util_checksum) of b,
// whose length must be a multiple of 4 bytes. The 8 bytes at csumOff (the
// checksum field itself, 4-byte aligned; a negative value means none) and
// every 32-bit word at or after skipOff (0 means none) count as zeros, but
// still take part in the running sums, as in C. The pool header, the BTT
// info block and the shutdown state all use it.
func Checksum(b []byte, csumOff, skipOff int) uint64 {
	if len(b)%4 != 0 {
		panic("pool: Checksum of a length not a multiple of 4")
	}
	if skipOff <= 0 || skipOff > len(b) {
		skipOff = len(b)
	}
	var lo, hi uint32
	i := 0
	for ; i < skipOff; i += 4 {
		if i == csumOff {
			// Both halves of the checksum field read as zero.
			hi += lo
			i += 4
			hi += lo
			continue
		}
		lo += binary.LittleEndian.Uint32(b[i:])
		hi += lo
	}
	// Skipped words add zero to lo and lo to hi each.
	hi += lo * uint32((len(b)-i)/4)
	return uint64(hi)<<32 | uint64(lo)
}

// ChecksumSeq continues the checksum csum (a Checksum result, or 0 to
// start) over b, whose length must be a multiple of 4 bytes, as C's
// util_checksum_seq: libpmemobj chains it over a log entry and its log's
// generation number.
func ChecksumSeq(b []byte, csum uint64) uint64 {
	if len(b)%4 != 0 {
		panic("pool: ChecksumSeq of a length not a multiple of 4")
	}
	lo, hi := uint32(csum), uint32(csum>>32)
	for i := 0; i < len(b); i += 4 {
		lo += binary.LittleEndian.Uint32(b[i:])
		hi += lo
	}
	return uint64(hi)<<32 | uint64(lo)
}
