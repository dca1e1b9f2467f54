//go:build !purego

#include "textflag.h"

// Transposing pack loops (AVX2): rows of the source become steps of the destination,
// in 8×8 blocks. For each block of eight steps all row groups are done before moving on,
// so each destination line is written whole while it is in L1.
//
// Registers: SI = source at the current step block, R8 = source row stride in bytes,
// R9 = 3*R8; DI = destination at the current step block, R10 = destination stride in
// bytes, R11 = 3*R10; CX = step blocks left, DX = row groups left; R12, BX = rows 0 and
// 4 of the current group; AX, R13 = its destination steps 0 and 4.

// TRANSPOSE8 transposes the 8×8 block in Y0–Y7 (row i in Yi) and stores row i of the
// result (column i of the block) at AX + i*R10.
#define TRANSPOSE8 \
	VUNPCKLPS Y1, Y0, Y8 \
	VUNPCKHPS Y1, Y0, Y9 \
	VUNPCKLPS Y3, Y2, Y10 \
	VUNPCKHPS Y3, Y2, Y11 \
	VUNPCKLPS Y5, Y4, Y12 \
	VUNPCKHPS Y5, Y4, Y13 \
	VUNPCKLPS Y7, Y6, Y14 \
	VUNPCKHPS Y7, Y6, Y15 \
	VSHUFPS $0x44, Y10, Y8, Y0 \
	VSHUFPS $0xEE, Y10, Y8, Y1 \
	VSHUFPS $0x44, Y11, Y9, Y2 \
	VSHUFPS $0xEE, Y11, Y9, Y3 \
	VSHUFPS $0x44, Y14, Y12, Y4 \
	VSHUFPS $0xEE, Y14, Y12, Y5 \
	VSHUFPS $0x44, Y15, Y13, Y6 \
	VSHUFPS $0xEE, Y15, Y13, Y7 \
	VPERM2F128 $0x20, Y4, Y0, Y8 \
	VPERM2F128 $0x20, Y5, Y1, Y9 \
	VPERM2F128 $0x20, Y6, Y2, Y10 \
	VPERM2F128 $0x20, Y7, Y3, Y11 \
	VPERM2F128 $0x31, Y4, Y0, Y12 \
	VPERM2F128 $0x31, Y5, Y1, Y13 \
	VPERM2F128 $0x31, Y6, Y2, Y14 \
	VPERM2F128 $0x31, Y7, Y3, Y15 \
	LEAQ (AX)(R10*4), R13 \
	VMOVUPS Y8, (AX) \
	VMOVUPS Y9, (AX)(R10*1) \
	VMOVUPS Y10, (AX)(R10*2) \
	VMOVUPS Y11, (AX)(R11*1) \
	VMOVUPS Y12, (R13) \
	VMOVUPS Y13, (R13)(R10*1) \
	VMOVUPS Y14, (R13)(R10*2) \
	VMOVUPS Y15, (R13)(R11*1)

// SETUP loads the arguments; elem is log2 of the source element size.
#define SETUP(elem) \
	MOVQ dst+0(FP), DI \
	MOVQ ldd+8(FP), R10 \
	SHLQ $2, R10 \
	LEAQ (R10)(R10*2), R11 \
	MOVQ src+16(FP), SI \
	MOVQ lds+24(FP), R8 \
	SHLQ $elem, R8 \
	LEAQ (R8)(R8*2), R9 \
	MOVQ n+40(FP), CX \
	SHRQ $3, CX

// STARTBLOCK begins a step block at row group 0.
#define STARTBLOCK \
	MOVQ rows+32(FP), DX \
	SHRQ $3, DX \
	MOVQ SI, R12 \
	MOVQ DI, AX

// NEXTGROUP moves to the next eight rows; NEXTBLOCK to the next eight steps.
#define NEXTGROUP \
	LEAQ (R12)(R8*8), R12 \
	ADDQ $32, AX \
	DECQ DX

#define NEXTBLOCK(bytes) \
	ADDQ $bytes, SI \
	LEAQ (DI)(R10*8), DI \
	DECQ CX

// func gemmTransposeF32(dst *float32, ldd int, src *float32, lds int, rows, n int)
//
// dst[p*ldd+i] = src[i*lds+p] for i < rows, p < n; rows and n are multiples of 8.
TEXT ·gemmTransposeF32(SB), NOSPLIT, $0-48
	SETUP(2)
	JEQ done

block:
	STARTBLOCK

group:
	LEAQ (R12)(R8*4), BX
	VMOVUPS (R12), Y0
	VMOVUPS (R12)(R8*1), Y1
	VMOVUPS (R12)(R8*2), Y2
	VMOVUPS (R12)(R9*1), Y3
	VMOVUPS (BX), Y4
	VMOVUPS (BX)(R8*1), Y5
	VMOVUPS (BX)(R8*2), Y6
	VMOVUPS (BX)(R9*1), Y7
	TRANSPOSE8
	NEXTGROUP
	JNE group
	NEXTBLOCK(32)
	JNE block

done:
	VZEROUPPER
	RET

// func gemmTransposeBF16(dst *float32, ldd int, src *uint16, lds int, rows, n int)
//
// dst[p*ldd+i] = float32(src[i*lds+p]) for i < rows, p < n, widening bfloat16 (the
// value's bits become the high half of the float32); rows and n are multiples of 8.
TEXT ·gemmTransposeBF16(SB), NOSPLIT, $0-48
	SETUP(1)
	JEQ done

block:
	STARTBLOCK

group:
	LEAQ (R12)(R8*4), BX
	VPMOVZXWD (R12), Y0
	VPMOVZXWD (R12)(R8*1), Y1
	VPMOVZXWD (R12)(R8*2), Y2
	VPMOVZXWD (R12)(R9*1), Y3
	VPMOVZXWD (BX), Y4
	VPMOVZXWD (BX)(R8*1), Y5
	VPMOVZXWD (BX)(R8*2), Y6
	VPMOVZXWD (BX)(R9*1), Y7
	VPSLLD $16, Y0, Y0
	VPSLLD $16, Y1, Y1
	VPSLLD $16, Y2, Y2
	VPSLLD $16, Y3, Y3
	VPSLLD $16, Y4, Y4
	VPSLLD $16, Y5, Y5
	VPSLLD $16, Y6, Y6
	VPSLLD $16, Y7, Y7
	TRANSPOSE8
	NEXTGROUP
	JNE group
	NEXTBLOCK(16)
	JNE block

done:
	VZEROUPPER
	RET

// func gemmWidenBF16(dst *float32, src *uint16, n int)
//
// dst[i] = float32(src[i]) for i < n&^15, widening bfloat16.
TEXT ·gemmWidenBF16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ done

loop:
	VPMOVZXWD (SI), Y0
	VPMOVZXWD 16(SI), Y1
	VPSLLD $16, Y0, Y0
	VPSLLD $16, Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNE loop

done:
	VZEROUPPER
	RET
