package pmempool

import (
	"encoding/binary"
	"os"
	"time"

	blklayout "github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	objlayout "github.com/gopmdk/pmdk/obj/layout"
)

type hdrState struct {
	typeFromBTT bool // the signature was unknown, a valid BTT made it blk
}

// headerValid is C's pool_hdr_valid: not all zeros and a correct checksum.
func headerValid(b []byte) bool {
	h, err := pool.DecodeHeader(b)
	if err != nil || pool.IsZero(b[:pool.HeaderSize]) {
		return false
	}
	return h.ComputeChecksum() == h.Checksum
}

func (c *checker) header() *pool.Header {
	h, err := pool.DecodeHeader(c.im.b)
	if err != nil {
		panic(err) // the image is at least 8 KiB: cannot happen
	}
	return h
}

// writeHeader stores h in the image as it is (checksum included).
func (c *checker) writeHeader(h *pool.Header) {
	sum := h.Checksum
	buf := make([]byte, pool.HeaderSize)
	h.Encode(buf) // sets the checksum: put the old one back
	h.Checksum = sum
	le := buf[pool.HeaderSize-8:]
	for i := range 8 {
		le[i] = byte(sum >> (8 * i))
	}
	c.im.write(0, buf)
}

// deviceSDS returns the unsafe shutdown count and device id checksum the
// pool's devices report now (zeros where not supported, as C).
func (c *checker) deviceSDS() (usc, id uint64) {
	f, err := os.Open(c.path)
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	src, err := core.FromFile(f)
	if err != nil {
		return 0, 0
	}
	if n, err := src.UnsafeShutdownCount(); err == nil {
		usc = n
	}
	if s, err := src.DeviceID(); err == nil {
		id = pool.DeviceIDChecksum(s, true)
	}
	return usc, id
}

// checkSDS is check_sds for a single-file pool.
func (c *checker) checkSDS() error {
	c.infof("checking shutdown state")
	h := c.header()
	ignore := h.Incompat&pool.FeatSDS == 0
	ok := true
	if ignore {
		ok = h.SDS.IsZero()
	} else if !h.SDS.IsZero() && h.SDS.ChecksumOK() && h.SDS.Dirty != 0 {
		usc, id := c.deviceSDS()
		ok = h.SDS.USC == usc && h.SDS.DeviceID == id
	}
	if ok {
		c.infof("shutdown state correct")
		return nil
	}
	problem, question := "an ADR failure was detected - your pool might be corrupted",
		"Do you want to reset shutdown state at your own risk? If you have more then one replica you will have to synchronize your pool after this operation."
	if ignore {
		problem, question = "shutdown state is dirty", "Do you want to zero shutdown state?"
	}
	if !c.o.Repair {
		return c.stop(NotConsistent, "%s", problem)
	}
	yes, err := c.ask(problem+".|"+question, false)
	if err != nil {
		return err
	}
	if !yes {
		return c.stop(NotConsistent, "cannot complete repair, reverting changes")
	}
	c.infof("resetting pool_hdr.sds")
	h.SDS = pool.ShutdownState{}
	c.writeHeader(h)
	c.fixed()
	return nil
}

// checkHeader is check_pool_hdr and check_pool_hdr_uuids for a single-file
// pool. As C, when it changed the header it takes the pool type and
// whether the file is a poolset part from the new header.
func (c *checker) checkHeader() error {
	n := len(c.im.dirty)
	err := c.checkHeaderFields()
	if len(c.im.dirty) > n {
		h := c.header()
		c.isPart = h.UUID != h.NextPartUUID || h.UUID != h.PrevPartUUID
		c.typ = typeOfSignature(h.SignatureString())
	}
	return err
}

