//go:build amd64 && gc && !purego && !race

#include "textflag.h"

// A plain store: x86 keeps stores in program order and never moves a
// store before an earlier load, so it is a release.

// func storeRelease64(p *uint64, v uint64)
TEXT ·storeRelease64(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ v+8(FP), BX
	MOVQ BX, (AX)
	RET
