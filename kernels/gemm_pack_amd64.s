//go:build !purego

#include "textflag.h"

// Packing loops (AVX2). The Go compiler keeps few of the many live indexes of a packing
// loop in registers and copies arrays through memmove, so the packing loops that matter
// are written here. Each call packs one block: tens of microseconds at most.

// Transposing: rows of the source become steps of the destination, in 8×8 blocks. The
// loop takes 16 steps (64 bytes of float32 source, a whole line) from each row of every
// row group before moving on: the lines of a group of rows a power of two apart all fall
// in one L1 set, so a line half used now would be evicted before its second half is.
//
// Registers: SI = source at the current step block, R8 = source row stride in bytes,
// R9 = 3*R8; DI = destination at the current step block, R10 = destination stride in
// bytes, R11 = 3*R10; CX = step blocks left, DX = row groups left; R12, BX = rows 0 and
// 4 of the current group; AX = its destination; R13 = the destination being stored.

// TRANSPOSE8 transposes the 8×8 block in Y0–Y7 (row i in Yi) and stores row i of the
// result (column i of the block) at R13 + i*R10, leaving R13 advanced by 4*R10.
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
	VMOVUPS Y8, (R13) \
	VMOVUPS Y9, (R13)(R10*1) \
	VMOVUPS Y10, (R13)(R10*2) \
	VMOVUPS Y11, (R13)(R11*1) \
	LEAQ (R13)(R10*4), R13 \
	VMOVUPS Y12, (R13) \
	VMOVUPS Y13, (R13)(R10*1) \
	VMOVUPS Y14, (R13)(R10*2) \
	VMOVUPS Y15, (R13)(R11*1)

// LOADF32 loads eight float32 from each of the group's rows, off bytes in.
#define LOADF32(off) \
	VMOVUPS off(R12), Y0 \
	VMOVUPS off(R12)(R8*1), Y1 \
	VMOVUPS off(R12)(R8*2), Y2 \
	VMOVUPS off(R12)(R9*1), Y3 \
	VMOVUPS off(BX), Y4 \
	VMOVUPS off(BX)(R8*1), Y5 \
	VMOVUPS off(BX)(R8*2), Y6 \
	VMOVUPS off(BX)(R9*1), Y7

// LOADBF16 loads eight bfloat16 from each of the group's rows, off bytes in, and widens
// them: a bfloat16's bits are the high half of its float32.
#define LOADBF16(off) \
	VPMOVZXWD off(R12), Y0 \
	VPMOVZXWD off(R12)(R8*1), Y1 \
	VPMOVZXWD off(R12)(R8*2), Y2 \
	VPMOVZXWD off(R12)(R9*1), Y3 \
	VPMOVZXWD off(BX), Y4 \
	VPMOVZXWD off(BX)(R8*1), Y5 \
	VPMOVZXWD off(BX)(R8*2), Y6 \
	VPMOVZXWD off(BX)(R9*1), Y7 \
	VPSLLD $16, Y0, Y0 \
	VPSLLD $16, Y1, Y1 \
	VPSLLD $16, Y2, Y2 \
	VPSLLD $16, Y3, Y3 \
	VPSLLD $16, Y4, Y4 \
	VPSLLD $16, Y5, Y5 \
	VPSLLD $16, Y6, Y6 \
	VPSLLD $16, Y7, Y7

// SETUP loads the arguments; elem is log2 of the source element size.
#define SETUP(elem) \
	MOVQ dst+0(FP), DI \
	MOVQ ldd+8(FP), R10 \
	SHLQ $2, R10 \
	LEAQ (R10)(R10*2), R11 \
	MOVQ src+16(FP), SI \
	MOVQ lds+24(FP), R8 \
	SHLQ $elem, R8 \
	LEAQ (R8)(R8*2), R9

// STARTBLOCK begins a step block at row group 0.
#define STARTBLOCK \
	MOVQ rows+32(FP), DX \
	SHRQ $3, DX \
	MOVQ SI, R12 \
	MOVQ DI, AX

// STARTGROUP points BX at row 4 and R13 at the destination of the group.
#define STARTGROUP \
	LEAQ (R12)(R8*4), BX \
	MOVQ AX, R13

// NEXTGROUP moves to the next eight rows, setting the flags for the group loop.
#define NEXTGROUP \
	LEAQ (R12)(R8*8), R12 \
	ADDQ $32, AX \
	DECQ DX

