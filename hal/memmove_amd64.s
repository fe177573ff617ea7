//go:build amd64 && gc && !purego

#include "textflag.h"

// Non-temporal copy bodies. Contract (checked by the Go caller): dst is
// 64-byte aligned, n is a multiple of 64. Each chunk is loaded in full
// before it is stored, so the forward kernels are correct for dst < src and
// the backward kernels (which walk from the end) for dst > src, overlapping
// or not. They neither flush nor fence.

// func ntCopyFwdSSE2(dst, src unsafe.Pointer, n uintptr)
TEXT ·ntCopyFwdSSE2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

sse2Fwd128:
	CMPQ   CX, $128
	JB     sse2Fwd64
	MOVOU  0(SI), X0
	MOVOU  16(SI), X1
	MOVOU  32(SI), X2
	MOVOU  48(SI), X3
	MOVOU  64(SI), X4
	MOVOU  80(SI), X5
	MOVOU  96(SI), X6
	MOVOU  112(SI), X7
	MOVNTO X0, 0(DI)
	MOVNTO X1, 16(DI)
	MOVNTO X2, 32(DI)
	MOVNTO X3, 48(DI)
	MOVNTO X4, 64(DI)
	MOVNTO X5, 80(DI)
	MOVNTO X6, 96(DI)
	MOVNTO X7, 112(DI)
	ADDQ   $128, SI
	ADDQ   $128, DI
	SUBQ   $128, CX
	JMP    sse2Fwd128

sse2Fwd64:
	TESTQ  CX, CX
	JZ     sse2FwdDone
	MOVOU  0(SI), X0
	MOVOU  16(SI), X1
	MOVOU  32(SI), X2
	MOVOU  48(SI), X3
	MOVNTO X0, 0(DI)
	MOVNTO X1, 16(DI)
	MOVNTO X2, 32(DI)
	MOVNTO X3, 48(DI)

sse2FwdDone:
	RET

// func ntCopyBwdSSE2(dst, src unsafe.Pointer, n uintptr)
TEXT ·ntCopyBwdSSE2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	ADDQ CX, DI
	ADDQ CX, SI

sse2Bwd128:
	CMPQ   CX, $128
	JB     sse2Bwd64
	SUBQ   $128, SI
	SUBQ   $128, DI
	MOVOU  0(SI), X0
	MOVOU  16(SI), X1
	MOVOU  32(SI), X2
	MOVOU  48(SI), X3
	MOVOU  64(SI), X4
	MOVOU  80(SI), X5
	MOVOU  96(SI), X6
	MOVOU  112(SI), X7
	MOVNTO X0, 0(DI)
	MOVNTO X1, 16(DI)
	MOVNTO X2, 32(DI)
	MOVNTO X3, 48(DI)
	MOVNTO X4, 64(DI)
	MOVNTO X5, 80(DI)
	MOVNTO X6, 96(DI)
	MOVNTO X7, 112(DI)
	SUBQ   $128, CX
	JMP    sse2Bwd128

sse2Bwd64:
	TESTQ  CX, CX
	JZ     sse2BwdDone
	SUBQ   $64, SI
	SUBQ   $64, DI
	MOVOU  0(SI), X0
	MOVOU  16(SI), X1
	MOVOU  32(SI), X2
	MOVOU  48(SI), X3
	MOVNTO X0, 0(DI)
	MOVNTO X1, 16(DI)
	MOVNTO X2, 32(DI)
	MOVNTO X3, 48(DI)

sse2BwdDone:
	RET

// func ntCopyFwdAVX(dst, src unsafe.Pointer, n uintptr)
TEXT ·ntCopyFwdAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

avxFwd256:
	CMPQ     CX, $256
	JB       avxFwd64
	VMOVDQU  0(SI), Y0
	VMOVDQU  32(SI), Y1
	VMOVDQU  64(SI), Y2
	VMOVDQU  96(SI), Y3
	VMOVDQU  128(SI), Y4
	VMOVDQU  160(SI), Y5
	VMOVDQU  192(SI), Y6
	VMOVDQU  224(SI), Y7
	VMOVNTDQ Y0, 0(DI)
	VMOVNTDQ Y1, 32(DI)
	VMOVNTDQ Y2, 64(DI)
	VMOVNTDQ Y3, 96(DI)
	VMOVNTDQ Y4, 128(DI)
	VMOVNTDQ Y5, 160(DI)
	VMOVNTDQ Y6, 192(DI)
	VMOVNTDQ Y7, 224(DI)
	ADDQ     $256, SI
	ADDQ     $256, DI
	SUBQ     $256, CX
	JMP      avxFwd256

avxFwd64:
	TESTQ    CX, CX
	JZ       avxFwdDone
	VMOVDQU  0(SI), Y0
	VMOVDQU  32(SI), Y1
	VMOVNTDQ Y0, 0(DI)
	VMOVNTDQ Y1, 32(DI)
	ADDQ     $64, SI
	ADDQ     $64, DI
	SUBQ     $64, CX
	JMP      avxFwd64

avxFwdDone:
	VZEROUPPER
	RET

// func ntCopyBwdAVX(dst, src unsafe.Pointer, n uintptr)
TEXT ·ntCopyBwdAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	ADDQ CX, DI
	ADDQ CX, SI

