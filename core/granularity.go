package core

import "fmt"

// Granularity is the smallest unit of stores the platform makes persistent
// as a whole, from the finest to the coarsest (PMEM2_GRANULARITY_*).
type Granularity uint8

const (
	// GranularityByte: the persistence domain includes the CPU caches
	// (eADR); a fence is enough.
	GranularityByte Granularity = iota
	// GranularityCacheLine: DAX without eADR; stores must be flushed from
	// the CPU caches and fenced.
	GranularityCacheLine
	// GranularityPage: page cache; pages must be written back with msync.
	GranularityPage
)

func (g Granularity) String() string {
	switch g {
	case GranularityByte:
		return "byte"
	case GranularityCacheLine:
		return "cache line"
	case GranularityPage:
		return "page"
	}
	return fmt.Sprintf("Granularity(%d)", uint8(g))
}
