package pmempool

import (
	"encoding/binary"
	"slices"

	blklayout "github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core/pool"
)

type arena struct {
	id        int
	off       uint64 // of the info block, in the file
	info      blklayout.Info
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
	bsize := c.im.u32(blklayout.BSizeAt)
	off, in, zeroed := c.im.firstValidBTT(blklayout.BTTOffset)
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
			c.im.putU32(blklayout.BSizeAt, in.ExternalLBASize)
			c.fixed()
			return nil // C says "correct" only when it asked nothing
		}
	case !zeroed:
		if bsize < blklayout.MinLBASize || bsize >= blklayout.MaxBSize(c.im.size) {
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
	validOff, validInfo, _ := c.im.firstValidBTT(blklayout.BTTOffset)
	off := uint64(blklayout.BTTOffset)
	for id := 0; ; id++ {
		b, err := c.im.bytes(off, blklayout.InfoSize, sprintf("arena %d: BTT Info header", id))
		if err != nil {
			return c.stop(CheckError, "arena %d: cannot read BTT Info header", id)
		}
		if id == 0 && pool.IsZero(b) {
			c.infof("BTT Layout not written")
			c.blk.noLayout = true
			return nil
		}
		a := &arena{id: id, off: off, raw: slices.Clone(b)}
		hdrOK := blklayout.InfoValid(a.raw)
		if hdrOK {
			c.infof("arena %d: BTT Info header checksum correct", id)
		} else if !c.o.Repair {
			return c.stop(NotConsistent, "arena %d: BTT Info header checksum incorrect", id)
		}
		next := c.im.nextArenaOffset(off)
		if next < off+2*blklayout.InfoSize {
			return c.stop(CheckError, "arena %d: cannot read BTT Info backup", id)
		}
		bk := c.im.b[next-blklayout.InfoSize : next]
		backupOK := blklayout.InfoValid(bk)
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
				arenaSize := min(c.im.size-off, blklayout.MaxArena)
				in, ok := blklayout.ArenaInfo(validInfo.ExternalLBASize, validInfo.NFree, arenaSize, c.im.size-off-arenaSize)
				if !ok {
					return c.stop(CannotRepair, "can not restore BTT Info")
				}
				// Identity from the valid block, geometry computed, the
				// unused area cleared; the checksum stays as it was.
				in.Sig, in.UUID, in.ParentUUID = validInfo.Sig, validInfo.UUID, validInfo.ParentUUID
				in.Flags, in.Major, in.Minor = validInfo.Flags, validInfo.Major, validInfo.Minor
				in.Checksum = blklayout.DecodeInfo(a.raw).Checksum
				in.Encode(a.raw)
				a.writeInfo = true
				c.fixed()
			}
			if blklayout.InfoValid(a.raw) {
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
					binary.LittleEndian.PutUint64(a.raw[blklayout.InfoChecksumAt:], blklayout.InfoChecksum(a.raw))
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
		a.info = blklayout.DecodeInfo(a.raw)
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

// arenaBounds checks that the map, flog and backup info of a lie inside
// the arena, so that the scans below cannot leave the file. C would fail
// to read them (CheckError) or crash.
func (c *checker) arenaBounds(a *arena) error {
	in := &a.info
	room := c.im.nextArenaOffset(a.off) - a.off // checkBTTInfo made sure of two info blocks
	inArena := func(ar blklayout.Area) bool {
		end, ok := ar.End()
		return ok && end <= room
	}
	switch {
	case in.InternalLBASize < blklayout.MinLBASize || in.InternalNLBA < in.NFree || in.ExternalNLBA > in.InternalNLBA || in.NFree == 0:
		return c.stop(CheckError, "arena %d: invalid BTT Info geometry", a.id)
	case !inArena(in.DataArea()):
		// Bounds the per-block bitmaps below by the file size too.
		return c.stop(CheckError, "arena %d: cannot read BTT data area", a.id)
	case !inArena(in.MapArea()):
		return c.stop(CheckError, "arena %d: cannot read BTT Map", a.id)
	case !inArena(in.FlogArea()):
		return c.stop(CheckError, "arena %d: cannot read BTT Flog", a.id)
	case !inArena(in.BackupArea()):
		return c.stop(CheckError, "arena %d: cannot read BTT Info backup", a.id)
	}
	return nil
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
		e := c.im.u32(mapAt + uint64(i)*blklayout.MapEntrySize)
		if e&blklayout.MapFlagMask == 0 {
			return i
		}
		return e & blklayout.MapLBAMask
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
		p := flogAt + uint64(i)*blklayout.FlogPairSize
		pair := blklayout.DecodeFlogPair(c.im.b[p:])
		cur, ok := blklayout.CurrentFlog(pair)
		if !ok {
			c.infof("arena %d: invalid BTT Flog entry at %d", a.id, i)
			flogInval = append(flogInval, i)
			continue
		}
		f := pair[cur]
		old, nw := f.OldMap&blklayout.MapLBAMask, f.NewMap&blklayout.MapLBAMask
		switch {
		case f.LBA >= in.ExternalNLBA || old >= n || nw >= n:
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
				valid = cur == 0 && f.Seq == 1 && pair[1] == blklayout.Flog{}
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
			e := blklayout.MapError | lba
			c.im.putU32(mapAt+uint64(i)*blklayout.MapEntrySize, e)
			dup[lba] = false
			c.infof("arena %d: storing 0x%x at %d BTT Map entry", a.id, e, i)
		}
		for _, i := range inval {
			e := unmap[0] | blklayout.MapError
			unmap = unmap[1:]
			c.im.putU32(mapAt+uint64(i)*blklayout.MapEntrySize, e)
			c.infof("arena %d: storing 0x%x at %d BTT Map entry", a.id, e, i)
		}
		c.fixed()
	}
	if fixFlog {
		for _, i := range flogInval {
			e := unmap[0] | blklayout.MapError
			unmap = unmap[1:]
			p := flogAt + uint64(i)*blklayout.FlogPairSize
			var b [2 * blklayout.FlogSize]byte
			blklayout.Flog{LBA: i, OldMap: e, NewMap: e, Seq: 1}.Encode(b[:])
			c.im.write(p, b[:])
			c.infof("arena %d: repairing BTT Flog at %d with free block entry 0x%x", a.id, i, e)
		}
		c.fixed()
	}
	return nil
}