avxBwd256:
	CMPQ     CX, $256
	JB       avxBwd64
	SUBQ     $256, SI
	SUBQ     $256, DI
	VMOVDQU  0(SI), Y0
	VMOVDQU  32(SI), Y1
	VMOVDQU  64(SI), Y2
	VMOVDQU  96(SI), Y3
	VMOVDQU  128(SI), Y4
	VMOVDQU  160(SI), Y5
	VMOVDQU  192(SI), Y6
	VMOVDQU  224(SI), Y7
	VMOVNTDQ Y0, 0(DI)
	VMOVNTDQ Y1, 32(DI)
	VMOVNTDQ Y2, 64(DI)
	VMOVNTDQ Y3, 96(DI)
	VMOVNTDQ Y4, 128(DI)
	VMOVNTDQ Y5, 160(DI)
	VMOVNTDQ Y6, 192(DI)
	VMOVNTDQ Y7, 224(DI)
	SUBQ     $256, CX
	JMP      avxBwd256

avxBwd64:
	TESTQ    CX, CX
	JZ       avxBwdDone
	SUBQ     $64, SI
	SUBQ     $64, DI
	VMOVDQU  0(SI), Y0
	VMOVDQU  32(SI), Y1
	VMOVNTDQ Y0, 0(DI)
	VMOVNTDQ Y1, 32(DI)
	SUBQ     $64, CX
	JMP      avxBwd64

avxBwdDone:
	VZEROUPPER
	RET

// func ntCopyFwdAVX512(dst, src unsafe.Pointer, n uintptr)
TEXT ·ntCopyFwdAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

avx512Fwd256:
	CMPQ      CX, $256
	JB        avx512Fwd64
	VMOVDQU64 0(SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 128(SI), Z2
	VMOVDQU64 192(SI), Z3
	VMOVNTDQ  Z0, 0(DI)
	VMOVNTDQ  Z1, 64(DI)
	VMOVNTDQ  Z2, 128(DI)
	VMOVNTDQ  Z3, 192(DI)
	ADDQ      $256, SI
	ADDQ      $256, DI
	SUBQ      $256, CX
	JMP       avx512Fwd256

avx512Fwd64:
	TESTQ     CX, CX
	JZ        avx512FwdDone
	VMOVDQU64 0(SI), Z0
	VMOVNTDQ  Z0, 0(DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	SUBQ      $64, CX
	JMP       avx512Fwd64

avx512FwdDone:
	VZEROUPPER
	RET

// func ntCopyBwdAVX512(dst, src unsafe.Pointer, n uintptr)
TEXT ·ntCopyBwdAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	ADDQ CX, DI
	ADDQ CX, SI

avx512Bwd256:
	CMPQ      CX, $256
	JB        avx512Bwd64
	SUBQ      $256, SI
	SUBQ      $256, DI
	VMOVDQU64 0(SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 128(SI), Z2
	VMOVDQU64 192(SI), Z3
	VMOVNTDQ  Z0, 0(DI)
	VMOVNTDQ  Z1, 64(DI)
	VMOVNTDQ  Z2, 128(DI)
	VMOVNTDQ  Z3, 192(DI)
	SUBQ      $256, CX
	JMP       avx512Bwd256

avx512Bwd64:
	TESTQ     CX, CX
	JZ        avx512BwdDone
	SUBQ      $64, SI
	SUBQ      $64, DI
	VMOVDQU64 0(SI), Z0
	VMOVNTDQ  Z0, 0(DI)
	SUBQ      $64, CX
	JMP       avx512Bwd64

avx512BwdDone:
	VZEROUPPER
	RET

// Temporal copy bodies for Kernels.Copy. Contract (checked by the Go
// caller): n is a multiple of 64 and dst and src do not overlap. Loads and
// stores are unaligned; nothing is flushed or fenced.

// func tCopyFwdAVX(dst, src unsafe.Pointer, n uintptr)
TEXT ·tCopyFwdAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

tAVX128:
	CMPQ    CX, $128
	JB      tAVX64
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $128, CX
	JMP     tAVX128

tAVX64:
	TESTQ   CX, CX
	JZ      tAVXDone
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)

tAVXDone:
	VZEROUPPER
	RET

// func tCopyFwdAVX512(dst, src unsafe.Pointer, n uintptr)
TEXT ·tCopyFwdAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

tAVX512x256:
	CMPQ      CX, $256
	JB        tAVX512x64
	VMOVDQU64 0(SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 128(SI), Z2
	VMOVDQU64 192(SI), Z3
	VMOVDQU64 Z0, 0(DI)
	VMOVDQU64 Z1, 64(DI)
	VMOVDQU64 Z2, 128(DI)
	VMOVDQU64 Z3, 192(DI)
	ADDQ      $256, SI
	ADDQ      $256, DI
	SUBQ      $256, CX
	JMP       tAVX512x256

tAVX512x64:
	TESTQ     CX, CX
	JZ        tAVX512Done
	VMOVDQU64 0(SI), Z0
	VMOVDQU64 Z0, 0(DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	SUBQ      $64, CX
	JMP       tAVX512x64

tAVX512Done:
	VZEROUPPER
	RET
