//go:build amd64 && gc && !purego

#include "textflag.h"

// The physical-limit references: non-temporal store loops with no flush and
// no fence, 64 bytes per iteration. n is a multiple of 64, dst is 32-byte
// aligned (AVX2) or 16-byte aligned (SSE2).

// func ntCopyAVX2(dst, src *byte, n uintptr)
TEXT ·ntCopyAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $6, CX
	JZ   done
loop:
	VMOVDQU  0(SI), Y0
	VMOVDQU  32(SI), Y1
	VMOVNTDQ Y0, 0(DI)
	VMOVNTDQ Y1, 32(DI)
	ADDQ     $64, SI
	ADDQ     $64, DI
	DECQ     CX
	JNZ      loop
done:
	VZEROUPPER
	RET

// func ntCopySSE2(dst, src *byte, n uintptr)
TEXT ·ntCopySSE2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $6, CX
	JZ   done
loop:
	MOVOU  0(SI), X0
	MOVOU  16(SI), X1
	MOVOU  32(SI), X2
	MOVOU  48(SI), X3
	MOVNTO X0, 0(DI)
	MOVNTO X1, 16(DI)
	MOVNTO X2, 32(DI)
	MOVNTO X3, 48(DI)
	ADDQ   $64, SI
	ADDQ   $64, DI
	DECQ   CX
	JNZ    loop
done:
	RET

// func ntFillAVX2(dst, pattern *byte, n uintptr)
// pattern is 64 bytes, stored again and again.
TEXT ·ntFillAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    pattern+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	SHRQ    $6, CX
	JZ      done
loop:
	VMOVNTDQ Y0, 0(DI)
	VMOVNTDQ Y1, 32(DI)
	ADDQ     $64, DI
	DECQ     CX
	JNZ      loop
done:
	VZEROUPPER
	RET

// func ntFillSSE2(dst, pattern *byte, n uintptr)
TEXT ·ntFillSSE2(SB), NOSPLIT, $0-24
	MOVQ  dst+0(FP), DI
	MOVQ  pattern+8(FP), SI
	MOVQ  n+16(FP), CX
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	SHRQ  $6, CX
	JZ    done
loop:
	MOVNTO X0, 0(DI)
	MOVNTO X1, 16(DI)
	MOVNTO X2, 32(DI)
	MOVNTO X3, 48(DI)
	ADDQ   $64, DI
	DECQ   CX
	JNZ    loop
done:
	RET

// func sfence()
TEXT ·sfence(SB), NOSPLIT, $0-0
	SFENCE
	RET

// func ntCopyAVX512(dst, src *byte, n uintptr)
// dst is 64-byte aligned.
TEXT ·ntCopyAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $6, CX
	JZ   done
loop:
	VMOVDQU64 0(SI), Z0
	VMOVNTDQ  Z0, 0(DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       loop
done:
	VZEROUPPER
	RET

// func ntFillAVX512(dst, pattern *byte, n uintptr)
TEXT ·ntFillAVX512(SB), NOSPLIT, $0-24
	MOVQ      dst+0(FP), DI
	MOVQ      pattern+8(FP), SI
	MOVQ      n+16(FP), CX
	VMOVDQU64 0(SI), Z0
	SHRQ      $6, CX
	JZ        done
loop:
	VMOVNTDQ Z0, 0(DI)
	ADDQ     $64, DI
	DECQ     CX
	JNZ      loop
done:
	VZEROUPPER
	RET
