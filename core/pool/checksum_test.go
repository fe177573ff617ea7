package pool

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// checksumWords is the checksum's definition, word by word, as C's
// util_checksum_compute: the field at csumOff and the words from skipOff
// read as zeros.
func checksumWords(b []byte, csumOff, skipOff int) uint64 {
	if skipOff <= 0 || skipOff > len(b) {
		skipOff = len(b)
	}
	var lo, hi uint32
	for i := 0; i < len(b); i += 4 {
		var w uint32
		if i < skipOff && (csumOff < 0 || i < csumOff || i >= csumOff+8) {
			w = binary.LittleEndian.Uint32(b[i:])
		}
		lo += w
		hi += lo
	}
	return uint64(hi)<<32 | uint64(lo)
}

func TestChecksumMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		n := 4 * r.IntN(1200)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		csumOff, skipOff := -1, 0
		if n > 0 && r.IntN(4) > 0 {
			csumOff = 4 * r.IntN(n/4)
		}
		if n > 0 && r.IntN(2) == 0 {
			skipOff = 4 * r.IntN(n/4+1)
		}
		if got, want := Checksum(b, csumOff, skipOff), checksumWords(b, csumOff, skipOff); got != want {
			t.Fatalf("Checksum of %d bytes, field at %d, skip from %d: %#x, want %#x", n, csumOff, skipOff, got, want)
		}
		// Chained over a split, as libpmemobj's entries and generations.
		cut := 4 * r.IntN(n/4+1)
		if got, want := ChecksumSeq(b[cut:], ChecksumSeq(b[:cut], 0)), checksumWords(b, -1, 0); got != want {
			t.Fatalf("ChecksumSeq of %d bytes cut at %d: %#x, want %#x", n, cut, got, want)
		}
	}
}
