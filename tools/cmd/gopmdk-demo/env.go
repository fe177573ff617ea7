package main

import "os"

// pmemVars are the environment variables that steer PMDK's and hal's
// choice of kernels and of the persist path (man 7 libpmem).
var pmemVars = []string{
	"PMEM_IS_PMEM_FORCE", "PMEM_NO_CLWB", "PMEM_NO_CLFLUSHOPT", "PMEM_NO_FLUSH",
	"PMEM_NO_MOVNT", "PMEM_MOVNT_THRESHOLD", "PMEM_AVX", "PMEM_AVX512F",
}

// pmemEnv returns the set ones as NAME=value.
func pmemEnv() []string {
	var set []string
	for _, name := range pmemVars {
		if v, ok := os.LookupEnv(name); ok {
			set = append(set, name+"="+v)
		}
	}
	return set
}
