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
	fmt.Fprintf(w, "why: %s\n", hal.SelectedChoice().Reason())
	if env := pmemEnv(); len(env) > 0 {
		fmt.Fprintf(w, "environment: %s\n", strings.Join(env, " "))
	}
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
