// AVX2 + FMA versions of the vector kernels.
//
// Loops run over 8-float vectors. The last partial vector goes through the same code
// with VMASKMOVPS, which reads zeros past the end of a slice and writes nothing there:
// Y6 holds its lane mask, so the kernels built on exp keep their scratch in Y0-Y5 and
// the exp constants in Y7-Y15. Bodies that serve both cases are macros taking the load
// and store to use (LOADU/STOREU or LOADM/STOREM). Every function ends with VZEROUPPER:
// the Go code around it uses SSE.

#include "textflag.h"

// The constants of exp; see vec_avx512_amd64.s for the method. Without VSCALEFPS the
// scaling by 2^n, n in [-150, 128] after the clamp, is two multiplications by 2^(n/2)
// and 2^(n-n/2), each a normal float built from its exponent bits, so overflow and
// gradual underflow come out of the second one correctly rounded.
DATA expc<>+0(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expc<>+4(SB)/4, $0xbf317200  // -ln2 high part
DATA expc<>+8(SB)/4, $0xb5bfbe8e  // -ln2 low part
DATA expc<>+12(SB)/4, $0x39502bda // P: r^5
DATA expc<>+16(SB)/4, $0x3ab696c9 // r^4
DATA expc<>+20(SB)/4, $0x3c0888a6 // r^3
DATA expc<>+24(SB)/4, $0x3d2aaa7a // r^2
DATA expc<>+28(SB)/4, $0x3e2aaaab // r
DATA expc<>+32(SB)/4, $0xc2d00000 // -104
DATA expc<>+36(SB)/4, $0x42b20000 // 89
DATA expc<>+40(SB)/4, $0xff800000 // -Inf
GLOBL expc<>(SB), RODATA|NOPTR, $44

// Whole vectors, for memory operands.
DATA half<>+0(SB)/8, $0x3f0000003f000000
DATA half<>+8(SB)/8, $0x3f0000003f000000
DATA half<>+16(SB)/8, $0x3f0000003f000000
DATA half<>+24(SB)/8, $0x3f0000003f000000
GLOBL half<>(SB), RODATA|NOPTR, $32

DATA one<>+0(SB)/8, $0x3f8000003f800000
DATA one<>+8(SB)/8, $0x3f8000003f800000
DATA one<>+16(SB)/8, $0x3f8000003f800000
DATA one<>+24(SB)/8, $0x3f8000003f800000
GLOBL one<>(SB), RODATA|NOPTR, $32

DATA bias<>+0(SB)/8, $0x0000007f0000007f // the float exponent bias, 127
DATA bias<>+8(SB)/8, $0x0000007f0000007f
DATA bias<>+16(SB)/8, $0x0000007f0000007f
DATA bias<>+24(SB)/8, $0x0000007f0000007f
GLOBL bias<>(SB), RODATA|NOPTR, $32

DATA sign<>+0(SB)/8, $0x8000000080000000
DATA sign<>+8(SB)/8, $0x8000000080000000
DATA sign<>+16(SB)/8, $0x8000000080000000
DATA sign<>+24(SB)/8, $0x8000000080000000
GLOBL sign<>(SB), RODATA|NOPTR, $32

// Eight set lanes then eight clear ones: the 32 bytes at tailmask+32-4k have the low k
// lanes set.
DATA tailmask<>+0(SB)/8, $0xffffffffffffffff
DATA tailmask<>+8(SB)/8, $0xffffffffffffffff
DATA tailmask<>+16(SB)/8, $0xffffffffffffffff
DATA tailmask<>+24(SB)/8, $0xffffffffffffffff
DATA tailmask<>+32(SB)/8, $0
DATA tailmask<>+40(SB)/8, $0
DATA tailmask<>+48(SB)/8, $0
DATA tailmask<>+56(SB)/8, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

#define EXP_CONSTS \
	VBROADCASTSS expc<>+32(SB), Y7;  \
	VBROADCASTSS expc<>+36(SB), Y8;  \
	VBROADCASTSS expc<>+0(SB), Y9;   \
	VBROADCASTSS expc<>+4(SB), Y10;  \
	VBROADCASTSS expc<>+8(SB), Y11;  \
	VBROADCASTSS expc<>+16(SB), Y12; \
	VBROADCASTSS expc<>+20(SB), Y13; \
	VBROADCASTSS expc<>+24(SB), Y14; \
	VBROADCASTSS expc<>+28(SB), Y15

// EXP sets x = exp(x), using t, n and p as scratch: t = clamp(x) and then r, n = the
// rounded x*log2(e), p = exp(r) = 1 + r + r^2*P(r), and x = p*2^(n/2)*2^(n-n/2). The
// clamp keeps NaN: VMAXPS and VMINPS return their first Go operand when either input is
// NaN.
#define EXP(x, t, n, p) \
	VMAXPS       x, Y7, t;             \
	VMINPS       t, Y8, t;             \
	VMULPS       Y9, t, n;             \
	VROUNDPS     $0, n, n;             \
	VFMADD231PS  Y10, n, t;            \
	VFMADD231PS  Y11, n, t;            \
	VBROADCASTSS expc<>+12(SB), p;     \
	VFMADD213PS  Y12, t, p;            \
	VFMADD213PS  Y13, t, p;            \
	VFMADD213PS  Y14, t, p;            \
	VFMADD213PS  Y15, t, p;            \
	VFMADD213PS  half<>(SB), t, p;     \
	VMULPS       t, t, x;              \
	VFMADD213PS  t, x, p;              \
	VADDPS       one<>(SB), p, p;      \
	VCVTPS2DQ    n, n;                 \
	VPSRAD       $1, n, t;             \
	VPSUBD       t, n, n;              \
	VPADDD       bias<>(SB), t, t;     \
	VPSLLD       $23, t, t;            \
	VPADDD       bias<>(SB), n, n;     \
	VPSLLD       $23, n, n;            \
	VMULPS       t, p, p;              \
	VMULPS       n, p, x

// TAILMASK loads into Y6 the mask of the low CX lanes, 0 < CX < 8. It clobbers CX and
// AX.
#define TAILMASK \
	LEAQ    tailmask<>+32(SB), AX; \
	SHLQ    $2, CX;                \
	SUBQ    CX, AX;                \
	VMOVDQU (AX), Y6

#define LOADU(m, r) VMOVUPS m, r
#define STOREU(r, m) VMOVUPS r, m
#define LOADM(m, r) VMASKMOVPS m, Y6, r
#define STOREM(r, m) VMASKMOVPS r, Y6, m

// HSUM adds the 8 lanes of Y0 into the low lane of X0, using Y1 as scratch.
#define HSUM \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVSHDUP    X0, X1;     \
	VADDSS       X1, X0, X0

// func dotAVX2(x, y []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JB     dot16

dot32:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y7
	VMOVUPS     96(SI), Y8
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y7, Y2
	VFMADD231PS 96(DI), Y8, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         dot32

dot16:
	CMPQ        CX, $16
	JB          dot8
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX

dot8:
	CMPQ        CX, $8
	JB          dottail
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y2
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX

dottail:
	TESTQ       CX, CX
	JZ          dotsum
	TAILMASK
	VMASKMOVPS  (SI), Y6, Y4
	VMASKMOVPS  (DI), Y6, Y5
	VFMADD231PS Y5, Y4, Y3

dotsum:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM
	VMOVSS X0, ret+48(FP)
	VZEROUPPER
	RET

// func dot3AVX2(x, y, z []float32) float32
TEXT ·dot3AVX2(SB), NOSPLIT, $0-76
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	MOVQ   z_base+48(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $16
	JB     dot3x8

dot3x16:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMULPS      (DI), Y4, Y4
	VMULPS      32(DI), Y5, Y5
	VFMADD231PS (DX), Y4, Y0
	VFMADD231PS 32(DX), Y5, Y1
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, DX
	SUBQ        $16, CX
	CMPQ        CX, $16
	JAE         dot3x16

dot3x8:
	CMPQ        CX, $8
	JB          dot3tail
	VMOVUPS     (SI), Y4
	VMULPS      (DI), Y4, Y4
	VFMADD231PS (DX), Y4, Y2
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, DX
	SUBQ        $8, CX

dot3tail:
	TESTQ       CX, CX
	JZ          dot3sum
	TAILMASK
	VMASKMOVPS  (SI), Y6, Y4
	VMASKMOVPS  (DI), Y6, Y5
	VMASKMOVPS  (DX), Y6, Y7
	VMULPS      Y5, Y4, Y4
	VFMADD231PS Y7, Y4, Y3

dot3sum:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM
	VMOVSS X0, ret+72(FP)
	VZEROUPPER
	RET

// func axpyAVX2(a float32, x, y []float32)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	VBROADCASTSS a+0(FP), Y0
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	CMPQ         CX, $32
	JB           axpy8

axpy32:
	VMOVUPS     (DI), Y1
	VMOVUPS     32(DI), Y2
	VMOVUPS     64(DI), Y3
	VMOVUPS     96(DI), Y4
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS     Y1, (DI)
	VMOVUPS     Y2, 32(DI)
	VMOVUPS     Y3, 64(DI)
	VMOVUPS     Y4, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         axpy32

axpy8:
	CMPQ        CX, $8
	JB          axpytail
	VMOVUPS     (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         axpy8

axpytail:
	TESTQ       CX, CX
	JZ          axpydone
	TAILMASK
	VMASKMOVPS  (DI), Y6, Y1
	VMASKMOVPS  (SI), Y6, Y2
	VFMADD231PS Y2, Y0, Y1
	VMASKMOVPS  Y1, Y6, (DI)

axpydone:
	VZEROUPPER
	RET

// func scaleAVX2(a float32, x []float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS a+0(FP), Y0
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	CMPQ         CX, $32
	JB           scale8

scale32:
	VMULPS  (SI), Y0, Y1
	VMULPS  32(SI), Y0, Y2
	VMULPS  64(SI), Y0, Y3
	VMULPS  96(SI), Y0, Y4
	VMOVUPS Y1, (SI)
	VMOVUPS Y2, 32(SI)
	VMOVUPS Y3, 64(SI)
	VMOVUPS Y4, 96(SI)
	ADDQ    $128, SI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     scale32

scale8:
	CMPQ    CX, $8
	JB      scaletail
	VMULPS  (SI), Y0, Y1
	VMOVUPS Y1, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     scale8

scaletail:
	TESTQ      CX, CX
	JZ         scaledone
	TAILMASK
	VMASKMOVPS (SI), Y6, Y1
	VMULPS     Y1, Y0, Y1
	VMASKMOVPS Y1, Y6, (SI)

scaledone:
	VZEROUPPER
	RET

// func addAVX2(dst, x, y []float32)
TEXT ·addAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ y_base+48(FP), DX
	CMPQ CX, $32
	JB   add8

add32:
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS 64(SI), Y3
	VMOVUPS 96(SI), Y4
	VADDPS  (DX), Y1, Y1
	VADDPS  32(DX), Y2, Y2
	VADDPS  64(DX), Y3, Y3
	VADDPS  96(DX), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     add32

add8:
	CMPQ    CX, $8
	JB      addtail
	VMOVUPS (SI), Y1
	VADDPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     add8

addtail:
	TESTQ      CX, CX
	JZ         adddone
	TAILMASK
	VMASKMOVPS (SI), Y6, Y1
	VMASKMOVPS (DX), Y6, Y2
	VADDPS     Y2, Y1, Y1
	VMASKMOVPS Y1, Y6, (DI)

adddone:
	VZEROUPPER
	RET

// func sumAVX2(x []float32) float32
TEXT ·sumAVX2(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JB     sum8

sum32:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	ADDQ   $128, SI
	SUBQ   $32, CX
	CMPQ   CX, $32
	JAE    sum32

sum8:
	CMPQ   CX, $8
	JB     sumtail
	VADDPS (SI), Y1, Y1
	ADDQ   $32, SI
	SUBQ   $8, CX
	JMP    sum8

sumtail:
	TESTQ      CX, CX
	JZ         sumdone
	TAILMASK
	VMASKMOVPS (SI), Y6, Y4
	VADDPS     Y4, Y2, Y2

sumdone:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func maxAVX2(x []float32) float32
//
// VMAXPS does not propagate NaN reliably, so Y2 gathers an unordered compare of every
// input and a NaN anywhere makes the result NaN, as with the builtin max.
TEXT ·maxAVX2(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS expc<>+40(SB), Y0
	VMOVAPS      Y0, Y1
	VMOVAPS      Y0, Y7
	VXORPS       Y2, Y2, Y2
	CMPQ         CX, $16
	JB           max8

max16:
	VMOVUPS (SI), Y3
	VMOVUPS 32(SI), Y4
	VCMPPS  $3, Y4, Y3, Y5 // unordered: either is NaN
	VORPS   Y5, Y2, Y2
	VMAXPS  Y3, Y0, Y0
	VMAXPS  Y4, Y1, Y1
	ADDQ    $64, SI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     max16

max8:
	CMPQ    CX, $8
	JB      maxtail
	VMOVUPS (SI), Y3
	VCMPPS  $3, Y3, Y3, Y5
	VORPS   Y5, Y2, Y2
	VMAXPS  Y3, Y0, Y0
	ADDQ    $32, SI
	SUBQ    $8, CX

maxtail:
	TESTQ      CX, CX
	JZ         maxdone
	TAILMASK
	VMASKMOVPS (SI), Y6, Y3
	VBLENDVPS  Y6, Y3, Y7, Y3 // lanes past the end become -Inf
	VCMPPS     $3, Y3, Y3, Y5
	VORPS      Y5, Y2, Y2
	VMAXPS     Y3, Y1, Y1

maxdone:
	VMAXPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VMAXPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VMAXPS       X1, X0, X0
	VPTEST       Y2, Y2
	JZ           maxret
	VPCMPEQD     Y0, Y0, Y0 // all ones: a NaN

maxret:
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func expAVX2(dst, src []float32)
TEXT ·expAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	EXP_CONSTS
	CMPQ CX, $16
	JB   exp8

exp16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y4
	EXP(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)
	EXP(Y4, Y1, Y2, Y3)
	VMOVUPS Y4, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     exp16

exp8:
	CMPQ    CX, $8
	JB      exptail
	VMOVUPS (SI), Y0
	EXP(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX

exptail:
	TESTQ      CX, CX
	JZ         expdone
	TAILMASK
	VMASKMOVPS (SI), Y6, Y0
	EXP(Y0, Y1, Y2, Y3)
	VMASKMOVPS Y0, Y6, (DI)

expdone:
	VZEROUPPER
	RET

// func expSumAVX2(dst, src []float32, shift float32) float32
//
// dst[i] = exp(src[i] - shift), returning the sum; an empty dst only sums.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-60
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), DX
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS shift+48(FP), Y5
	EXP_CONSTS
	VXORPS       Y4, Y4, Y4

expsum8:
	CMPQ    CX, $8
	JB      expsumtail
	VMOVUPS (SI), Y0
	VSUBPS  Y5, Y0, Y0
	EXP(Y0, Y1, Y2, Y3)
	VADDPS  Y0, Y4, Y4
	TESTQ   DX, DX
	JZ      expsumnext
	VMOVUPS Y0, (DI)

expsumnext:
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  expsum8

expsumtail:
	TESTQ      CX, CX
	JZ         expsumdone
	TAILMASK
	VMASKMOVPS (SI), Y6, Y0
	VSUBPS     Y5, Y0, Y0
	EXP(Y0, Y1, Y2, Y3)
	VANDPS     Y6, Y0, Y0 // lanes past the end must not add exp(-shift)
	VADDPS     Y0, Y4, Y4
	TESTQ      DX, DX
	JZ         expsumdone
	VMASKMOVPS Y0, Y6, (DI)

expsumdone:
	VMOVAPS Y4, Y0
	HSUM
	VMOVSS  X0, ret+56(FP)
	VZEROUPPER
	RET

// SWIGLU computes one vector of silu(gate)*up, gate at SI, up at DX, out at DI.
#define SWIGLU(LOAD, STORE) \
	LOAD((SI), Y0);           \
	VXORPS sign<>(SB), Y0, Y1; \
	EXP(Y1, Y2, Y3, Y4);      \
	VADDPS one<>(SB), Y1, Y1; \
	VDIVPS Y1, Y0, Y0;        \
	LOAD((DX), Y5);           \
	VMULPS Y5, Y0, Y0;        \
	STORE(Y0, (DI))

// func swigluAVX2(out, gate, up []float32)
TEXT ·swigluAVX2(SB), NOSPLIT, $0-72
	MOVQ out_base+0(FP), DI
	MOVQ gate_base+24(FP), SI
	MOVQ gate_len+32(FP), CX
	MOVQ up_base+48(FP), DX
	EXP_CONSTS

swiglu:
	CMPQ CX, $8
	JB   swiglutail
	SWIGLU(LOADU, STOREU)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  swiglu

swiglutail:
	TESTQ CX, CX
	JZ    swigludone
	TAILMASK
	SWIGLU(LOADM, STOREM)

swigludone:
	VZEROUPPER
	RET

// SWIGLUB computes one vector of the SwiGLU gradients: gate at SI, up at R9, dout at
// DX, dgate at DI, dup at R8.
#define SWIGLUB(LOAD, STORE) \
	LOAD((SI), Y0);            \
	VXORPS  sign<>(SB), Y0, Y1; \
	EXP(Y1, Y2, Y3, Y4);       \
	VMOVUPS one<>(SB), Y2;     \
	VADDPS  Y2, Y1, Y1;        \
	VDIVPS  Y1, Y2, Y1;        \
	LOAD((DX), Y5);            \
	VMULPS  Y1, Y0, Y3;        \
	VMULPS  Y5, Y3, Y3;        \
	STORE(Y3, (R8));           \
	VSUBPS  Y1, Y2, Y3;        \
	VMULPS  Y0, Y3, Y3;        \
	VADDPS  Y2, Y3, Y3;        \
	LOAD((R9), Y4);            \
	VMULPS  Y4, Y5, Y5;        \
	VMULPS  Y1, Y5, Y5;        \
	VMULPS  Y3, Y5, Y5;        \
	STORE(Y5, (DI))

// func swigluBackwardAVX2(dgate, dup, dout, gate, up []float32)
//
// With s in Y1: dup = dout * g*s, dgate = dout*up*s*(1 + g*(1-s)).
TEXT ·swigluBackwardAVX2(SB), NOSPLIT, $0-120
	MOVQ dgate_base+0(FP), DI
	MOVQ dup_base+24(FP), R8
	MOVQ dout_base+48(FP), DX
	MOVQ gate_base+72(FP), SI
	MOVQ gate_len+80(FP), CX
	MOVQ up_base+96(FP), R9
	EXP_CONSTS

swiglub:
	CMPQ CX, $8
	JB   swiglubtail
	SWIGLUB(LOADU, STOREU)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, R9
	ADDQ $32, DI
	ADDQ $32, R8
	SUBQ $8, CX
	JMP  swiglub

swiglubtail:
	TESTQ CX, CX
	JZ    swiglubdone
	TAILMASK
	SWIGLUB(LOADM, STOREM)

swiglubdone:
	VZEROUPPER
	RET

// func rmsScaleAVX2(y, x, w []float32, r float32)
TEXT ·rmsScaleAVX2(SB), NOSPLIT, $0-76
	MOVQ         y_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	MOVQ         w_base+48(FP), DX
	VBROADCASTSS r+72(FP), Y15
	CMPQ         CX, $16
	JB           rms8

rms16:
	VMULPS  (SI), Y15, Y0
	VMULPS  32(SI), Y15, Y1
	VMULPS  (DX), Y0, Y0
	VMULPS  32(DX), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     rms16

rms8:
	CMPQ    CX, $8
	JB      rmstail
	VMULPS  (SI), Y15, Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX

rmstail:
	TESTQ      CX, CX
	JZ         rmsdone
	TAILMASK
	VMASKMOVPS (SI), Y6, Y0
	VMASKMOVPS (DX), Y6, Y1
	VMULPS     Y15, Y0, Y0 // x*r, then *w: the order of the Go loop
	VMULPS     Y1, Y0, Y0
	VMASKMOVPS Y0, Y6, (DI)

rmsdone:
	VZEROUPPER
	RET

// RMSB computes one vector of RMSNormBackward: dy at SI, w at R9, x at DX, dx at DI, dw
// at R8 (used only if R11 != 0), adding to dx if R10 != 0; r in Y14, c in Y15. The
// labels keep the two expansions apart.
#define RMSB(LOAD, STORE, set, store, next) \
	LOAD((SI), Y0);          \
	LOAD((R9), Y1);          \
	VMULPS       Y1, Y0, Y1; \
	LOAD((DX), Y2);          \
	VFNMADD231PS Y15, Y2, Y1; \
	TESTQ        R10, R10;   \
	JZ           set;        \
	LOAD((DI), Y3);          \
	VFMADD231PS  Y14, Y1, Y3; \
	JMP          store;      \
set:                         \
	VMULPS Y14, Y1, Y3;      \
store:                       \
	STORE(Y3, (DI));         \
	TESTQ R11, R11;          \
	JZ    next;              \
	VMULPS Y2, Y0, Y0;       \
	LOAD((R8), Y4);          \
	VFMADD231PS Y14, Y0, Y4; \
	STORE(Y4, (R8));         \
next:

// func rmsBackwardAVX2(dx, dw, dy, x, w []float32, r, c float32, accumulate bool)
TEXT ·rmsBackwardAVX2(SB), NOSPLIT, $0-129
	MOVQ         dx_base+0(FP), DI
	MOVQ         dw_base+24(FP), R8
	MOVQ         dw_len+32(FP), R11 // 0: no dw
	MOVQ         dy_base+48(FP), SI
	MOVQ         x_base+72(FP), DX
	MOVQ         x_len+80(FP), CX
	MOVQ         w_base+96(FP), R9
	VBROADCASTSS r+120(FP), Y14
	VBROADCASTSS c+124(FP), Y15
	MOVBLZX      accumulate+128(FP), R10

rmsb:
	CMPQ CX, $8
	JB   rmsbtail
	RMSB(LOADU, STOREU, rmsbset, rmsbstore, rmsbnext)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $32, DX
	ADDQ $32, DI
	ADDQ $32, R8
	SUBQ $8, CX
	JMP  rmsb

rmsbtail:
	TESTQ CX, CX
	JZ    rmsbdone
	TAILMASK
	RMSB(LOADM, STOREM, rmsbtset, rmsbtstore, rmsbtnext)

rmsbdone:
	VZEROUPPER
	RET

// ADAMW updates one vector: p at DI, g at SI, m at DX, v at R8; the constants in
// Y8-Y15 in the order of adamConsts. Each operation rounds once, in the order of
// adamWRef, so the bits match it exactly.
#define ADAMW(LOAD, STORE) \
	LOAD((SI), Y0);        \
	LOAD((DI), Y1);        \
	VMULPS  Y8, Y1, Y1;    \
	LOAD((DX), Y2);        \
	VMULPS  Y9, Y2, Y2;    \
	VMULPS  Y10, Y0, Y3;   \
	VADDPS  Y3, Y2, Y2;    \
	LOAD((R8), Y4);        \
	VMULPS  Y11, Y4, Y4;   \
	VMULPS  Y12, Y0, Y5;   \
	VMULPS  Y0, Y5, Y5;    \
	VADDPS  Y5, Y4, Y4;    \
	STORE(Y2, (DX));       \
	STORE(Y4, (R8));       \
	VSQRTPS Y4, Y4;        \
	VDIVPS  Y14, Y4, Y4;   \
	VADDPS  Y15, Y4, Y4;   \
	VDIVPS  Y4, Y2, Y2;    \
	VMULPS  Y13, Y2, Y2;   \
	VSUBPS  Y2, Y1, Y1;    \
	STORE(Y1, (DI))

// func adamWAVX2(p, g, m, v []float32, k *adamConsts)
TEXT ·adamWAVX2(SB), NOSPLIT, $0-104
	MOVQ         p_base+0(FP), DI
	MOVQ         p_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         m_base+48(FP), DX
	MOVQ         v_base+72(FP), R8
	MOVQ         k+96(FP), R9
	VBROADCASTSS 0(R9), Y8   // decay
	VBROADCASTSS 4(R9), Y9   // b1
	VBROADCASTSS 8(R9), Y10  // c1
	VBROADCASTSS 12(R9), Y11 // b2
	VBROADCASTSS 16(R9), Y12 // c2
	VBROADCASTSS 20(R9), Y13 // step
	VBROADCASTSS 24(R9), Y14 // bc2Sqrt
	VBROADCASTSS 28(R9), Y15 // eps

adam:
	CMPQ CX, $8
	JB   adamtail
	ADAMW(LOADU, STOREU)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	ADDQ $32, R8
	SUBQ $8, CX
	JMP  adam

adamtail:
	TESTQ CX, CX
	JZ    adamdone
	TAILMASK
	ADAMW(LOADM, STOREM)

adamdone:
	VZEROUPPER
	RET

// ROPE rotates one vector of pairs in each of R8 heads: cos at SI, sin at DX, the first
// head's x1 at DI, x2 R12 bytes further, heads R9 bytes apart; sign in Y15.
#define ROPE(LOAD, STORE, head, done) \
	LOAD((SI), Y0);            \
	LOAD((DX), Y1);            \
	VXORPS Y15, Y1, Y1;        \
	MOVQ   DI, R10;            \
	MOVQ   R8, R13;            \
head:                          \
	TESTQ R13, R13;            \
	JZ    done;                \
	LOAD((R10), Y2);           \
	LOAD((R10)(R12*1), Y3);    \
	VMULPS       Y0, Y2, Y4;   \
	VFNMADD231PS Y1, Y3, Y4;   \
	VMULPS       Y0, Y3, Y5;   \
	VFMADD231PS  Y1, Y2, Y5;   \
	STORE(Y4, (R10));          \
	STORE(Y5, (R10)(R12*1));   \
	ADDQ  R9, R10;             \
	DECQ  R13;                 \
	JMP   head;                \
done:

// func ropeAVX2(x, cos, sin []float32, heads, half int, sign uint32)
TEXT ·ropeAVX2(SB), NOSPLIT, $0-92
	MOVQ         x_base+0(FP), DI
	MOVQ         cos_base+24(FP), SI
	MOVQ         sin_base+48(FP), DX
	MOVQ         heads+72(FP), R8
	MOVQ         half+80(FP), CX
	VBROADCASTSS sign+88(FP), Y15
	LEAQ         (CX*4), R12      // bytes from x1 to x2
	LEAQ         (CX*8), R9       // bytes from one head to the next

rope:
	CMPQ CX, $8
	JB   ropetail
	ROPE(LOADU, STOREU, ropehead, ropenext)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  rope

ropetail:
	TESTQ CX, CX
	JZ    ropedone
	TAILMASK
	ROPE(LOADM, STOREM, ropethead, ropetnext)

ropedone:
	VZEROUPPER
	RET
