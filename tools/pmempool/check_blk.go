package pmempool

import (
	"encoding/binary"
	"slices"
)

type arena struct {
	id        int
	off       uint64 // of the info block, in the file
	info      bttInfo
	raw       []byte // the info block as it will be written (header and backup)
	writeInfo bool   // header or backup info block to be written
}

type blkState struct {
	arenas   []*arena
	noLayout bool
}

// checkBlk is check_blk, check_btt_info and check_btt_map_flog.
func (c *checker) checkBlk() error {
	if err := c.checkBlkHeader(); err != nil {
		return err
	}
	if err := c.checkBTTInfo(); err != nil || c.blk.noLayout {
		return err
	}
	c.infof("checking BTT Map and Flog")
	for _, a := range c.blk.arenas {
		c.infof("arena %d: checking BTT Map and Flog", a.id)
		if err := c.checkMapFlog(a); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) checkBlkHeader() error {
	c.infof("checking pmemblk header")
	bsize := c.im.u32(blkBSizeAt)
	off, in, zeroed := c.im.firstValidBTT(blkBTTOff)
	switch {
	case off != 0:
		if bsize != in.ExternalLBASize && !c.o.Repair {
			// C reports this one but keeps the verdict consistent: the
			// BTT, not this field, holds the block size libpmemblk uses.
			c.infof("pmemblk header correct")
			c.errorf("invalid pmemblk.bsize")
			return nil
		}
		if bsize != in.ExternalLBASize {
			yes, err := c.ask(sprintf("invalid pmemblk.bsize.|Do you want to set pmemblk.bsize to %d from BTT Info?", in.ExternalLBASize), true)
			if err != nil {
				return err
			}
			if !yes {
				c.res = NotConsistent
				return errStop
			}
			c.infof("setting pmemblk.b_size to 0x%x", in.ExternalLBASize)
			c.im.putU32(blkBSizeAt, in.ExternalLBASize)
			c.fixed()
			return nil // C says "correct" only when it asked nothing
		}
	case !zeroed:
		if bsize < bttMinLBA || bsize >= blkMaxBSize(c.im.size) {
			return c.stop(CannotRepair, "invalid pmemblk.bsize")
		}
	}
	if c.res == Consistent || c.res == Repaired {
		c.infof("pmemblk header correct")
	}
	return nil
}

// checkBTTInfo is check_btt_info: each arena's info block and its backup.
func (c *checker) checkBTTInfo() error {
	c.infof("checking BTT Info headers")
	validOff, validInfo, _ := c.im.firstValidBTT(blkBTTOff)
	off := uint64(blkBTTOff)
	for id := 0; ; id++ {
		b, err := c.im.bytes(off, bttInfoSize, sprintf("arena %d: BTT Info header", id))
		if err != nil {
			return c.stop(CheckError, "arena %d: cannot read BTT Info header", id)
		}
		if id == 0 && isZero(b) {
			c.infof("BTT Layout not written")
			c.blk.noLayout = true
			return nil
		}
		a := &arena{id: id, off: off, raw: slices.Clone(b)}
		hdrOK := bttInfoValid(a.raw)
		if hdrOK {
			c.infof("arena %d: BTT Info header checksum correct", id)
		} else if !c.o.Repair {
			return c.stop(NotConsistent, "arena %d: BTT Info header checksum incorrect", id)
		}
		next := c.im.nextArenaOffset(off)
		if next < off+2*bttInfoSize {
			return c.stop(CheckError, "arena %d: cannot read BTT Info backup", id)
		}
		bk := c.im.b[next-bttInfoSize : next]
		backupOK := bttInfoValid(bk)
		if backupOK && !hdrOK {
			yes, err := c.ask(sprintf("arena %d: BTT Info header checksum incorrect.|Restore BTT Info from backup?", id), true)
			if err != nil {
				return err
			}
			if yes {
				c.infof("arena %d: restoring BTT Info header from backup", id)
				copy(a.raw, bk)
				hdrOK, a.writeInfo = true, true
				c.fixed()
			}
		}
		if !hdrOK {
			if validOff == 0 {
				return c.stop(NotConsistent, "can not find any valid BTT Info")
			}
			yes, err := c.ask(sprintf("arena %d: BTT Info header checksum incorrect.|Do you want to regenerate BTT Info?", id), true)
			if err != nil {
				return err
			}
			if yes {
				c.infof("arena %d: regenerating BTT Info header", id)
				arenaSize := min(c.im.size-off, bttMaxArena)
				in := decodeBTTInfo(a.raw)
				in.Sig, in.UUID, in.ParentUUID = validInfo.Sig, validInfo.UUID, validInfo.ParentUUID
				in.Flags, in.Major, in.Minor = validInfo.Flags, validInfo.Major, validInfo.Minor
				if !in.setArenaGeometry(validInfo.ExternalLBASize, validInfo.NFree, arenaSize, c.im.size-off-arenaSize) {
					return c.stop(CannotRepair, "can not restore BTT Info")
				}
				clear(a.raw[120 : bttInfoSize-8])
				in.encode(a.raw)
				a.writeInfo = true
				c.fixed()
			}
			if bttInfoValid(a.raw) {
				c.infof("arena %d: BTT Info header checksum correct", id)
			} else {
				if !c.o.Advanced {
					c.infof("%s", requireAdvanced)
					return c.stop(CannotRepair, "arena %d: BTT Info header checksum incorrect", id)
				}
				yes, err := c.ask(sprintf("arena %d: BTT Info header checksum incorrect.|Do you want to regenerate BTT Info checksum?", id), true)
				if err != nil {
					return err
				}
				if yes {
					binary.LittleEndian.PutUint64(a.raw[bttInfoSize-8:], computeInfoChecksum(a.raw))
					a.writeInfo = true
					c.fixed()
				}
			}
		}
		if !backupOK {
			if !c.o.Repair {
				return c.stop(NotConsistent, "arena %d: BTT Info backup checksum incorrect", id)
			}
			yes, err := c.ask(sprintf("arena %d: BTT Info backup checksum incorrect.|Do you want to restore it from BTT Info header?", id), true)
			if err != nil {
				return err
			}
			if yes {
				c.infof("arena %d: restoring BTT Info backup from header", id)
				a.writeInfo = true
				c.fixed()
			}
		}
		a.info = decodeBTTInfo(a.raw)
		if err := c.arenaBounds(a); err != nil {
			return err
		}
		c.blk.arenas = append(c.blk.arenas, a)
		if a.writeInfo {
			c.im.write(a.off, a.raw)
			c.im.write(a.off+a.info.InfoOff, a.raw)
		}
		if a.info.NextOff == 0 {
			return nil
		}
		n := off + a.info.NextOff
		if n < off || n >= c.im.size {
			return c.stop(CheckError, "arena %d: cannot read BTT Info header", id+1)
		}
		off = n
	}
}

func computeInfoChecksum(b []byte) uint64 {
	return checksumSkip(b[:bttInfoSize], bttInfoSize-8)
}

// arenaBounds checks that the map, flog and backup info of a lie inside
// the arena, so that the scans below cannot leave the file. C would fail
// to read them (CheckError) or crash.
func (c *checker) arenaBounds(a *arena) error {
	in := &a.info
	arenaEnd := c.im.nextArenaOffset(a.off)
	inArena := func(off, n uint64) bool {
		s := a.off + off
		e := s + n
		return s >= a.off && e >= s && e <= arenaEnd
	}
	switch {
	case in.InternalLBASize < bttMinLBA || in.InternalNLBA < in.NFree || in.ExternalNLBA > in.InternalNLBA || in.NFree == 0:
		return c.stop(CheckError, "arena %d: invalid BTT Info geometry", a.id)
	case !inArena(in.DataOff, uint64(in.InternalNLBA)*uint64(in.InternalLBASize)):
		// Bounds the per-block bitmaps below by the file size too.
		return c.stop(CheckError, "arena %d: cannot read BTT data area", a.id)
	case !inArena(in.MapOff, uint64(in.ExternalNLBA)*bttMapEntry):
		return c.stop(CheckError, "arena %d: cannot read BTT Map", a.id)
	case !inArena(in.FlogOff, uint64(in.NFree)*bttFlogPair):
		return c.stop(CheckError, "arena %d: cannot read BTT Flog", a.id)
	case !inArena(in.InfoOff, bttInfoSize):
		return c.stop(CheckError, "arena %d: cannot read BTT Info backup", a.id)
	}
	return nil
}

type flogEntry struct{ lba, oldMap, newMap, seq uint32 }

func (c *checker) flogAt(off uint64) flogEntry {
	return flogEntry{c.im.u32(off), c.im.u32(off + 4), c.im.u32(off + 8), c.im.u32(off + 12)}
}

func (c *checker) putFlog(off uint64, f flogEntry) {
	var b [bttFlogSize]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], f.lba)
	le.PutUint32(b[4:], f.oldMap)
	le.PutUint32(b[8:], f.newMap)
	le.PutUint32(b[12:], f.seq)
	c.im.write(off, b[:])
}

