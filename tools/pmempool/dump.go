package pmempool

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core/pool"
	pmemlog "github.com/gopmdk/pmdk/log"
)

// Range is an inclusive range of bytes, chunks or blocks.
type Range struct{ First, Last uint64 }

// ParseRanges parses pmempool's range syntax ("a-b", "a-", "-b", "n",
// comma-separated; numbers may carry K/M/G... suffixes) with every range
// clipped to [0, max], merged with the ranges it overlaps and kept in the
// order C's pmempool keeps them (dumps follow that order). An empty spec
// is the whole [0, max].
func ParseRanges(spec string, max uint64) ([]Range, error) {
	entire := Range{0, max}
	if spec == "" {
		return []Range{entire}, nil
	}
	var rs []Range
	for part := range strings.SplitSeq(spec, ",") {
		r, err := parseRange(part, entire)
		if err != nil {
			return nil, fmt.Errorf("%w -- '%s'", ErrInvalidRange, spec)
		}
		rs = addRange(rs, r)
	}
	return rs, nil
}

func parseRange(s string, entire Range) (Range, error) {
	a, b, dash := strings.Cut(s, "-")
	var r Range
	var err error
	switch {
	case !dash:
		r.First, err = ParseSize(a)
		r.Last = r.First
		if err == nil && (r.First > entire.Last || r.Last < entire.First) {
			// C refuses a single number out of range, but clips a-b.
			err = fmt.Errorf("pmempool: %d out of range", r.First)
		}
	case a == "":
		r.First = entire.First
		r.Last, err = ParseSize(b)
	case b == "":
		r.First, err = ParseSize(a)
		r.Last = entire.Last
	default:
		if r.First, err = ParseSize(a); err == nil {
			r.Last, err = ParseSize(b)
		}
		if r.First > r.Last {
			r.First, r.Last = r.Last, r.First
		}
	}
	if err != nil {
		return r, err
	}
	r.First = max(r.First, entire.First)
	r.Last = min(r.Last, entire.Last)
	return r, nil
}

// addRange merges r with the ranges it overlaps and inserts it where C's
// util_ranges_add does: after the first range starting below it.
func addRange(rs []Range, r Range) []Range {
	out := rs[:0:0]
	for _, c := range rs {
		if !(c.Last+1 < r.First || r.Last+1 < c.First) { // adjacent ranges merge too (C's util_ranges_overlap)
			r.First, r.Last = min(r.First, c.First), max(r.Last, c.Last)
			continue
		}
		out = append(out, c)
	}
	for i, c := range out {
		if c.First < r.First {
			return append(out[:i+1], append([]Range{r}, out[i+1:]...)...)
		}
	}
	return append([]Range{r}, out...)
}

// ParseSize parses a size as pmempool does: a decimal number with an
// optional suffix K, M, G, T, P (powers of 1024; KiB etc. too) or KB, MB,
// ... (powers of 1000), or B.
func ParseSize(s string) (uint64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("pmempool: invalid size %q", s)
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("pmempool: invalid size %q", s)
	}
	suf := strings.ToUpper(s[i:])
	mult := uint64(1)
	if suf != "" && suf != "B" {
		exp := strings.IndexByte("KMGTPE", suf[0]) + 1
		if exp == 0 {
			return 0, fmt.Errorf("pmempool: invalid size %q", s)
		}
		base := uint64(1024)
		switch suf[1:] {
		case "", "IB":
		case "B":
			base = 1000
		default:
			return 0, fmt.Errorf("pmempool: invalid size %q", s)
		}
		for range exp {
			mult *= base
		}
	}
	if n != 0 && n*mult/mult != n {
		return 0, fmt.Errorf("pmempool: size %q overflows", s)
	}
	return n * mult, nil
}

// Hexdump writes b as pmempool does: 16 bytes a row, the address offset
// plus the row's index, hex in two groups of 8 and the printable
// characters; a row equal to the one before is shown once as "*", except
// the last row, which is always printed.
func Hexdump(w io.Writer, b []byte, offset uint64) error {
	var prev int
	repeated := false
	for cur := 0; cur < len(b); cur += 16 {
		n := min(16, len(b)-cur)
		last := cur+n == len(b)
		if !last && cur > 0 && string(b[prev:prev+n]) == string(b[cur:cur+n]) {
			if !repeated {
				if _, err := io.WriteString(w, "*\n"); err != nil {
					return err
				}
				repeated = true
			}
			continue
		}
		repeated = false
		var hex, asc strings.Builder
		for i, c := range b[cur : cur+n] {
			if i == 8 {
				hex.WriteByte(' ')
			}
			fmt.Fprintf(&hex, "%02x ", c)
			if c >= 0x20 && c < 0x7f {
				asc.WriteByte(c)
			} else {
				asc.WriteByte('.')
			}
		}
		if _, err := fmt.Fprintf(w, "%08x  %-50s|%-16s|\n", uint64(cur)+offset, hex.String(), asc.String()); err != nil {
			return err
		}
		prev = cur
	}
	return nil
}

