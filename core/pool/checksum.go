package pool

import "github.com/gopmdk/pmdk/hal"

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
	var c sums
	end := skipOff // where the words that read as zeros start
	if csumOff >= 0 && csumOff < skipOff {
		c.add(b[:csumOff])
		if rest := csumOff + 8; rest < skipOff {
			c.zeros(2) // both halves of the checksum field read as zero
			c.add(b[rest:skipOff])
		} else {
			end = csumOff
		}
	} else {
		c.add(b[:skipOff])
	}
	c.zeros((len(b) - end) / 4)
	return c.value()
}

// ChecksumSeq continues the checksum csum (a Checksum result, or 0 to
// start) over b, whose length must be a multiple of 4 bytes, as C's
// util_checksum_seq: libpmemobj chains it over a log entry and its log's
// generation number.
func ChecksumSeq(b []byte, csum uint64) uint64 {
	if len(b)%4 != 0 {
		panic("pool: ChecksumSeq of a length not a multiple of 4")
	}
	c := sums{lo: uint32(csum), hi: uint32(csum >> 32)}
	c.add(b)
	return c.value()
}

// sums are the checksum's running sums: each 32-bit word adds itself to lo,
// then lo to hi (modulo 2^32).
type sums struct{ lo, hi uint32 }

// add runs the sums over b's words, hal's kernel doing the loop.
func (c *sums) add(b []byte) {
	s, t := hal.Sums32(b)
	c.hi += uint32(len(b)/4)*c.lo + t
	c.lo += s
}

// zeros runs the sums over n zero words.
func (c *sums) zeros(n int) { c.hi += uint32(n) * c.lo }

func (c sums) value() uint64 { return uint64(c.hi)<<32 | uint64(c.lo) }
