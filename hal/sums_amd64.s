//go:build amd64 && gc && !purego

#include "textflag.h"

// func sumLanesSSE2(p unsafe.Pointer, n uintptr, lanes *[8]uint32)
TEXT ·sumLanesSSE2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ lanes+16(FP), DI
	PXOR X0, X0 // A
	PXOR X1, X1 // B

loop:
	MOVOU 0(SI), X2
	PADDL X2, X0
	PADDL X0, X1
	MOVOU 16(SI), X3
	PADDL X3, X0
	PADDL X0, X1
	MOVOU 32(SI), X4
	PADDL X4, X0
	PADDL X0, X1
	MOVOU 48(SI), X5
	PADDL X5, X0
	PADDL X0, X1
	ADDQ  $64, SI
	SUBQ  $64, CX
	JNZ   loop

	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	RET