// validFlog picks the current entry of a pair as btt_flog_get_valid does:
// cur is its index, ok false when the pair has none.
func validFlog(p [2]flogEntry) (cur int, ok bool) {
	next := func(s uint32) uint32 { return [4]uint32{0, 2, 3, 1}[s&3] }
	switch {
	case p[0].seq == p[1].seq:
		return 0, false
	case p[0].seq == 0:
		return 1, true
	case p[1].seq == 0:
		return 0, true
	case next(p[0].seq) == p[1].seq:
		return 1, true
	}
	return 0, true
}

// checkMapFlog is check_btt_map_flog for one arena: every internal block
// must be used exactly once, by the map or as a flog pair's free block.
func (c *checker) checkMapFlog(a *arena) error {
	in := &a.info
	mapAt := a.off + in.MapOff
	flogAt := a.off + in.FlogOff
	n := in.InternalNLBA
	used := make([]bool, n)
	dup := make([]bool, n)
	free := make([]bool, n)
	var inval, flogInval, unmap []uint32
	postmap := func(i uint32) uint32 {
		e := c.im.u32(mapAt + uint64(i)*bttMapEntry)
		if e&bttMapFlagMask == 0 {
			return i
		}
		return e & bttMapLBAMask
	}
	total := uint64(in.ExternalNLBA) + uint64(in.NFree) + uint64(n)
	progress := func(done uint64) {
		if c.o.Progress != nil && done%(1<<16) == 0 {
			c.o.Progress(done, total)
		}
	}
	for i := range in.ExternalNLBA {
		progress(uint64(i))
		lba := postmap(i)
		switch {
		case lba >= n:
			c.infof("arena %d: invalid BTT Map entry at %d", a.id, i)
			inval = append(inval, i)
		case used[lba]:
			c.infof("arena %d: BTT Map entry %d duplicated at %d", a.id, lba, i)
			dup[lba] = true
			inval = append(inval, i)
		default:
			used[lba] = true
		}
	}
	for i := range in.NFree {
		p := flogAt + uint64(i)*bttFlogPair
		pair := [2]flogEntry{c.flogAt(p), c.flogAt(p + bttFlogSize)}
		cur, ok := validFlog(pair)
		if !ok {
			c.infof("arena %d: invalid BTT Flog entry at %d", a.id, i)
			flogInval = append(flogInval, i)
			continue
		}
		f := pair[cur]
		old, nw := f.oldMap&bttMapLBAMask, f.newMap&bttMapLBAMask
		switch {
		case f.lba >= in.ExternalNLBA || old >= n || nw >= n:
			c.infof("arena %d: invalid BTT Flog entry at %d", a.id, i)
			flogInval = append(flogInval, i)
		case free[old]:
			c.infof("arena %d: duplicated BTT Flog entry at %d\n", a.id, i)
			flogInval = append(flogInval, i)
		case used[old]:
			if used[nw] {
				c.infof("arena %d: duplicated BTT Flog entry at %d", a.id, i)
				dup[nw] = true
				flogInval = append(flogInval, i)
			} else {
				used[nw], free[old] = true, true
			}
		default:
			valid := true
			if old == nw {
				valid = cur == 0 && f.seq == 1 && pair[1] == flogEntry{}
			}
			if valid {
				used[old], free[old] = true, true
			} else {
				c.infof("arena %d: invalid BTT Flog entry at %d", a.id, i)
				flogInval = append(flogInval, i)
			}
		}
	}
	for i := range n {
		progress(uint64(in.ExternalNLBA) + uint64(in.NFree) + uint64(i))
		if !used[i] {
			c.infof("arena %d: unmapped block %d", a.id, i)
			unmap = append(unmap, i)
		}
	}
	if c.o.Progress != nil {
		c.o.Progress(total, total)
	}
	if len(unmap) > 0 {
		c.infof("arena %d: number of unmapped blocks: %d", a.id, len(unmap))
	}
	if len(inval) > 0 {
		c.infof("arena %d: number of invalid BTT Map entries: %d", a.id, len(inval))
	}
	if len(flogInval) > 0 {
		c.infof("arena %d: number of invalid BTT Flog entries: %d", a.id, len(flogInval))
	}
	if !c.o.Repair && len(unmap) > 0 {
		c.res = NotConsistent
		return errStop
	}
	if len(unmap) != len(inval)+len(flogInval) {
		return c.stop(CannotRepair, "arena %d: cannot repair BTT Map and Flog", a.id)
	}
	if len(inval)+len(flogInval) == 0 {
		return nil
	}
	if !c.o.Advanced {
		c.infof("%s", requireAdvanced)
		return c.stop(CannotRepair, "BTT Map and / or BTT Flog contain invalid entries")
	}
	fixMap, fixFlog := false, false
	var err error
	if len(inval) > 0 {
		if fixMap, err = c.ask("Do you want to repair invalid BTT Map entries?", true); err != nil {
			return err
		}
	}
	if len(flogInval) > 0 {
		if fixFlog, err = c.ask("Do you want to repair invalid BTT Flog entries?", true); err != nil {
			return err
		}
	}
	// C keeps these lists as stacks: the last entry found is paired first.
	slices.Reverse(inval)
	slices.Reverse(flogInval)
	slices.Reverse(unmap)
	if fixMap {
		for i := range in.ExternalNLBA {
			lba := postmap(i)
			if lba >= n || !dup[lba] {
				continue
			}
			e := bttMapError | lba
			c.im.putU32(mapAt+uint64(i)*bttMapEntry, e)
			dup[lba] = false
			c.infof("arena %d: storing 0x%x at %d BTT Map entry", a.id, e, i)
		}
		for _, i := range inval {
			e := unmap[0] | bttMapError
			unmap = unmap[1:]
			c.im.putU32(mapAt+uint64(i)*bttMapEntry, e)
			c.infof("arena %d: storing 0x%x at %d BTT Map entry", a.id, e, i)
		}
		c.fixed()
	}
	if fixFlog {
		for _, i := range flogInval {
			e := unmap[0] | bttMapError
			unmap = unmap[1:]
			p := flogAt + uint64(i)*bttFlogPair
			c.putFlog(p+bttFlogSize, flogEntry{})
			c.putFlog(p, flogEntry{lba: i, oldMap: e, newMap: e, seq: 1})
			c.infof("arena %d: repairing BTT Flog at %d with free block entry 0x%x", a.id, i, e)
		}
		c.fixed()
	}
	return nil
}
