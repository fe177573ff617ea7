package poolset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Signature is the first line of every poolset file.
const Signature = "PMEMPOOLSET"

// Option is a poolset option (OPTION line), a bit set.
type Option uint32

// The options C 1.12.1 knows.
const (
	SingleHdr Option = 1 << iota // OPTION SINGLEHDR: a pool header in the first part of each replica only
	NoHdrs                       // OPTION NOHDRS: no pool headers (remote replicas only)
)

// MinPartSize is the smallest part C accepts (PMEM*_MIN_PART), in bytes.
const MinPartSize = 2 << 20

// HeaderSize is the space in bytes a pool header takes at the start of a
// part (one mapping-alignment unit, Mmap_align, on 4 KiB-page machines).
const HeaderSize = 4096

// Set is a parsed poolset file.
type Set struct {
	Options  Option
	Replicas []Replica // Replicas[0] is the primary replica
	// Directories reports whether the parts are directories (a directory
	// poolset: C creates numbered part files in them).
	Directories bool
}

// Replica is one replica of a set: local parts, or a remote node.
type Replica struct {
	Parts  []Part  // local parts, in order; for a directory poolset the directories
	Remote *Remote // a remote replica (REPLICA node descriptor), or nil
	Line   int     // the line of its REPLICA keyword (0 for the primary)
}

// Part is one part of a replica: a file, or a directory of part files.
type Part struct {
	Path string // absolute
	Size int64  // bytes, as the poolset file gives it
	Dir  bool   // Path was a directory when the set was parsed
	Line int    // the line it was read from
}

// Remote is a remote replica: a node and the poolset descriptor there.
type Remote struct {
	Node       string // [user@]host
	Descriptor string // relative path of the poolset file on the node
}

// ErrSyntax is matched (errors.Is) by every *SyntaxError.
var ErrSyntax = errors.New("poolset: invalid poolset file")

// SyntaxError is a line of a poolset file C's parser refuses.
type SyntaxError struct {
	Path string // the poolset file, if known
	Line int    // 1-based; one past the last line for errors found at the end
	Msg  string // C's reason
	Err  error  // an underlying cause (a failed stat), or nil
}

func (e *SyntaxError) Error() string {
	s := fmt.Sprintf("poolset: %s:%d: %s", e.Path, e.Line, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// Unwrap returns the underlying cause, if any.
func (e *SyntaxError) Unwrap() error { return e.Err }

// The reasons of SyntaxError, C's words.
const (
	msgSignature     = "the first line must be exactly 'PMEMPOOLSET'"
	msgReplica       = "exactly 'REPLICA' expected"
	msgToken         = "invalid token found in the current line"
	msgRemote        = "address of remote node and descriptor of remote pool set expected"
	msgSize          = "incorrect format of size"
	msgCannotSize    = "cannot determine size of a part"
	msgAbsolute      = "incorrect path (must be an absolute one)"
	msgRelative      = "incorrect descriptor (must be a relative path)"
	msgNoParts       = "no pool set parts"
	msgNoReplParts   = "no replica parts"
	msgRemoteParts   = "unexpected parts for remote replica"
	msgOptionUnknown = "unknown option"
	msgOptionMissing = "missing option name"
	msgMixDirs       = "cannot mix directories and files in a set"
	msgSameDir       = "cannot use the same directory twice"
)

// ParseOptions tune Parse. nil means the machine's file system.
type ParseOptions struct {
	// Stat tells whether path is a directory and, for a size of AUTO,
	// the size of a device DAX at path (an error for anything else: C
	// detects sizes of device DAX only). nil uses the file system.
	Stat func(path string) (dir bool, err error)
	// AutoSize returns the size of the device DAX at path, for AUTO
	// sizes; nil refuses AUTO for everything but a character device,
	// whose size core reads.
	AutoSize func(path string) (int64, error)
}

// MaxFileSize bounds how much of a poolset file Parse reads: poolset files
// are a few lines, and a larger file is not one.
const MaxFileSize = 1 << 20

// ParseFile reads and parses the poolset file at path.
func ParseFile(path string, o *ParseOptions) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path, o)
}

