package pmempool

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	blklayout "github.com/gopmdk/pmdk/blk/layout"
)

// InfoOptions select what WriteInfo prints beyond the default view, with
// the meaning of pmempool info's options.
type InfoOptions struct {
	// Type, if not TypeUnknown, reads the file as a pool of this type
	// whatever its header says (-f): the way to read a damaged pool.
	Type       PoolType
	Data       bool   // -d: log data, blk blocks
	Map        bool   // -m: BTT map entries
	Flog       bool   // -g: BTT flog entries
	Backup     bool   // -B: BTT info backup
	Range      string // -r: bytes (log data), chunks (log with Walk) or blocks (map)
	Walk       uint64 // -w: log chunk size
	SkipZeros  bool   // -z
	SkipErrors bool   // -e
	SkipNoFlag bool   // -u
	Stats      bool   // -s: log space, blk block flag counts
	HeadersHex bool   // -x: hex dump of every header
	Human      bool   // -n: sizes with K/M/G/T units
	Verbose    bool   // -v: the alignment of each type; obj: the run id
	// Obj: the obj pool options (lanes, objects, heap, zones, chunks).
	Obj ObjOptions
}

// WriteInfo prints the pool at path as pmempool info does with options o
// (nil: the default view). Like C's, it refuses a pool whose header it
// cannot trust unless o.Type forces the type (see PoolInfo.CheckReadable),
// and fails, after printing what it could, where the BTT points outside
// the file: the exit code of pmempool info is a health check.
func WriteInfo(w io.Writer, path string, o *InfoOptions) error {
	if o == nil {
		o = &InfoOptions{}
	}
	pi, err := info(path, o.Type)
	if err != nil {
		return err
	}
	if err := pi.CheckReadable(); err != nil {
		return err
	}
	ranges, err := ParseRanges(o.Range, math.MaxUint64)
	if err != nil {
		return err
	}
	im, err := openImage(path, false)
	if err != nil {
		return err
	}
	defer im.close()
	ew := &errWriter{w: w}
	w = ew
	var img []byte
	if o.HeadersHex {
		img = im.b
	}
	pi.writeHeader(w, img, o.Human, o.Verbose)
	if pi.Obj != nil {
		if err := writeObj(w, im, o, pi.Obj); err != nil {
			return err
		}
		return ew.err
	}
	if pi.Blk != nil && !pi.BTTOffsetOK {
		return errors.New("wrong BTT layout offset")
	}
	if l := pi.Log; l != nil && l.WriteOffsetOK {
		// As C, statistics and data only for a sane descriptor.
		if o.Stats && l.EndOffset > l.StartOffset {
			total, used := l.EndOffset-l.StartOffset, l.WriteOffset-l.StartOffset
			pu := float64(used) / float64(total) * 100
			fmt.Fprintf(w, "\nPMEM LOG Statistics:\n")
			field(w, "Total", "%s", sizeStr(total, o.Human))
			field(w, "Available", "%s [%s]", sizeStr(total-used, o.Human), percentage(100-pu))
			field(w, "Used", "%s [%s]", sizeStr(used, o.Human), percentage(pu))
		}
		if o.Data {
			writeLogData(w, im, pi.Log, ranges, o.Walk)
		}
	}
	if pi.Blk != nil {
		var curLBA uint64
		dataTitle := false
		var st blkStats
		for _, a := range pi.Arenas {
			var raw []byte
			if o.HeadersHex {
				raw = im.b[a.Offset : a.Offset+blklayout.InfoSize]
			}
			a.write(w, fmt.Sprintf("\n[ARENA %d]\nPMEM BLK BTT Info Header:\n", a.Arena), raw, o.Human)
			in := blklayout.DecodeInfo(im.b[a.Offset:])
			if o.Data {
				if err := writeBlkData(w, im, a.Offset, &in, curLBA, ranges, o, &dataTitle); err != nil {
					return err
				}
			}
			if o.Map || o.Stats {
				mw := w
				if !o.Map {
					mw = io.Discard
				}
				if err := writeMap(mw, im, a.Offset, &in, curLBA, ranges, o, &st); err != nil {
					return err
				}
			}
			if o.Flog {
				if err := writeFlog(w, im, a.Offset, &in); err != nil {
					return err
				}
			}
			curLBA += uint64(in.ExternalNLBA)
			// C checks the backup's place even when not asked to
			// print it: a truncated pool fails here.
			bo := a.Offset + in.InfoOff
			if bo < a.Offset || !im.has(bo, blklayout.InfoSize) {
				return fmt.Errorf("wrong BTT Info Backup size or offset")
			}
			if o.Backup {
				b := im.b[bo : bo+blklayout.InfoSize]
				bk := blockInfo(a.Arena, bo, b)
				var braw []byte
				if o.HeadersHex {
					braw = b
				}
				bk.write(w, "\nPMEM BLK BTT Info Header Backup:\n", braw, o.Human)
			}
			if ew.err != nil {
				return ew.err
			}
		}
		if pi.nextUnreadable {
			return errors.New("cannot read BTT Info header")
		}
		if o.Stats && st.total > 0 {
			pct := func(n uint64) string { return percentage(float64(n) / float64(st.total) * 100) }
			fmt.Fprintf(w, "\nPMEM BLK Statistics:\n")
			field(w, "Total blocks", "%d", st.total)
			field(w, "Zeroed blocks", "%d [%s]", st.zeros, pct(st.zeros))
			field(w, "Error blocks", "%d [%s]", st.errors, pct(st.errors))
			field(w, "Blocks without flag", "%d [%s]", st.noflag, pct(st.noflag))
		}
	}
	return ew.err
}

