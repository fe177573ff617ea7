package main

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// unitScale gives the multiplier of each unit daxio's sizes accept, case
// as written: bytes, binary units as JEDEC (K) and IEC (KiB) write them,
// and decimal SI units (kB; "KB" is not one).
var unitScale = map[string]uint64{
	"B": 1,
	"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50,
	"kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "PB": 1e15,
}

// parseSize reads a size argument (--len, --skip, --seek) the way PMDK's
// tools do, which is scanf's "%zu%8s": blanks, an optionally signed
// decimal number (a negative one wraps around, an overflowing one becomes
// the largest value), then optionally blanks and a unit word of at most 8
// characters; whatever follows the unit word is ignored. The product wraps
// around as C's unsigned arithmetic does.
func parseSize(s string) (uint64, bool) {
	s = strings.TrimLeftFunc(s, isCSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(s[:end], 10, 64)
	if err != nil {
		n, neg = math.MaxUint64, false // strtoull's ERANGE result, sign ignored
	}
	if neg {
		n = -n
	}
	rest := strings.TrimLeftFunc(s[end:], isCSpace)
	if rest == "" {
		return n, true
	}
	word := rest
	if i := strings.IndexFunc(rest, isCSpace); i >= 0 {
		word = rest[:i]
	}
	if len(word) > 8 {
		word = word[:8]
	}
	mag, ok := unitScale[word]
	if !ok {
		return 0, false
	}
	return n * mag, true
}

// isCSpace is C's isspace in the C locale.
func isCSpace(r rune) bool { return r < unicode.MaxASCII && strings.ContainsRune(" \t\n\v\f\r", r) }
