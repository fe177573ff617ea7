package layout

import "encoding/binary"

// Flog is one flog entry (struct btt_flog). A pair of them per free block
// records the last write through that block; the entry with the later
// sequence number is current ([CurrentFlog]).
type Flog struct {
	LBA    uint32 // 0: pre-map block the entry is about
	OldMap uint32 // 4: the map entry it replaced: the free block once done
	NewMap uint32 // 8: the map entry written
	Seq    uint32 // 12: 1, 2, 3, 1, ... (NextSeq); 0 = never written
}

// DecodeFlog reads the flog entry in b (at least FlogSize bytes).
func DecodeFlog(b []byte) Flog {
	le := binary.LittleEndian
	return Flog{LBA: le.Uint32(b), OldMap: le.Uint32(b[4:]), NewMap: le.Uint32(b[8:]), Seq: le.Uint32(b[12:FlogSize])}
}

// DecodeFlogPair reads the flog pair in b (at least 2*FlogSize bytes).
func DecodeFlogPair(b []byte) [2]Flog {
	return [2]Flog{DecodeFlog(b), DecodeFlog(b[FlogSize:])}
}

// Encode writes f into b (FlogSize bytes). The BTT itself updates live
// entries in two 8-byte halves (lba and old_map, then new_map and seq), so
// that an entry becomes current only once complete; Encode is for images
// (layout writes, repairs).
func (f Flog) Encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], f.LBA)
	le.PutUint32(b[4:], f.OldMap)
	le.PutUint32(b[8:], f.NewMap)
	le.PutUint32(b[12:FlogSize], f.Seq)
}

// InitialFlog is the first entry of flog pair i of an arena with
// externalNLBA blocks as the layout writes it: free block
// externalNLBA+i, marked zero, sequence number 1. The pair's second entry
// is all zeros.
func InitialFlog(i, externalNLBA uint32) Flog {
	e := (externalNLBA + i) | MapZero
	return Flog{LBA: i, OldMap: e, NewMap: e, Seq: 1}
}

// NextSeq is the sequence number after s: 1 → 2 → 3 → 1. Like C's NSEQ it
// looks at the low two bits only, so 7 is followed by 1 as 3 is.
func NextSeq(s uint32) uint32 { return [4]uint32{0, 2, 3, 1}[s&3] }

// CurrentFlog picks the current entry of a flog pair exactly as
// libpmemblk (btt_flog_get_valid) and pmempool check do: equal sequence
// numbers mean no current entry (ok false); an entry with sequence number
// 0 was never written and the other one is current; otherwise the second
// entry is current when its number follows the first's (NextSeq), else the
// first is.
//
// Sequence numbers above 3 are not rejected, as they are not in C: C's
// runtime opens such a pool and keeps writing through the pair (tested
// against libpmemblk in blk's TestInteropFlogSeq7). Where the number
// breaks the cycle the first entry wins, even when it is the stale one;
// package blk then refuses writes to the arena if that stale entry's free
// block is in use (see its doc), where C would overwrite a live block.
func CurrentFlog(p [2]Flog) (cur int, ok bool) {
	switch {
	case p[0].Seq == p[1].Seq:
		return 0, false
	case p[0].Seq == 0:
		return 1, true
	case p[1].Seq == 0:
		return 0, true
	case NextSeq(p[0].Seq) == p[1].Seq:
		return 1, true
	}
	return 0, true
}
