package hal

import (
	"math"
	"strings"
)

// LookupEnvFunc looks up an environment variable, like [os.LookupEnv].
type LookupEnvFunc func(key string) (string, bool)

// The environment variables of libpmem (man 7 libpmem) that kernel
// selection honours.
const (
	EnvNoCLWB          = "PMEM_NO_CLWB"
	EnvNoCLFLUSHOPT    = "PMEM_NO_CLFLUSHOPT"
	EnvNoFlush         = "PMEM_NO_FLUSH"
	EnvNoMovnt         = "PMEM_NO_MOVNT"
	EnvMovntThreshold  = "PMEM_MOVNT_THRESHOLD"
	EnvAVX             = "PMEM_AVX"
	EnvAVX512F         = "PMEM_AVX512F"
	EnvNoGenericMemcpy = "PMEM_NO_GENERIC_MEMCPY"
)

// envIs reports whether key is set to exactly val. libpmem compares with
// strcmp, so "1 " or "yes" do not count as "1".
func envIs(lookup LookupEnvFunc, key, val string) bool {
	v, ok := lookup(key)
	return ok && v == val
}

// atoll converts the leading decimal integer of s as C's atoll does:
// leading white space and one sign are skipped, conversion stops at the
// first non-digit, no digits give 0, and overflow clamps to the int64
// range (glibc's strtoll behaviour).
func atoll(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n uint64
	overflow := false
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if n > (math.MaxUint64-d)/10 {
			overflow = true
			break
		}
		n = n*10 + d
	}
	switch {
	case neg && (overflow || n > 1<<63):
		return math.MinInt64
	case neg:
		return -int64(n)
	case overflow || n > math.MaxInt64:
		return math.MaxInt64
	}
	return int64(n)
}
