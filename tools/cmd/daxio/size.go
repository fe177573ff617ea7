package main

import "github.com/gopmdk/pmdk/core/poolset"

// parseSize reads a size argument (--len, --skip, --seek) the way PMDK's
// tools do: C's util_parse_size, which poolset files use too (scanf's
// "%zu%8s": blanks, an optionally signed decimal number wrapping around or
// saturating, then optionally a unit word: B, K...P, KiB...PiB, kB...PB).
func parseSize(s string) (uint64, bool) { return poolset.ParseSize(s) }