// IsPoolset reports whether b, the first bytes of a file, start with the
// poolset signature: whether C treats the file as a poolset file.
func IsPoolset(b []byte) bool { return bytes.HasPrefix(b, []byte(Signature)) }

// Parse parses a poolset file read from r; path names it in errors. It
// follows C 1.12.1's parser: the first line exactly PMEMPOOLSET, comments
// from #, a line with only blanks is an error, fields split at spaces and
// tabs, sizes as C's sscanf reads them. Errors are *SyntaxError values
// (line numbers 1-based), or r's read error.
func Parse(r io.Reader, path string, o *ParseOptions) (*Set, error) {
	if o == nil {
		o = &ParseOptions{}
	}
	br := bufio.NewReader(io.LimitReader(r, MaxFileSize+1))
	p := parser{path: path, o: o, set: &Set{}}
	var total int
	for {
		line, err := br.ReadString('\n')
		total += len(line)
		if total > MaxFileSize {
			return nil, &SyntaxError{Path: path, Line: p.line + 1, Msg: fmt.Sprintf("poolset file larger than %d bytes", MaxFileSize)}
		}
		if line == "" && err != nil {
			if err != io.EOF {
				return nil, err
			}
			break
		}
		p.line++
		if serr := p.parseLine(line); serr != nil {
			return nil, serr
		}
		if err != nil {
			if err != io.EOF {
				return nil, err
			}
			break
		}
	}
	p.line++
	if p.line == 1 {
		return nil, p.fail(msgSignature)
	}
	if p.nparts == 0 {
		if len(p.set.Replicas) == 1 {
			return nil, p.fail(msgNoParts)
		}
		return nil, p.fail(msgNoReplParts)
	}
	return p.set, nil
}

type parser struct {
	path   string
	o      *ParseOptions
	set    *Set
	line   int
	nparts int // parts read since the last local REPLICA (C's counter: a remote replica leaves it)
}

func (p *parser) fail(msg string) *SyntaxError {
	return &SyntaxError{Path: p.path, Line: p.line, Msg: msg}
}

// parseLine parses one line as read, newline included when there was one.
func (p *parser) parseLine(raw string) *SyntaxError {
	// C handles lines as C strings: a NUL ends them.
	if i := strings.IndexByte(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	if p.line == 1 {
		if raw != Signature+"\n" {
			return p.fail(msgSignature)
		}
		p.set.Replicas = append(p.set.Replicas, Replica{})
		return nil
	}
	line := strings.TrimSuffix(raw, "\n")
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	if line == "" {
		return nil
	}
	switch {
	case strings.HasPrefix(line, "OPTION"):
		return p.options(line[len("OPTION"):])
	case strings.HasPrefix(line, "REPLICA"):
		return p.replica(line[len("REPLICA"):])
	}
	if p.set.Replicas[len(p.set.Replicas)-1].Remote != nil {
		return p.fail(msgRemoteParts)
	}
	return p.part(line)
}

// fields splits s at spaces and tabs, as strtok with " \t".
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
}

func (p *parser) options(rest string) *SyntaxError {
	f := fields(rest)
	if len(f) == 0 {
		return p.fail(msgOptionMissing)
	}
	for _, name := range f {
		switch name {
		case "SINGLEHDR":
			p.set.Options |= SingleHdr
		case "NOHDRS":
			p.set.Options |= NoHdrs
		default:
			return p.fail(msgOptionUnknown + " '" + name + "'")
		}
	}
	return nil
}

func (p *parser) replica(rest string) *SyntaxError {
	if rest == "" {
		if p.nparts == 0 {
			if len(p.set.Replicas) == 1 {
				return p.fail(msgNoParts)
			}
			return p.fail(msgNoReplParts)
		}
		p.set.Replicas = append(p.set.Replicas, Replica{Line: p.line})
		p.nparts = 0
		return nil
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return p.fail(msgReplica)
	}
	f := fields(rest)
	switch {
	case len(f) < 2:
		return p.fail(msgRemote)
	case len(f) > 2:
		return p.fail(msgToken)
	case strings.HasPrefix(f[1], "/"):
		return p.fail(msgRelative)
	}
	p.set.Replicas = append(p.set.Replicas, Replica{Line: p.line, Remote: &Remote{Node: f[0], Descriptor: f[1]}})
	return nil
}

