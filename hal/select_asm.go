//go:build amd64 && gc && !purego

package hal

// hasAsm reports whether this build has the assembly kernels (CLFLUSH,
// CLFLUSHOPT, CLWB, SFENCE and the non-temporal movers).
const hasAsm = true