func (c *checker) checkHeaderFields() error {
	c.infof("checking pool header")
	b := c.im.b[:pool.HeaderSize]
	valid := headerValid(b)
	switch {
	case pool.IsZero(b):
		if !c.o.Repair {
			return c.stop(NotConsistent, "empty pool hdr")
		}
	case valid && c.typ == TypeUnknown:
		if !c.o.Repair {
			return c.stop(NotConsistent, "invalid signature")
		}
		c.infof("invalid signature")
	case valid:
		c.infof("pool header correct")
		return nil
	default:
		if !c.o.Repair {
			return c.stop(NotConsistent, "incorrect pool header")
		}
		c.infof("incorrect pool header")
	}
	if c.typ == TypeUnknown {
		if off, _, _ := c.im.firstValidBTT(blklayout.BTTOffset); off != 0 {
			c.typ, c.hdr.typeFromBTT = TypeBlk, true
		} else if objDescriptorValid(c.im.b) {
			// Beyond C (which does not repair obj pools): an obj
			// descriptor whose checksum holds makes the pool obj.
			c.typ = TypeObj
		} else {
			return c.stop(CannotRepair, "cannot determine pool type")
		}
	}
	k := kindOf(c.typ)
	h := c.header()

	// Fields with one right value (pool_hdr_default_check).
	var sig [8]byte
	copy(sig[:], k.Signature)
	def := []fix{
		{h.Signature != sig, "pool_hdr.signature is not valid.|Do you want to set it to " + k.Signature + "?",
			"setting pool_hdr.signature to " + k.Signature, func() { h.Signature = sig }, false},
		{h.Major != k.Major, sprintf("pool_hdr.major is not valid.|Do you want to set it to default value 0x%x?", k.Major),
			sprintf("setting pool_hdr.major to 0x%x", k.Major), func() { h.Major = k.Major }, false},
		{h.Compat&^k.Compat != 0, sprintf("pool_hdr.features.compat is not valid.|Do you want to set it to default value 0x%x?", k.Compat),
			sprintf("setting pool_hdr.features.compat to 0x%x", k.Compat), func() { h.Compat = k.Compat }, false},
		{h.Incompat&^k.Incompat != 0, sprintf("pool_hdr.features.incompat is not valid.|Do you want to set it to default value 0x%x?", k.Incompat),
			sprintf("setting pool_hdr.features.incompat to 0x%x", k.Incompat), func() { h.Incompat = k.Incompat }, false},
		{h.ROCompat&^k.ROCompat != 0, sprintf("pool_hdr.features.ro_compat is not valid.|Do you want to set it to default value 0x%x?", k.ROCompat),
			sprintf("setting pool_hdr.features.ro_compat to 0x%x", k.ROCompat), func() { h.ROCompat = k.ROCompat }, false},
		{!pool.IsZero(h.Unused[:]), "unused area is not filled by zeros.|Do you want to fill it up?",
			"setting pool_hdr.unused to zeros", func() { h.Unused = [len(h.Unused)]byte{} }, false},
	}
	if err := c.applyFixes(h, def); err != nil {
		return err
	}
	if headerValid(c.im.b) {
		return nil
	}

	// Creation time (pool_hdr_nondefault; arch flags need another part).
	if h.CrTime > uint64(c.im.mtime) {
		const e = "pool_hdr.crtime is not valid"
		if c.typ == TypeObj {
			return c.stopObjHeader(e)
		}
		if !c.o.Advanced {
			c.infof("%s", requireAdvanced)
			return c.stop(CannotRepair, "%s", e)
		}
		mt := time.Unix(c.im.mtime, 0).Format("Mon Jan 02 2006 15:04:05")
		if err := c.applyFixes(h, []fix{{true, e + ".|Do you want to set it to file's modtime [" + mt + "]?",
			"setting pool_hdr.crtime to file's modtime: " + mt, func() { h.CrTime = uint64(c.im.mtime) }, true}}); err != nil {
			return err
		}
	}

	// UUIDs (check_pool_hdr_uuids). A blk pool's BTT names the poolset;
	// C consults it only when the BTT told the pool type.
	if off, in, _ := c.im.firstValidBTT(blklayout.BTTOffset); c.hdr.typeFromBTT && off != 0 && pool.UUID(in.ParentUUID) != h.PoolsetUUID {
		pu := pool.UUID(in.ParentUUID)
		if err := c.applyFixes(h, []fix{{true, "invalid pool_hdr.poolset_uuid.|Do you want to set it to " + pu.String() + " from BTT Info?",
			"setting pool_hdr.poolset_uuid to " + pu.String(), func() { h.PoolsetUUID = pu }, false}}); err != nil {
			return err
		}
	}
	// A single file links to itself: its four links name its UUID.
	if !headerValid(c.im.b) {
		links := []pool.UUID{h.PrevPartUUID, h.NextPartUUID, h.PrevReplUUID, h.NextReplUUID}
		common := links[0] == links[1] && links[0] == links[2] && links[0] == links[3]
		switch {
		case common && h.UUID != links[0]:
			u := links[0]
			if err := c.applyFixes(h, []fix{{true, "invalid pool_hdr.uuid.|Do you want to set it to " + u.String() + " from a valid part file?",
				"setting pool_hdr.uuid to " + u.String(), func() { h.UUID = u }, false}}); err != nil {
				return err
			}
		case !common && c.typ == TypeObj:
			return c.stopObjHeader("invalid pool_hdr.uuid")
		case !common && c.o.Advanced:
			u := pool.NewUUID()
			if err := c.applyFixes(h, []fix{{true, "invalid pool_hdr.uuid.|Do you want to regenerate it?",
				"setting pool_hdr.uuid to " + u.String(), func() { h.UUID = u }, true}}); err != nil {
				return err
			}
		case !common:
			c.infof("%s", requireAdvanced)
			return c.stop(CannotRepair, "invalid pool_hdr.uuid")
		}
		names := []string{"pool_hdr.next_part_uuid", "pool_hdr.prev_part_uuid", "pool_hdr.next_repl_uuid", "pool_hdr.prev_repl_uuid"}
		ptrs := []*pool.UUID{&h.NextPartUUID, &h.PrevPartUUID, &h.NextReplUUID, &h.PrevReplUUID}
		var lf []fix
		for i, p := range ptrs {
			if *p != h.UUID {
				p := p
				lf = append(lf, fix{true, "invalid " + names[i] + ".|Do you want to set it to a valid value?",
					"setting " + names[i] + " to " + h.UUID.String(), func() { *p = h.UUID }, false})
			}
		}
		if err := c.applyFixes(h, lf); err != nil {
			return err
		}
	}
	if !headerValid(c.im.b) {
		const e = "invalid pool_hdr.checksum"
		if c.typ == TypeObj {
			return c.stopObjHeader(e)
		}
		if !c.o.Advanced {
			c.infof("%s", requireAdvanced)
			return c.stop(CannotRepair, "%s", e)
		}
		yes, err := c.ask(e+".|Do you want to regenerate checksum?", true)
		if err != nil || !yes {
			return err
		}
		h.Checksum = h.ComputeChecksum()
		c.infof("setting pool_hdr.checksum to 0x%x", h.Checksum)
		c.writeHeader(h)
		c.fixed()
	}
	return nil
}

