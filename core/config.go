package core

import (
	"fmt"
	"os"
	"strings"
)

// Sharing says whether stores to a mapping reach the source (pmem2_sharing_type).
type Sharing uint8

const (
	// SharingShared writes through to the source (PMEM2_SHARED, the default).
	SharingShared Sharing = iota
	// SharingPrivate keeps stores in copy-on-write memory of this process;
	// the source never changes (PMEM2_PRIVATE). Such a mapping has byte
	// granularity: nothing needs flushing because nothing persists.
	SharingPrivate
)

// Protection is the memory protection of a mapping (PMEM2_PROT_*). The zero
// value means ProtRead|ProtWrite, libpmem2's default.
type Protection uint8

const (
	ProtRead  Protection = 1 << iota // pages may be read (PMEM2_PROT_READ)
	ProtWrite                        // pages may be written (PMEM2_PROT_WRITE)
	ProtExec                         // pages may be executed (PMEM2_PROT_EXEC)
	ProtNone                         // pages may not be accessed (PMEM2_PROT_NONE); alone only
)

// Config says which part of a [Source] to map and how (pmem2_config). Use
// a nil *Config for the whole source, shared, read-write, accepting any
// granularity.
type Config struct {
	// Offset in bytes of the mapping in the source; a multiple of
	// [Source.Alignment] (the page size for files).
	Offset int64
	// Length in bytes of the mapping; 0 means from Offset to the end of
	// the source. A multiple of [Source.Alignment].
	Length int64
	// RequiredGranularity is the coarsest store granularity the caller can
	// work with: NewMap fails with ErrGranularityNotSupported when the
	// mapping can only offer a coarser one. GranularityPage accepts every
	// mapping. Note that the zero value is GranularityByte, the strictest,
	// where libpmem2 has no default at all.
	RequiredGranularity Granularity
	// Sharing of the mapping: shared (default) or private.
	Sharing Sharing
	// Protection of the mapping; zero means read-write.
	Protection Protection
	// ForcePmem makes a page-cache file act as persistent memory: CPU
	// flushes instead of msync, cache-line granularity. The environment
	// variable PMEM_IS_PMEM_FORCE=1 does the same for every mapping. It is
	// for emulation and benchmarks: data is only as durable as the page
	// cache.
	ForcePmem bool
}

// defaultConfig is what a nil *Config means.
var defaultConfig = Config{RequiredGranularity: GranularityPage}

func (c *Config) protFlags() (int, error) {
	p := c.Protection
	if p == 0 {
		p = ProtRead | ProtWrite
	}
	if p&ProtNone != 0 && p != ProtNone {
		return 0, fmt.Errorf("core: protection %#x: ProtNone combined with others: %w", uint8(p), ErrInvalidArgument)
	}
	if p&^(ProtRead|ProtWrite|ProtExec|ProtNone) != 0 {
		return 0, fmt.Errorf("core: protection %#x: %w", uint8(p), ErrInvalidArgument)
	}
	prot := 0
	if p&ProtRead != 0 {
		prot |= protRead
	}
	if p&ProtWrite != 0 {
		prot |= protWrite
	}
	if p&ProtExec != 0 {
		prot |= protExec
	}
	return prot, nil
}

// forcedGranularity reads PMEM2_FORCE_GRANULARITY as libpmem2 does: BYTE,
// CACHE_LINE (or CACHELINE) or PAGE, in any case; anything else is ignored.
func forcedGranularity() (Granularity, bool) {
	switch strings.ToUpper(os.Getenv("PMEM2_FORCE_GRANULARITY")) {
	case "BYTE":
		return GranularityByte, true
	case "CACHE_LINE", "CACHELINE":
		return GranularityCacheLine, true
	case "PAGE":
		return GranularityPage, true
	}
	return 0, false
}

// pmemForceEnv reads PMEM_IS_PMEM_FORCE as libpmem does: "1" forces every
// range to count as pmem, "0" forces none to, anything else (or unset)
// leaves detection alone.
func pmemForceEnv() (force, set bool) {
	switch os.Getenv("PMEM_IS_PMEM_FORCE") {
	case "1":
		return true, true
	case "0":
		return false, true
	}
	return false, false
}
