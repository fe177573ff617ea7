package pmempool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core/pool"
	pmemlog "github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/obj"
)

// CreateOptions describe a pool for Create.
type CreateOptions struct {
	Type        PoolType
	BSize       uint32      // blk block size
	Size        int64       // 0: the library minimum, or the existing file's size
	Mode        os.FileMode // 0 means 0664
	WriteLayout bool        // blk: write the BTT layout now (a zero write to block 0)
	Layout      string      // obj: the layout name (fewer than obj.MaxLayout bytes; "" is C's NULL)
}

// Create makes a log, blk or obj pool file as pmempool create does,
// through the gopmdk libraries (log, blk, obj).
func Create(path string, o CreateOptions) error {
	mode := o.Mode
	if mode == 0 {
		mode = 0o664
	}
	size := o.Size
	if size == 0 && !fileExists(path) {
		// A new file gets the library minimum; an existing one is taken whole.
		size = MinPoolSize(o.Type)
	}
	switch o.Type {
	case TypeLog:
		l, err := pmemlog.Create(path, size, mode, nil)
		if err != nil {
			return err
		}
		return l.Close()
	case TypeBlk:
		if o.BSize == 0 {
			return fmt.Errorf("pmempool: blk pool needs a block size: %w", blk.ErrBlockSize)
		}
		p, err := blk.Create(path, size, mode, &blk.Options{BlockSize: int(o.BSize)})
		if err != nil {
			return err
		}
		if o.WriteLayout {
			if err := p.WriteBlock(make([]byte, o.BSize), 0); err != nil {
				p.Close()
				return err
			}
		}
		return p.Close()
	case TypeObj:
		p, err := obj.Create(path, size, mode, &obj.Options{Layout: o.Layout})
		if err != nil {
			return err
		}
		return p.Close()
	}
	return fmt.Errorf("pmempool: create %s pool: %w", o.Type, ErrNotSupported)
}

// Remove deletes a pool file as pmempool rm does for a single file: it
// takes the pool's lock first (pool.Lock), so a pool in use is not removed
// (an error wrapping pool.ErrLocked), and refuses a directory (EISDIR).
// With force a missing file is no error. Poolset files are not parsed:
// they are refused, so that their parts are not left behind silently.
func Remove(path string, force bool) error {
	f, err := os.Open(path)
	if err != nil {
		if force && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return &os.PathError{Op: "remove", Path: path, Err: unix.EISDIR}
	}
	sig := make([]byte, len("PMEMPOOLSET"))
	if n, _ := f.ReadAt(sig, 0); n == len(sig) && string(sig) == "PMEMPOOLSET" {
		return fmt.Errorf("pmempool: %s: poolset files are not supported: %w", path, ErrNotSupported)
	}
	if err := pool.Lock(f); err != nil {
		return &os.PathError{Op: "remove", Path: path, Err: err}
	}
	err = os.Remove(path)
	if force && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Feature is a pool feature that pmempool feature can query or change.
type Feature int

// Features of pmempool feature (enum pmempool_feature).
const (
	FeatureSingleHdr Feature = iota
	FeatureCksum2K
	FeatureShutdownState
	FeatureCheckBadBlocks
)

var featureNames = []string{"SINGLEHDR", "CKSUM_2K", "SHUTDOWN_STATE", "CHECK_BAD_BLOCKS"}

func (f Feature) String() string {
	if int(f) < len(featureNames) {
		return featureNames[f]
	}
	return fmt.Sprintf("Feature(%d)", int(f))
}

// ParseFeature maps a feature name to its Feature.
func ParseFeature(s string) (Feature, bool) {
	for i, n := range featureNames {
		if n == s {
			return Feature(i), true
		}
	}
	return 0, false
}

// Errors of the feature functions.
var (
	ErrFeatureDependency = errors.New("pmempool: feature depends on another one")
	ErrFeatureFixed      = errors.New("pmempool: the feature cannot be changed")
)

func (f Feature) bit(h *pool.Header) *uint32 {
	if f == FeatureCheckBadBlocks {
		return &h.Compat
	}
	return &h.Incompat
}

func (f Feature) mask() uint32 {
	return [...]uint32{pool.FeatSingleHdr, pool.FeatCksum2K, pool.FeatSDS, pool.FeatCheckBadBlocks}[f]
}

// openHeader reads and validates the header of the pool at path.
func openHeader(path string, write bool) (*image, *pool.Header, error) {
	im, err := openImage(path, write)
	if err != nil {
		return nil, nil, err
	}
	if im.size < pool.HeaderSize || !headerValid(im.b) {
		im.close()
		return nil, nil, fmt.Errorf("pmempool: %s: invalid pool header", path)
	}
	h, err := pool.DecodeHeader(im.b)
	if err != nil {
		im.close()
		return nil, nil, err
	}
	return im, h, nil
}

// QueryFeature reports whether feature f is set in the pool at path.
func QueryFeature(path string, f Feature) (bool, error) {
	im, h, err := openHeader(path, false)
	if err != nil {
		return false, err
	}
	defer im.close()
	return *f.bit(h)&f.mask() != 0, nil
}

// SetFeature enables (on) or disables feature f of the pool at path, with
// C's rules: SINGLEHDR cannot change; SHUTDOWN_STATE needs CKSUM_2K, so
// CKSUM_2K cannot go while it is on; disabling SHUTDOWN_STATE zeroes the
// shutdown state. A feature already in the asked state is left alone.
func SetFeature(path string, f Feature, on bool) error {
	if f == FeatureSingleHdr {
		return fmt.Errorf("%w: %s", ErrFeatureFixed, f)
	}
	im, h, err := openHeader(path, true)
	if err != nil {
		return err
	}
	defer im.close()
	p := f.bit(h)
	if (*p&f.mask() != 0) == on {
		return nil
	}
	switch {
	case f == FeatureShutdownState && on && h.Incompat&pool.FeatCksum2K == 0:
		return fmt.Errorf("%w: enabling %s needs CKSUM_2K", ErrFeatureDependency, f)
	case f == FeatureCksum2K && !on && h.Incompat&pool.FeatSDS != 0:
		return fmt.Errorf("%w: disabling %s needs SHUTDOWN_STATE disabled", ErrFeatureDependency, f)
	}
	if on {
		*p |= f.mask()
	} else {
		*p &^= f.mask()
	}
	if f == FeatureShutdownState && !on {
		h.SDS = pool.ShutdownState{}
	}
	buf := make([]byte, pool.HeaderSize)
	h.Encode(buf)
	im.write(0, buf)
	return im.flush()
}

// MinPoolSize is the smallest pool file of type t the libraries accept.
func MinPoolSize(t PoolType) int64 {
	switch t {
	case TypeLog:
		return pmemlog.MinPoolSize
	case TypeBlk:
		return blk.MinPoolSize
	}
	return obj.MinPoolSize
}