func (p *parser) part(line string) *SyntaxError {
	f := fields(line)
	if len(f) != 2 {
		return p.fail(msgToken)
	}
	sizeStr, path := f[0], f[1]
	if !strings.HasPrefix(path, "/") {
		return p.fail(msgAbsolute)
	}
	var size int64
	if sizeStr == "AUTO" {
		s, err := p.autoSize(path)
		if err != nil {
			e := p.fail(msgCannotSize)
			e.Err = err
			return e
		}
		size = s
	} else {
		s, ok := ParseSize(sizeStr)
		if !ok || s == 0 {
			return p.fail(msgSize)
		}
		// Sizes beyond what a file can have (C's size_t) cannot be
		// created or matched; keep them as the largest int64.
		size = int64(min(s, uint64(1<<63-1)))
	}
	dir, err := p.stat(path)
	if err != nil {
		e := p.fail("cannot stat part")
		e.Err = err
		return e
	}
	set := p.set
	rep := &set.Replicas[len(set.Replicas)-1]
	if dir {
		if !set.Directories {
			if len(rep.Parts) > 0 || len(set.Replicas) > 1 {
				return p.fail(msgMixDirs)
			}
			set.Directories = true
		}
		for _, r := range set.Replicas {
			for _, q := range r.Parts {
				if q.Path == path {
					return p.fail(msgSameDir)
				}
			}
		}
	} else if set.Directories {
		return p.fail(msgMixDirs)
	}
	rep.Parts = append(rep.Parts, Part{Path: path, Size: size, Dir: dir, Line: p.line})
	p.nparts++
	return nil
}

// stat reports whether path is a directory. A path that does not exist is
// a file part to be created.
func (p *parser) stat(path string) (bool, error) {
	if p.o.Stat != nil {
		return p.o.Stat(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return false, nil
	}
	return st.IsDir(), nil
}

func (p *parser) autoSize(path string) (int64, error) {
	if p.o.AutoSize != nil {
		return p.o.AutoSize(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if st.Mode()&os.ModeCharDevice == 0 {
		return 0, errors.New("size autodetection is supported only for device dax")
	}
	return 0, errors.New("size autodetection of device DAX is not supported yet")
}

// ParseSize parses a part size as C's util_parse_size does: a decimal
// number (sscanf's %zu: leading blanks, an optional sign, a negative number
// wrapping around, saturation on overflow) followed by nothing or one of
// the suffixes B, K, M, G, T, P, KiB, MiB, GiB, TiB, PiB (powers of 1024)
// or kB, MB, GB, TB, PB (powers of 1000), the product wrapping around as
// in C. ok is false for anything else.
func ParseSize(s string) (size uint64, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\v' || s[i] == '\f' || s[i] == '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var n uint64
	overflow := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if n > (^uint64(0)-d)/10 {
			overflow = true
		}
		n = n*10 + d
		i++
	}
	if i == start {
		return 0, false
	}
	if overflow {
		n = ^uint64(0)
	} else if neg {
		n = -n
	}
	unit := s[i:]
	// %8s skips leading white space and reads at most 8 characters.
	unit = strings.TrimLeft(unit, " \t\n\v\f\r")
	if unit == "" {
		return n, true
	}
	if j := strings.IndexAny(unit, " \t\n\v\f\r"); j >= 0 {
		unit = unit[:j]
	}
	if len(unit) > 8 {
		unit = unit[:8]
	}
	mag, known := suffixes[unit]
	if !known {
		return 0, false
	}
	return n * mag, true
}

var suffixes = map[string]uint64{
	"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50,
	"kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "PB": 1e15,
}