// fix is one header repair: whether it applies, the question, the
// message once done and the change.
type fix struct {
	bad      bool
	msg      string
	info     string
	apply    func()
	advanced bool
}

// applyFixes asks each question of fixes that applies, then applies them
// all and stores the header, as one step of C's checker does.
func (c *checker) applyFixes(h *pool.Header, fixes []fix) error {
	var todo []func()
	var infos []string
	for _, f := range fixes {
		if !f.bad {
			continue
		}
		yes, err := c.ask(f.msg, true)
		if err != nil {
			return err
		}
		if yes {
			todo = append(todo, f.apply)
			infos = append(infos, f.info)
		}
	}
	for i, f := range todo {
		c.infof("%s", infos[i])
		f()
	}
	if len(todo) > 0 {
		c.writeHeader(h)
		c.fixed()
	}
	return nil
}

// stopObjHeader refuses a repair of an obj pool's header that would not
// restore the header as it was written (a new checksum, UUID or crtime):
// the damaged field might be the poolset UUID, from which the pool's id
// in every PMEMoid (pool_uuid_lo) comes, and a header made valid around
// it would cut every persistent pointer of the pool. C repairs no obj
// pool.
func (c *checker) stopObjHeader(problem string) error {
	c.infof("the header of an obj pool is repaired only where its right value is known: a new checksum could validate a damaged poolset_uuid, the pool's id in every PMEMoid")
	return c.stop(CannotRepair, "%s", problem)
}

// objDescriptorValid reports whether b holds an obj descriptor whose
// checksum is right (b is at least two pages: the checker's minimum).
func objDescriptorValid(b []byte) bool {
	sum := binary.LittleEndian.Uint64(b[objlayout.DescChecksumAt:])
	return !pool.IsZero(b[objlayout.DescOffset:objlayout.DescChecksumAt]) && objlayout.DescChecksum(b) == sum
}
