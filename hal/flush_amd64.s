//go:build amd64 && gc && !purego

#include "textflag.h"

// Cache-line flush loops. Callers pass n > 0; the start is aligned down to
// the 64-byte line, so every line overlapping [p, p+n) is written back.

// func flushCLWB(p unsafe.Pointer, n uintptr)
TEXT ·flushCLWB(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX
	ANDQ $~63, AX

clwbLoop:
	CLWB (AX)
	ADDQ $64, AX
	CMPQ AX, CX
	JB   clwbLoop
	RET

// func flushCLFLUSHOPT(p unsafe.Pointer, n uintptr)
TEXT ·flushCLFLUSHOPT(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX
	ANDQ $~63, AX

clflushoptLoop:
	CLFLUSHOPT (AX)
	ADDQ $64, AX
	CMPQ AX, CX
	JB   clflushoptLoop
	RET

// func flushCLFLUSH(p unsafe.Pointer, n uintptr)
TEXT ·flushCLFLUSH(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX
	ANDQ $~63, AX

clflushLoop:
	CLFLUSH (AX)
	ADDQ $64, AX
	CMPQ AX, CX
	JB   clflushLoop
	RET

// func sfence()
TEXT ·sfence(SB), NOSPLIT, $0-0
	SFENCE
	RET