// blkStats counts map entries by flag for -s.
type blkStats struct{ total, zeros, errors, noflag uint64 }

// percentage formats as C's out_get_percentage.
func percentage(p float64) string {
	switch {
	case p > 0 && p < 0.0001:
		return fmt.Sprintf("%e %%", p)
	case p >= 100 || p < 2.220446049250313e-16:
		return fmt.Sprintf("%.0f %%", p)
	}
	return fmt.Sprintf("%.6f %%", p)
}

// errWriter remembers the first write error and drops what follows, so
// that long listings stop early when the reader has gone (a closed pipe).
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// failed reports whether w is an errWriter that has failed.
func failed(w io.Writer) bool {
	e, ok := w.(*errWriter)
	return ok && e.err != nil
}

func hexdumpSep(w io.Writer, b []byte, off uint64) {
	var sb strings.Builder
	Hexdump(&sb, b, off)
	s := sb.String()
	io.WriteString(w, s)
	if s == "" {
		return
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	last := lines[len(lines)-1]
	fmt.Fprintf(w, "%s\n", strings.Repeat("-", len(last)))
}

func writeLogData(w io.Writer, im *image, l *LogInfo, ranges []Range, walk uint64) {
	if l.WriteOffset <= l.StartOffset || !im.has(l.StartOffset, l.WriteOffset-l.StartOffset) {
		return
	}
	used := l.WriteOffset - l.StartOffset
	data := im.b[l.StartOffset:l.WriteOffset]
	if walk == 0 {
		fmt.Fprintf(w, "\nPMEMLOG data:\n")
		for _, r := range ranges {
			if r.First >= uint64(len(data)) {
				continue
			}
			last := min(r.Last, used-1, uint64(len(data))-1)
			if last < r.First {
				continue
			}
			hexdumpSep(w, data[r.First:last+1], r.First+l.StartOffset)
			used -= last - r.First + 1
			if used == 0 {
				break
			}
		}
		return
	}
	n := uint64(len(data)) / walk
	fmt.Fprintf(w, "\nPMEMLOG data [chunks: total = %d size = %d]:\n", n, walk)
	for _, r := range ranges {
		for i := r.First; i <= r.Last && i < n; i++ {
			fmt.Fprintf(w, "Chunk %10d:\n", i)
			hexdumpSep(w, data[i*walk:(i+1)*walk], l.StartOffset+i*walk)
			if failed(w) {
				return
			}
		}
	}
}

func mapEntryStr(e uint32) string {
	state := map[uint32]string{0: "init", blklayout.MapZero: "zero", blklayout.MapError: "error", blklayout.MapFlagMask: "normal"}[e&blklayout.MapFlagMask]
	return fmt.Sprintf("0x%08x state: %s", e&blklayout.MapLBAMask, state)
}

func writeMap(w io.Writer, im *image, arenaOff uint64, in *blklayout.Info, cur uint64, ranges []Range, o *InfoOptions, st *blkStats) error {
	mo := arenaOff + in.MapOff
	size := uint64(in.ExternalNLBA) * blklayout.MapEntrySize
	if mo < arenaOff || !im.has(mo, size) {
		return fmt.Errorf("wrong BTT Map size or offset")
	}
	if in.ExternalNLBA == 0 {
		return nil
	}
	count := 0
	for _, r := range ranges {
		// The range is of pool-wide block numbers; this arena holds
		// [cur, cur+nlba).
		first, last := max(r.First, cur), min(r.Last, cur+uint64(in.ExternalNLBA)-1)
		if first > last || last < cur {
			continue
		}
		for i := first - cur; i <= last-cur; i++ {
			e := im.u32(mo + i*blklayout.MapEntrySize)
			f := e & blklayout.MapFlagMask
			zero, isErr := f == blklayout.MapZero || f == 0, f == blklayout.MapError
			if (o.SkipNoFlag && !zero && !isErr) || (zero && o.SkipZeros) || (isErr && o.SkipErrors) {
				continue
			}
			if count == 0 {
				fmt.Fprintf(w, "\nPMEM BLK BTT Map:\n")
			}
			count++
			st.total++
			switch {
			case zero:
				st.zeros++
			case isErr:
				st.errors++
			default:
				st.noflag++
			}
			fmt.Fprintf(w, "%010d: %s\n", cur+i, mapEntryStr(e))
			if failed(w) {
				return nil
			}
		}
	}
	return nil
}

func writeFlog(w io.Writer, im *image, arenaOff uint64, in *blklayout.Info) error {
	fo := arenaOff + in.FlogOff
	if fo < arenaOff || !im.has(fo, blklayout.FlogAreaSize(in.NFree)) {
		return fmt.Errorf("cannot read BTT FLOG")
	}
	fmt.Fprintf(w, "\nPMEM BLK BTT FLOG:\n")
	for i := range uint64(in.NFree) {
		if failed(w) {
			return nil
		}
		p := fo + i*blklayout.FlogPairSize
		fmt.Fprintf(w, "%010d:\n", i)
		for j, suf := range []string{"", "'"} {
			e := p + uint64(j)*blklayout.FlogSize
			lba, old, nw, seq := im.u32(e), im.u32(e+4), im.u32(e+8), im.u32(e+12)
			field(w, "LBA"+suf, "0x%08x", lba)
			field(w, "Old map"+suf, "0x%08x: %s", old, mapEntryStr(old))
			field(w, "New map"+suf, "0x%08x: %s", nw, mapEntryStr(nw))
			field(w, "Seq"+suf, "0x%x", seq)
		}
	}
	return nil
}

func writeBlkData(w io.Writer, im *image, arenaOff uint64, in *blklayout.Info, cur uint64, ranges []Range, o *InfoOptions, title *bool) error {
	mo := arenaOff + in.MapOff
	if mo < arenaOff || !im.has(mo, uint64(in.ExternalNLBA)*blklayout.MapEntrySize) {
		return fmt.Errorf("wrong BTT Map size or offset")
	}
	if in.ExternalNLBA == 0 {
		return nil
	}
	for _, r := range ranges {
		first, last := max(r.First, cur), min(r.Last, cur+uint64(in.ExternalNLBA)-1)
		if first > last {
			continue
		}
		for i := first - cur; i <= last-cur; i++ {
			e := im.u32(mo + i*blklayout.MapEntrySize)
			f := e & blklayout.MapFlagMask
			initial := f == 0
			zero, isErr := f == blklayout.MapZero || initial, f == blklayout.MapError
			if (o.SkipNoFlag && !zero && !isErr) || (zero && o.SkipZeros) || (isErr && o.SkipErrors) {
				continue
			}
			blk := uint64(e & blklayout.MapLBAMask)
			if initial {
				blk = i
			}
			off := arenaOff + in.DataOff + blk*uint64(in.InternalLBASize)
			if off < arenaOff || !im.has(off, uint64(in.ExternalLBASize)) {
				return fmt.Errorf("cannot read %d block", i)
			}
			if !*title {
				fmt.Fprintf(w, "\nPMEM BLK blocks data:\n")
				*title = true
			}
			fmt.Fprintf(w, "Block %10d: offset: %s\n", cur+i, mapEntryStr(e))
			hexdumpSep(w, im.b[off:off+uint64(in.ExternalLBASize)], off)
			if failed(w) {
				return nil
			}
		}
	}
	return nil
}
