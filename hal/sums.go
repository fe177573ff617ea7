package hal

import "encoding/binary"

// Sums32 returns the two running sums of a Fletcher checksum over the
// little-endian 32-bit words w_0..w_{n-1} of b, whose length must be a
// multiple of 4: s = Σ w_k and t = Σ (n-k)·w_k, both modulo 2^32. A
// checksum that starts at (lo, hi) ends at (lo+s, hi+n·lo+t), which is how
// PMDK's util_checksum_seq runs; the kernel computes it without the
// word-by-word dependency chain of the plain loop.
func Sums32(b []byte) (s, t uint32) {
	if len(b)%4 != 0 {
		panic("hal: Sums32 of a length not a multiple of 4")
	}
	head := len(b) &^ (sumsBlock - 1)
	if head > 0 {
		s, t = sums32Blocks(b[:head])
	}
	if tail := b[head:]; len(tail) > 0 {
		ts, tt := sums32Generic(tail)
		// The tail's words come after the head's: each of them adds the
		// head's sum once more to t.
		t += uint32(len(tail)/4)*s + tt
		s += ts
	}
	return s, t
}

// sums32Generic is Sums32 in Go, eight words a step: after words w_0..w_7,
// s grows by their sum and t by 8·s plus the sum of their prefix sums.
func sums32Generic(b []byte) (s, t uint32) {
	for len(b) >= 32 {
		b = b[:len(b):len(b)]
		w0 := binary.LittleEndian.Uint32(b[0:])
		w1 := binary.LittleEndian.Uint32(b[4:])
		w2 := binary.LittleEndian.Uint32(b[8:])
		w3 := binary.LittleEndian.Uint32(b[12:])
		w4 := binary.LittleEndian.Uint32(b[16:])
		w5 := binary.LittleEndian.Uint32(b[20:])
		w6 := binary.LittleEndian.Uint32(b[24:])
		w7 := binary.LittleEndian.Uint32(b[28:])
		p1 := w0 + w1
		p3 := p1 + w2 + w3
		p5 := p3 + w4 + w5
		p7 := p5 + w6 + w7
		t += s<<3 + w0 + p1 + (p1 + w2) + p3 + (p3 + w4) + p5 + (p5 + w6) + p7
		s += p7
		b = b[32:]
	}
	for i := 0; i+4 <= len(b); i += 4 {
		s += binary.LittleEndian.Uint32(b[i:])
		t += s
	}
	return s, t
}