// func gemmTransposeF32(dst *float32, ldd int, src *float32, lds int, rows, n int)
//
// dst[p*ldd+i] = src[i*lds+p] for i < rows, p < n; rows and n are multiples of 8.
TEXT ·gemmTransposeF32(SB), NOSPLIT, $0-48
	SETUP(2)
	MOVQ n+40(FP), CX
	SHRQ $4, CX
	JEQ tail

block16:
	STARTBLOCK

group16:
	STARTGROUP
	LOADF32(0)
	TRANSPOSE8
	LEAQ (R13)(R10*4), R13
	LOADF32(32)
	TRANSPOSE8
	NEXTGROUP
	JNE group16
	ADDQ $64, SI
	LEAQ (DI)(R10*8), DI
	LEAQ (DI)(R10*8), DI
	DECQ CX
	JNE block16

tail:
	MOVQ n+40(FP), CX
	TESTQ $8, CX
	JEQ done
	STARTBLOCK

group8:
	STARTGROUP
	LOADF32(0)
	TRANSPOSE8
	NEXTGROUP
	JNE group8

done:
	VZEROUPPER
	RET

// func gemmTransposeBF16(dst *float32, ldd int, src *uint16, lds int, rows, n int)
//
// dst[p*ldd+i] = float32(src[i*lds+p]) for i < rows, p < n, widening bfloat16; rows and
// n are multiples of 8.
TEXT ·gemmTransposeBF16(SB), NOSPLIT, $0-48
	SETUP(1)
	MOVQ n+40(FP), CX
	SHRQ $4, CX
	JEQ tail

block16:
	STARTBLOCK

group16:
	STARTGROUP
	LOADBF16(0)
	TRANSPOSE8
	LEAQ (R13)(R10*4), R13
	LOADBF16(16)
	TRANSPOSE8
	NEXTGROUP
	JNE group16
	ADDQ $32, SI
	LEAQ (DI)(R10*8), DI
	LEAQ (DI)(R10*8), DI
	DECQ CX
	JNE block16

tail:
	MOVQ n+40(FP), CX
	TESTQ $8, CX
	JEQ done
	STARTBLOCK

group8:
	STARTGROUP
	LOADBF16(0)
	TRANSPOSE8
	NEXTGROUP
	JNE group8

done:
	VZEROUPPER
	RET

// func gemmCopyRows(dst *float32, ldd, cstride int, src *float32, lds, n, cols int)
//
// Copies n rows of cols float32 (a multiple of 8): chunk c (eight values) of row p goes
// to dst[p*ldd + c*cstride:], so one call can also deal a row out to several panels.
TEXT ·gemmCopyRows(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ cstride+16(FP), R9
	SHLQ $2, R9
	MOVQ src+24(FP), SI
	MOVQ lds+32(FP), R10
	SHLQ $2, R10
	MOVQ n+40(FP), CX
	MOVQ cols+48(FP), DX
	SHRQ $3, DX
	JEQ done
	TESTQ CX, CX
	JEQ done

row:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ DX, R11

chunk:
	VMOVUPS (AX), Y0
	VMOVUPS Y0, (BX)
	ADDQ $32, AX
	ADDQ R9, BX
	DECQ R11
	JNE chunk
	ADDQ R10, SI
	ADDQ R8, DI
	DECQ CX
	JNE row

done:
	VZEROUPPER
	RET

// func gemmWidenRows(dst *float32, ldd int, src *uint16, lds, n, cols int)
//
// dst[p*ldd+i] = float32(src[p*lds+i]) for p < n, i < cols (a multiple of 8), widening
// bfloat16.
TEXT ·gemmWidenRows(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R10
	SHLQ $1, R10
	MOVQ n+32(FP), CX
	MOVQ cols+40(FP), DX
	SHRQ $3, DX
	JEQ done
	TESTQ CX, CX
	JEQ done

row:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ DX, R11

chunk:
	VPMOVZXWD (AX), Y0
	VPSLLD $16, Y0, Y0
	VMOVUPS Y0, (BX)
	ADDQ $16, AX
	ADDQ $32, BX
	DECQ R11
	JNE chunk
	ADDQ R10, SI
	ADDQ R8, DI
	DECQ CX
	JNE row

done:
	VZEROUPPER
	RET
