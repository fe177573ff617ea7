//go:build amd64 && gc && !purego

#include "textflag.h"

// Non-temporal fill bodies. Contract (checked by the Go caller): dst is
// 64-byte aligned, n is a multiple of 64, pat is the fill byte repeated 8
// times. They neither flush nor fence.

// func ntSetSSE2(dst unsafe.Pointer, n uintptr, pat uint64)
TEXT ·ntSetSSE2(SB), NOSPLIT, $0-24
	MOVQ       dst+0(FP), DI
	MOVQ       n+8(FP), CX
	MOVQ       pat+16(FP), X0
	PUNPCKLQDQ X0, X0

sse2Set128:
	CMPQ   CX, $128
	JB     sse2Set64
	MOVNTO X0, 0(DI)
	MOVNTO X0, 16(DI)
	MOVNTO X0, 32(DI)
	MOVNTO X0, 48(DI)
	MOVNTO X0, 64(DI)
	MOVNTO X0, 80(DI)
	MOVNTO X0, 96(DI)
	MOVNTO X0, 112(DI)
	ADDQ   $128, DI
	SUBQ   $128, CX
	JMP    sse2Set128

sse2Set64:
	TESTQ  CX, CX
	JZ     sse2SetDone
	MOVNTO X0, 0(DI)
	MOVNTO X0, 16(DI)
	MOVNTO X0, 32(DI)
	MOVNTO X0, 48(DI)

sse2SetDone:
	RET

// func ntSetAVX(dst unsafe.Pointer, n uintptr, pat uint64)
TEXT ·ntSetAVX(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSD pat+16(FP), Y0

avxSet256:
	CMPQ     CX, $256
	JB       avxSet64
	VMOVNTDQ Y0, 0(DI)
	VMOVNTDQ Y0, 32(DI)
	VMOVNTDQ Y0, 64(DI)
	VMOVNTDQ Y0, 96(DI)
	VMOVNTDQ Y0, 128(DI)
	VMOVNTDQ Y0, 160(DI)
	VMOVNTDQ Y0, 192(DI)
	VMOVNTDQ Y0, 224(DI)
	ADDQ     $256, DI
	SUBQ     $256, CX
	JMP      avxSet256

avxSet64:
	TESTQ    CX, CX
	JZ       avxSetDone
	VMOVNTDQ Y0, 0(DI)
	VMOVNTDQ Y0, 32(DI)
	ADDQ     $64, DI
	SUBQ     $64, CX
	JMP      avxSet64

avxSetDone:
	VZEROUPPER
	RET

// func ntSetAVX512(dst unsafe.Pointer, n uintptr, pat uint64)
TEXT ·ntSetAVX512(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         n+8(FP), CX
	MOVQ         pat+16(FP), AX
	VPBROADCASTQ AX, Z0

avx512Set256:
	CMPQ     CX, $256
	JB       avx512Set64
	VMOVNTDQ Z0, 0(DI)
	VMOVNTDQ Z0, 64(DI)
	VMOVNTDQ Z0, 128(DI)
	VMOVNTDQ Z0, 192(DI)
	ADDQ     $256, DI
	SUBQ     $256, CX
	JMP      avx512Set256

avx512Set64:
	TESTQ    CX, CX
	JZ       avx512SetDone
	VMOVNTDQ Z0, 0(DI)
	ADDQ     $64, DI
	SUBQ     $64, CX
	JMP      avx512Set64

avx512SetDone:
	VZEROUPPER
	RET
