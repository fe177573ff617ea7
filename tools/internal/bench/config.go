package bench

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Mode is how pool files are treated: as persistent memory (CPU flushes) or
// as page cache (msync).
type Mode string

const (
	ModeForcedPmem Mode = "forced-pmem"
	ModePageCache  Mode = "page-cache"
)

// ParseMode accepts the names of the modes.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeForcedPmem, ModePageCache:
		return m, nil
	}
	return "", fmt.Errorf("bench: mode %q: want %s or %s", s, ModeForcedPmem, ModePageCache)
}

// Config says what to run. The zero value of a field means its default.
type Config struct {
	Run      *regexp.Regexp // scenarios to run; nil: all
	Sizes    []int          // operation sizes in bytes; nil: each scenario's own
	Threads  []int          // thread counts; nil: 1
	Reps     int            // repetitions per side; 0: 5
	Duration time.Duration  // per repetition and side; 0: 200ms
	Dir      string         // directory for pool files; "": /dev/shm or the temp dir
	Mode     Mode           // "": ModeForcedPmem
	Region   int            // bytes of pool per thread; 0: 16 MiB (at least 4 operations)
	NoPeer   bool           // skip the C peer even when it is built in
}

func (c *Config) withDefaults() Config {
	d := *c
	if len(d.Threads) == 0 {
		d.Threads = []int{1}
	}
	if d.Reps <= 0 {
		d.Reps = 5
	}
	if d.Duration <= 0 {
		d.Duration = 200 * time.Millisecond
	}
	if d.Mode == "" {
		d.Mode = ModeForcedPmem
	}
	if d.Region <= 0 {
		d.Region = 16 << 20
	}
	return d
}

// ParseSizes parses a comma-separated list of sizes with optional K, M or G
// suffixes (powers of 1024): "64,256,4K,64K,2M".
func ParseSizes(s string) ([]int, error) {
	var sizes []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		mult := 1
		switch strings.ToUpper(f[len(f)-1:]) {
		case "K":
			mult = 1 << 10
		case "M":
			mult = 1 << 20
		case "G":
			mult = 1 << 30
		}
		if mult != 1 {
			f = f[:len(f)-1]
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 || n > (1<<40)/mult {
			return nil, fmt.Errorf("bench: size %q: want a positive number with an optional K, M or G", f)
		}
		sizes = append(sizes, n*mult)
	}
	return sizes, nil
}

// ParseThreads parses a comma-separated list of positive thread counts.
func ParseThreads(s string) ([]int, error) {
	var ts []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 || n > 1024 {
			return nil, fmt.Errorf("bench: threads %q: want a count from 1 to 1024", f)
		}
		ts = append(ts, n)
	}
	return ts, nil
}

// FormatSize writes n bytes the way ParseSizes reads it back.
func FormatSize(n int) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.Itoa(n>>30) + "G"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "M"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "K"
	}
	return strconv.Itoa(n)
}