// DumpOptions select what Dump writes.
type DumpOptions struct {
	Range     string // pmempool -r: bytes (log), chunks (log with ChunkSize) or blocks (blk); "" all
	ChunkSize uint64 // pmempool -c: log chunk size; 0 means ranges of bytes
	Binary    bool   // pmempool -b: raw bytes instead of a hex dump
}

// ErrInvalidRange is the error of a range specification ParseRanges
// refuses; its text is C's message.
var ErrInvalidRange = errors.New("invalid range value specified")

// ErrNotSupported is returned for pool types an operation does not handle.
var ErrNotSupported = errors.New("pmempool: operation not supported for this pool type")

// ErrDumpObj is Dump's refusal of an obj pool, in C's words: obj pools
// have no user data area to dump (C's pmempool dump refuses them too).
var ErrDumpObj = fmt.Errorf("PMEMOBJ pool not supported: %w", ErrNotSupported)

// Dump writes the user data of the log or blk pool at path to w, as
// pmempool dump: the log's content, or the blocks. The pool is opened with
// the gopmdk libraries (read-only for log).
func Dump(w io.Writer, path string, o *DumpOptions) error {
	if o == nil {
		o = &DumpOptions{}
	}
	t, err := DetectType(path)
	if err != nil {
		return err
	}
	switch t {
	case TypeLog:
		return dumpLog(w, path, o)
	case TypeBlk:
		return dumpBlk(w, path, o)
	case TypeObj:
		return ErrDumpObj
	}
	return fmt.Errorf("%w -- ''", ErrUnknownType)
}

// DetectType returns the pool type of the file at path from its signature.
func DetectType(path string) (PoolType, error) {
	im, err := openImage(path, false)
	if err != nil {
		return TypeUnknown, err
	}
	defer im.close()
	if im.size < pool.HeaderSize {
		return TypeUnknown, nil
	}
	return typeOfSignature(signatureOf(im.b)), nil
}

func emit(w io.Writer, o *DumpOptions, b []byte, off uint64) error {
	if o.Binary {
		_, err := w.Write(b)
		return err
	}
	return Hexdump(w, b, off)
}

func dumpLog(w io.Writer, path string, o *DumpOptions) error {
	l, err := pmemlog.Open(path, &pmemlog.Options{Options: pool.Options{ReadOnly: true}})
	if err != nil {
		return err
	}
	defer l.Close()
	n := uint64(l.Tell())
	if n == 0 {
		return nil
	}
	maxv := n - 1
	if o.ChunkSize > 0 {
		maxv /= o.ChunkSize
	}
	rs, err := ParseRanges(o.Range, maxv)
	if err != nil {
		return err
	}
	data, err := l.Bytes()
	if err != nil {
		return err
	}
	if o.ChunkSize == 0 {
		for _, r := range rs {
			if r.First >= n {
				continue
			}
			last := min(r.Last, n-1)
			if err := emit(w, o, data[r.First:last+1], r.First); err != nil {
				return err
			}
		}
		return nil
	}
	cs := o.ChunkSize
	for k := uint64(0); k*cs < n; k++ {
		if (k+1)*cs > n {
			break // C skips the last chunk when shorter than the chunk size
		}
		for _, r := range rs {
			if k >= r.First && k <= r.Last {
				if err := emit(w, o, data[k*cs:(k+1)*cs], k*cs); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func dumpBlk(w io.Writer, path string, o *DumpOptions) error {
	// Read-only, unlike C's dump: nothing, not even flog recovery or the
	// shutdown state, reaches the file.
	p, err := blk.Open(path, &blk.Options{Options: pool.Options{ReadOnly: true}})
	if err != nil {
		return err
	}
	defer p.Close()
	if p.NBlock() == 0 {
		return nil
	}
	rs, err := ParseRanges(o.Range, uint64(p.NBlock()-1))
	if err != nil {
		return err
	}
	bs := uint64(p.BSize())
	buf := make([]byte, bs)
	for _, r := range rs {
		for i := r.First; i <= r.Last; i++ {
			if err := p.ReadBlock(buf, int64(i)); err != nil {
				return fmt.Errorf("reading block number %d failed: %w", i, err)
			}
			if err := emit(w, o, buf, i*bs); err != nil {
				return err
			}
		}
	}
	return nil
}
