package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/gopmdk/pmdk/hal"
)

// printHAL reports the CPU features and the kernel set chosen at init.
func printHAL(w io.Writer) {
	f := hal.CPU()
	fmt.Fprintln(w, "== hal: CPU features")
	fmt.Fprintf(w, "flush:  %s\n", yesNo(map[string]bool{
		"clflush": f.CLFLUSH, "clflushopt": f.CLFLUSHOPT, "clwb": f.CLWB}, "clflush", "clflushopt", "clwb"))
	fmt.Fprintf(w, "stores: %s\n", yesNo(map[string]bool{
		"sse2": f.SSE2, "avx": f.AVX, "avx2": f.AVX2, "avx512f": f.AVX512F}, "sse2", "avx", "avx2", "avx512f"))
	fmt.Fprintf(w, "cache line: %d bytes\n", f.CacheLineSize)

	k := hal.Selected()
	fmt.Fprintln(w, "\n== hal: selected kernel set")
	fmt.Fprintf(w, "kernel set: %s\n", k.Name())
	fmt.Fprintf(w, "flush: %s, non-temporal stores: %s from %d bytes\n", k.Flush(), k.Move(), k.MovntThreshold())
	fmt.Fprintf(w, "why: %s\n", why(f, k))
}

func yesNo(m map[string]bool, order ...string) string {
	var parts []string
	for _, name := range order {
		mark := "-"
		if m[name] {
			mark = "+"
		}
		parts = append(parts, mark+name)
	}
	return strings.Join(parts, " ")
}

// why explains the choice from what the CPU offers and the set got, so an
// override by a PMEM_* variable or a build without assembly shows.
func why(f hal.Features, k *hal.Kernels) string {
	var best string
	switch {
	case f.CLWB:
		best = "clwb"
	case f.CLFLUSHOPT:
		best = "clflushopt"
	case f.CLFLUSH:
		best = "clflush"
	default:
		best = "none"
	}
	var reasons []string
	switch {
	case k.Flush().String() == best:
		reasons = append(reasons, "best flush instruction the CPU has")
	case k.Flush() == hal.FlushMsync:
		reasons = append(reasons, fmt.Sprintf("portable msync fallback (CPU offers %s; this build or hal has no kernel using it)", best))
	default:
		reasons = append(reasons, fmt.Sprintf("CPU offers %s but %s was chosen (PMEM_NO_* override, or a build without those kernels)", best, k.Flush()))
	}
	for _, env := range pmemEnv() {
		reasons = append(reasons, "environment "+env)
	}
	return strings.Join(reasons, "; ")
}
