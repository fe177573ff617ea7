//go:build amd64 && gc && !purego

package hal_test

import (
	"testing"

	"github.com/gopmdk/pmdk/hal"
)

// TestAsmBuildSupportsCPU: a build with the assembly kernels must offer
// every instruction the CPU has, or the kernels would silently go unused.
func TestAsmBuildSupportsCPU(t *testing.T) {
	c := hal.CPU()
	for _, tc := range []struct {
		has  bool
		f    hal.FlushKind
		m    hal.MoveKind
		what string
	}{
		{c.CLFLUSH, hal.FlushCLFLUSH, hal.MoveGeneric, "CLFLUSH"},
		{c.CLFLUSHOPT, hal.FlushCLFLUSHOPT, hal.MoveGeneric, "CLFLUSHOPT"},
		{c.CLWB, hal.FlushCLWB, hal.MoveGeneric, "CLWB"},
		{c.SSE2, hal.FlushNone, hal.MoveSSE2, "SSE2"},
		{c.AVX, hal.FlushNone, hal.MoveAVX, "AVX"},
		{c.AVX512F, hal.FlushNone, hal.MoveAVX512F, "AVX-512F"},
	} {
		if got := hal.Supported(tc.f, tc.m); got != tc.has {
			t.Errorf("CPU has %s = %v, but Supported(%s, %s) = %v", tc.what, tc.has, tc.f, tc.m, got)
		}
	}
}
