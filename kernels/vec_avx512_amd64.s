// AVX-512 versions of the vector kernels. They need only AVX-512 F (the 256- and
// 128-bit steps of the reductions are VEX-encoded AVX).
//
// Loops run over 16-float vectors, unrolled where a chain of additions would otherwise
// limit them. The last partial vector is handled with a lane mask in K1: masked loads
// zero the lanes past the end and masked stores leave memory there untouched, so no
// kernel reads or writes outside its slices. Every function ends with VZEROUPPER: the Go
// code around it uses SSE.

#include "textflag.h"

// Constants of exp, broadcast into Z16-Z28 by EXP_CONSTS.
//
// exp(x) = 2^n * exp(r) with n = round(x*log2(e)) and r = x - n*ln2 in [-ln2/2, ln2/2].
// ln2 is split in two (Cody and Waite) so that n*ln2hi is exact for |n| < 512 and r
// keeps its precision. exp(r) = 1 + r + r^2*P(r) with P the degree-5 minimax polynomial
// of SLEEF's expf (below 1 ulp on the interval). Inputs are clamped to [-104, 89] first:
// below -104 exp is under half the smallest subnormal and rounds to 0, above 89 it
// overflows anyway, and within the range n fits VSCALEFPS exactly.
DATA expc<>+0(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expc<>+4(SB)/4, $0xbf317200  // -ln2 high part, 0.693145751953125
DATA expc<>+8(SB)/4, $0xb5bfbe8e  // -ln2 low part, 1.4286068e-06
DATA expc<>+12(SB)/4, $0x39502bda // P: r^5
DATA expc<>+16(SB)/4, $0x3ab696c9 // r^4
DATA expc<>+20(SB)/4, $0x3c0888a6 // r^3
DATA expc<>+24(SB)/4, $0x3d2aaa7a // r^2
DATA expc<>+28(SB)/4, $0x3e2aaaab // r
DATA expc<>+32(SB)/4, $0x3f000000 // 1/2
DATA expc<>+36(SB)/4, $0x3f800000 // 1
DATA expc<>+40(SB)/4, $0xc2d00000 // -104
DATA expc<>+44(SB)/4, $0x42b20000 // 89
DATA expc<>+48(SB)/4, $0x80000000 // sign bit
DATA expc<>+52(SB)/4, $0xff800000 // -Inf
GLOBL expc<>(SB), RODATA|NOPTR, $56

#define EXP_CONSTS \
	VBROADCASTSS expc<>+0(SB), Z16;  \
	VBROADCASTSS expc<>+4(SB), Z17;  \
	VBROADCASTSS expc<>+8(SB), Z18;  \
	VBROADCASTSS expc<>+12(SB), Z19; \
	VBROADCASTSS expc<>+16(SB), Z20; \
	VBROADCASTSS expc<>+20(SB), Z21; \
	VBROADCASTSS expc<>+24(SB), Z22; \
	VBROADCASTSS expc<>+28(SB), Z23; \
	VBROADCASTSS expc<>+32(SB), Z24; \
	VBROADCASTSS expc<>+36(SB), Z25; \
	VBROADCASTSS expc<>+40(SB), Z26; \
	VBROADCASTSS expc<>+44(SB), Z27; \
	VBROADCASTSS expc<>+48(SB), Z28

// EXP sets x = exp(x), using t, n and p as scratch: t = clamp(x) and then r, n = the
// rounded x*log2(e), p = exp(r) = 1 + r + r^2*P(r), and x = p*2^n by VSCALEFPS, which
// rounds once into the subnormals. The clamp keeps NaN: VMAXPS and VMINPS return their
// first Go operand when either input is NaN.
#define EXP(x, t, n, p) \
	VMAXPS      x, Z26, t; \
	VMINPS      t, Z27, t; \
	VMULPS      Z16, t, n; \
	VRNDSCALEPS $0, n, n;  \
	VFMADD231PS Z17, n, t; \
	VFMADD231PS Z18, n, t; \
	VMOVAPS     Z19, p;    \
	VFMADD213PS Z20, t, p; \
	VFMADD213PS Z21, t, p; \
	VFMADD213PS Z22, t, p; \
	VFMADD213PS Z23, t, p; \
	VFMADD213PS Z24, t, p; \
	VMULPS      t, t, x;   \
	VFMADD213PS t, x, p;   \
	VADDPS      Z25, p, p; \
	VSCALEFPS   n, p, x

// TAILMASK sets K1 to the low CX lanes, 0 < CX < 16. It clobbers AX.
#define TAILMASK \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX;     \
	KMOVW AX, K1

// HSUM adds the 16 lanes of Z0 into the low lane of X0, using Z1 as scratch.
#define HSUM \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS        Y1, Y0, Y0; \
	VEXTRACTF128  $1, Y0, X1; \
	VADDPS        X1, X0, X0; \
	VMOVHLPS      X0, X0, X1; \
	VADDPS        X1, X0, X0; \
	VMOVSHDUP     X0, X1;     \
	VADDSS        X1, X0, X0

// func dotAVX512(x, y []float32) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3
	CMPQ   CX, $64
	JB     dot32

dot64:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JAE         dot64

dot32:
	CMPQ        CX, $32
	JB          dot16
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX

dot16:
	CMPQ        CX, $16
	JB          dottail
	VMOVUPS     (SI), Z4
	VFMADD231PS (DI), Z4, Z2
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX

dottail:
	TESTQ       CX, CX
	JZ          dotsum
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z3

dotsum:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM
	VMOVSS X0, ret+48(FP)
	VZEROUPPER
	RET

// func dot3AVX512(x, y, z []float32) float32
TEXT ·dot3AVX512(SB), NOSPLIT, $0-76
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	MOVQ   z_base+48(FP), DX
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3
	CMPQ   CX, $32
	JB     dot3x16

dot3x32:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMULPS      (DI), Z4, Z4
	VMULPS      64(DI), Z5, Z5
	VFMADD231PS (DX), Z4, Z0
	VFMADD231PS 64(DX), Z5, Z1
	ADDQ        $128, SI
	ADDQ        $128, DI
	ADDQ        $128, DX
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         dot3x32

dot3x16:
	CMPQ        CX, $16
	JB          dot3tail
	VMOVUPS     (SI), Z4
	VMULPS      (DI), Z4, Z4
	VFMADD231PS (DX), Z4, Z2
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, DX
	SUBQ        $16, CX

dot3tail:
	TESTQ       CX, CX
	JZ          dot3sum
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VMOVUPS.Z   (DX), K1, Z6
	VMULPS      Z5, Z4, Z4
	VFMADD231PS Z6, Z4, Z3

dot3sum:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM
	VMOVSS X0, ret+72(FP)
	VZEROUPPER
	RET

// func axpyAVX512(a float32, x, y []float32)
TEXT ·axpyAVX512(SB), NOSPLIT, $0-56
	VBROADCASTSS a+0(FP), Z0
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	CMPQ         CX, $64
	JB           axpy16

axpy64:
	VMOVUPS     (DI), Z1
	VMOVUPS     64(DI), Z2
	VMOVUPS     128(DI), Z3
	VMOVUPS     192(DI), Z4
	VFMADD231PS (SI), Z0, Z1
	VFMADD231PS 64(SI), Z0, Z2
	VFMADD231PS 128(SI), Z0, Z3
	VFMADD231PS 192(SI), Z0, Z4
	VMOVUPS     Z1, (DI)
	VMOVUPS     Z2, 64(DI)
	VMOVUPS     Z3, 128(DI)
	VMOVUPS     Z4, 192(DI)
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JAE         axpy64

axpy16:
	CMPQ        CX, $16
	JB          axpytail
	VMOVUPS     (DI), Z1
	VFMADD231PS (SI), Z0, Z1
	VMOVUPS     Z1, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         axpy16

axpytail:
	TESTQ       CX, CX
	JZ          axpydone
	TAILMASK
	VMOVUPS.Z   (DI), K1, Z1
	VMOVUPS.Z   (SI), K1, Z2
	VFMADD231PS Z2, Z0, Z1
	VMOVUPS     Z1, K1, (DI)

axpydone:
	VZEROUPPER
	RET

// func scaleAVX512(a float32, x []float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-32
	VBROADCASTSS a+0(FP), Z0
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	CMPQ         CX, $64
	JB           scale16

scale64:
	VMULPS  (SI), Z0, Z1
	VMULPS  64(SI), Z0, Z2
	VMULPS  128(SI), Z0, Z3
	VMULPS  192(SI), Z0, Z4
	VMOVUPS Z1, (SI)
	VMOVUPS Z2, 64(SI)
	VMOVUPS Z3, 128(SI)
	VMOVUPS Z4, 192(SI)
	ADDQ    $256, SI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     scale64

scale16:
	CMPQ    CX, $16
	JB      scaletail
	VMULPS  (SI), Z0, Z1
	VMOVUPS Z1, (SI)
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     scale16

scaletail:
	TESTQ     CX, CX
	JZ        scaledone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z1
	VMULPS    Z1, Z0, Z1
	VMOVUPS   Z1, K1, (SI)

scaledone:
	VZEROUPPER
	RET

// func addAVX512(dst, x, y []float32)
TEXT ·addAVX512(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ y_base+48(FP), DX
	CMPQ CX, $64
	JB   add16

add64:
	VMOVUPS (SI), Z1
	VMOVUPS 64(SI), Z2
	VMOVUPS 128(SI), Z3
	VMOVUPS 192(SI), Z4
	VADDPS  (DX), Z1, Z1
	VADDPS  64(DX), Z2, Z2
	VADDPS  128(DX), Z3, Z3
	VADDPS  192(DX), Z4, Z4
	VMOVUPS Z1, (DI)
	VMOVUPS Z2, 64(DI)
	VMOVUPS Z3, 128(DI)
	VMOVUPS Z4, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     add64

add16:
	CMPQ    CX, $16
	JB      addtail
	VMOVUPS (SI), Z1
	VADDPS  (DX), Z1, Z1
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     add16

addtail:
	TESTQ     CX, CX
	JZ        adddone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z1
	VMOVUPS.Z (DX), K1, Z2
	VADDPS    Z2, Z1, Z1
	VMOVUPS   Z1, K1, (DI)

adddone:
	VZEROUPPER
	RET

// func sumAVX512(x []float32) float32
TEXT ·sumAVX512(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3
	CMPQ   CX, $64
	JB     sum16

sum64:
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	VADDPS 128(SI), Z2, Z2
	VADDPS 192(SI), Z3, Z3
	ADDQ   $256, SI
	SUBQ   $64, CX
	CMPQ   CX, $64
	JAE    sum64

sum16:
	CMPQ   CX, $16
	JB     sumtail
	VADDPS (SI), Z1, Z1
	ADDQ   $64, SI
	SUBQ   $16, CX
	JMP    sum16

sumtail:
	TESTQ     CX, CX
	JZ        sumdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z4
	VADDPS    Z4, Z2, Z2

sumdone:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func maxAVX512(x []float32) float32
//
// Neither VMAXPS nor VRANGEPS (which acts as IEEE maxNum and drops quiet NaNs) keeps a
// NaN, so K3 gathers an unordered compare of every input and a NaN anywhere makes the
// result NaN, as with the builtin max.
TEXT ·maxAVX512(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS expc<>+52(SB), Z0
	VMOVAPS      Z0, Z1
	VMOVAPS      Z0, Z2
	VMOVAPS      Z0, Z3
	KXORW        K3, K3, K3
	CMPQ         CX, $64
	JB           max16

max64:
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	VMAXPS  Z4, Z0, Z0
	VMAXPS  Z5, Z1, Z1
	VMAXPS  Z6, Z2, Z2
	VMAXPS  Z7, Z3, Z3
	VCMPPS  $3, Z5, Z4, K1 // unordered: either is NaN
	VCMPPS  $3, Z7, Z6, K2
	KORW    K1, K3, K3
	KORW    K2, K3, K3
	ADDQ    $256, SI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     max64

max16:
	CMPQ    CX, $16
	JB      maxtail
	VMOVUPS (SI), Z4
	VMAXPS  Z4, Z1, Z1
	VCMPPS  $3, Z4, Z4, K1
	KORW    K1, K3, K3
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     max16

maxtail:
	TESTQ     CX, CX
	JZ        maxdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z4
	VMAXPS    Z4, Z2, K1, Z2 // lanes past the end keep -Inf
	VCMPPS    $3, Z4, Z4, K2
	KORW      K2, K3, K3

maxdone:
	VMAXPS        Z1, Z0, Z0
	VMAXPS        Z3, Z2, Z2
	VMAXPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VMOVHLPS      X0, X0, X1
	VMAXPS        X1, X0, X0
	VMOVSHDUP     X0, X1
	VMAXPS        X1, X0, X0
	KORTESTW      K3, K3
	JZ            maxret
	VPCMPEQD      X0, X0, X0     // all ones: a NaN

maxret:
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func expAVX512(dst, src []float32)
TEXT ·expAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	EXP_CONSTS
	CMPQ CX, $32
	JB   exp16

exp32:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	EXP(Z0, Z2, Z3, Z4)
	EXP(Z1, Z5, Z6, Z7)
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     exp32

exp16:
	CMPQ    CX, $16
	JB      exptail
	VMOVUPS (SI), Z0
	EXP(Z0, Z2, Z3, Z4)
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX

exptail:
	TESTQ     CX, CX
	JZ        expdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	EXP(Z0, Z2, Z3, Z4)
	VMOVUPS   Z0, K1, (DI)

expdone:
	VZEROUPPER
	RET

// func expSumAVX512(dst, src []float32, shift float32) float32
//
// dst[i] = exp(src[i] - shift), returning the sum; an empty dst only sums.
TEXT ·expSumAVX512(SB), NOSPLIT, $0-60
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), DX
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS shift+48(FP), Z29
	EXP_CONSTS
	VXORPS       X8, X8, X8
	VXORPS       X9, X9, X9
	CMPQ         CX, $32
	JB           expsum16

expsum32:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VSUBPS  Z29, Z0, Z0
	VSUBPS  Z29, Z1, Z1
	EXP(Z0, Z2, Z3, Z4)
	EXP(Z1, Z5, Z6, Z7)
	VADDPS  Z0, Z8, Z8
	VADDPS  Z1, Z9, Z9
	TESTQ   DX, DX
	JZ      expsum32next
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)

expsum32next:
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JAE  expsum32

expsum16:
	CMPQ    CX, $16
	JB      expsumtail
	VMOVUPS (SI), Z0
	VSUBPS  Z29, Z0, Z0
	EXP(Z0, Z2, Z3, Z4)
	VADDPS  Z0, Z8, Z8
	TESTQ   DX, DX
	JZ      expsum16next
	VMOVUPS Z0, (DI)

expsum16next:
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX

expsumtail:
	TESTQ     CX, CX
	JZ        expsumdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS    Z29, Z0, Z0
	EXP(Z0, Z2, Z3, Z4)
	VADDPS    Z0, Z9, K1, Z9 // lanes past the end must not add exp(-shift)
	TESTQ     DX, DX
	JZ        expsumdone
	VMOVUPS   Z0, K1, (DI)

expsumdone:
	VADDPS Z9, Z8, Z0
	HSUM
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// KALL sets K1 to all 16 lanes, for the loops below that run every vector through the
// same masked body and only narrow K1 for the last one.
#define KALL KXNORW K1, K1, K1

// NEXTMASK leaves K1 alone if CX >= 16, narrows it to the CX lanes that remain if
// 0 < CX < 16, and jumps to done if CX == 0.
#define NEXTMASK(body, done) \
	CMPQ  CX, $16; \
	JAE   body;    \
	TESTQ CX, CX;  \
	JZ    done;    \
	TAILMASK

// func swigluAVX512(out, gate, up []float32)
TEXT ·swigluAVX512(SB), NOSPLIT, $0-72
	MOVQ out_base+0(FP), DI
	MOVQ gate_base+24(FP), SI
	MOVQ gate_len+32(FP), CX
	MOVQ up_base+48(FP), DX
	EXP_CONSTS
	KALL

swiglu:
	NEXTMASK(swiglubody, swigludone)

swiglubody:
	VMOVUPS.Z (SI), K1, Z0 // g
	VPXORD    Z28, Z0, Z1
	EXP(Z1, Z2, Z3, Z4)    // exp(-g)
	VADDPS    Z25, Z1, Z1
	VDIVPS    Z1, Z0, Z0   // silu(g) = g / (1 + exp(-g))
	VMOVUPS.Z (DX), K1, Z5
	VMULPS    Z5, Z0, Z0
	VMOVUPS   Z0, K1, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DX
	ADDQ      $64, DI
	SUBQ      $16, CX
	JG        swiglu

swigludone:
	VZEROUPPER
	RET

// func swigluBackwardAVX512(dgate, dup, dout, gate, up []float32)
TEXT ·swigluBackwardAVX512(SB), NOSPLIT, $0-120
	MOVQ dgate_base+0(FP), DI
	MOVQ dup_base+24(FP), R8
	MOVQ dout_base+48(FP), DX
	MOVQ gate_base+72(FP), SI
	MOVQ gate_len+80(FP), CX
	MOVQ up_base+96(FP), R9
	EXP_CONSTS
	KALL

swiglub:
	NEXTMASK(swiglubbody, swiglubdone)

swiglubbody:
	VMOVUPS.Z (SI), K1, Z0 // g
	VPXORD    Z28, Z0, Z1
	EXP(Z1, Z2, Z3, Z4)
	VADDPS    Z25, Z1, Z1
	VDIVPS    Z1, Z25, Z1  // s = 1 / (1 + exp(-g))
	VMOVUPS.Z (DX), K1, Z5 // dout
	VMULPS    Z1, Z0, Z2   // g*s
	VMULPS    Z5, Z2, Z2
	VMOVUPS   Z2, K1, (R8) // dup = dout * g*s
	VSUBPS    Z1, Z25, Z3  // 1-s
	VMULPS    Z0, Z3, Z3
	VADDPS    Z25, Z3, Z3  // 1 + g*(1-s)
	VMOVUPS.Z (R9), K1, Z4 // up
	VMULPS    Z4, Z5, Z5
	VMULPS    Z1, Z5, Z5
	VMULPS    Z3, Z5, Z5
	VMOVUPS   Z5, K1, (DI) // dgate = dout*up*s*(1 + g*(1-s))
	ADDQ      $64, SI
	ADDQ      $64, DX
	ADDQ      $64, R9
	ADDQ      $64, DI
	ADDQ      $64, R8
	SUBQ      $16, CX
	JG        swiglub

swiglubdone:
	VZEROUPPER
	RET

// func rmsScaleAVX512(y, x, w []float32, r float32)
TEXT ·rmsScaleAVX512(SB), NOSPLIT, $0-76
	MOVQ         y_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	MOVQ         w_base+48(FP), DX
	VBROADCASTSS r+72(FP), Z31
	CMPQ         CX, $32
	JB           rms16

rms32:
	VMULPS  (SI), Z31, Z0
	VMULPS  64(SI), Z31, Z1
	VMULPS  (DX), Z0, Z0
	VMULPS  64(DX), Z1, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     rms32

rms16:
	CMPQ    CX, $16
	JB      rmstail
	VMULPS  (SI), Z31, Z0
	VMULPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX

rmstail:
	TESTQ     CX, CX
	JZ        rmsdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS    Z31, Z0, Z0  // x*r, then *w: the order of the Go loop
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

rmsdone:
	VZEROUPPER
	RET

// func rmsBackwardAVX512(dx, dw, dy, x, w []float32, r, c float32, accumulate bool)
TEXT ·rmsBackwardAVX512(SB), NOSPLIT, $0-129
	MOVQ         dx_base+0(FP), DI
	MOVQ         dw_base+24(FP), R8
	MOVQ         dw_len+32(FP), R11 // 0: no dw
	MOVQ         dy_base+48(FP), SI
	MOVQ         x_base+72(FP), DX
	MOVQ         x_len+80(FP), CX
	MOVQ         w_base+96(FP), R9
	VBROADCASTSS r+120(FP), Z30
	VBROADCASTSS c+124(FP), Z31
	MOVBLZX      accumulate+128(FP), R10
	KALL

rmsb:
	NEXTMASK(rmsbbody, rmsbdone)

rmsbbody:
	VMOVUPS.Z    (SI), K1, Z0 // dy
	VMOVUPS.Z    (R9), K1, Z1
	VMULPS       Z1, Z0, Z1   // dy*w
	VMOVUPS.Z    (DX), K1, Z2 // x
	VFNMADD231PS Z31, Z2, Z1  // dy*w - x*c
	TESTQ        R10, R10
	JZ           rmsbset
	VMOVUPS.Z    (DI), K1, Z3
	VFMADD231PS  Z30, Z1, Z3  // dx += r*(...)
	JMP          rmsbstore

rmsbset:
	VMULPS Z30, Z1, Z3

rmsbstore:
	VMOVUPS Z3, K1, (DI)
	TESTQ   R11, R11
	JZ      rmsbnext
	VMULPS  Z2, Z0, Z0        // dy*x
	VMOVUPS.Z (R8), K1, Z4
	VFMADD231PS Z30, Z0, Z4   // dw += dy*x*r
	VMOVUPS Z4, K1, (R8)

rmsbnext:
	ADDQ $64, SI
	ADDQ $64, R9
	ADDQ $64, DX
	ADDQ $64, DI
	ADDQ $64, R8
	SUBQ $16, CX
	JG   rmsb

rmsbdone:
	VZEROUPPER
	RET

// func adamWAVX512(p, g, m, v []float32, k *adamConsts)
//
// Every operation rounds once, in the order of adamWRef, so the bits match it exactly.
TEXT ·adamWAVX512(SB), NOSPLIT, $0-104
	MOVQ         p_base+0(FP), DI
	MOVQ         p_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         m_base+48(FP), DX
	MOVQ         v_base+72(FP), R8
	MOVQ         k+96(FP), R9
	VBROADCASTSS 0(R9), Z16  // decay
	VBROADCASTSS 4(R9), Z17  // b1
	VBROADCASTSS 8(R9), Z18  // c1
	VBROADCASTSS 12(R9), Z19 // b2
	VBROADCASTSS 16(R9), Z20 // c2
	VBROADCASTSS 20(R9), Z21 // step
	VBROADCASTSS 24(R9), Z22 // bc2Sqrt
	VBROADCASTSS 28(R9), Z23 // eps
	KALL

adam:
	NEXTMASK(adambody, adamdone)

adambody:
	VMOVUPS.Z (SI), K1, Z0 // g
	VMOVUPS.Z (DI), K1, Z1 // p
	VMULPS    Z16, Z1, Z1  // p *= decay
	VMOVUPS.Z (DX), K1, Z2 // m
	VMULPS    Z17, Z2, Z2
	VMULPS    Z18, Z0, Z3
	VADDPS    Z3, Z2, Z2   // m = b1*m + c1*g
	VMOVUPS.Z (R8), K1, Z4 // v
	VMULPS    Z19, Z4, Z4
	VMULPS    Z20, Z0, Z5
	VMULPS    Z0, Z5, Z5
	VADDPS    Z5, Z4, Z4   // v = b2*v + c2*g*g
	VMOVUPS   Z2, K1, (DX)
	VMOVUPS   Z4, K1, (R8)
	VSQRTPS   Z4, Z4
	VDIVPS    Z22, Z4, Z4
	VADDPS    Z23, Z4, Z4  // denom = sqrt(v)/bc2Sqrt + eps
	VDIVPS    Z4, Z2, Z2
	VMULPS    Z21, Z2, Z2
	VSUBPS    Z2, Z1, Z1   // p -= step * (m/denom)
	VMOVUPS   Z1, K1, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	ADDQ      $64, DX
	ADDQ      $64, R8
	SUBQ      $16, CX
	JG        adam

adamdone:
	VZEROUPPER
	RET

// func ropeAVX512(x, cos, sin []float32, heads, half int, sign uint32)
//
// The outer loop walks the half-head in vectors, loading cos and sin once; the inner
// loop applies them to every head. sign is XORed into sin: 0, or the sign bit for the
// inverse rotation.
TEXT ·ropeAVX512(SB), NOSPLIT, $0-92
	MOVQ         x_base+0(FP), DI
	MOVQ         cos_base+24(FP), SI
	MOVQ         sin_base+48(FP), DX
	MOVQ         heads+72(FP), R8
	MOVQ         half+80(FP), CX
	VBROADCASTSS sign+88(FP), Z31
	LEAQ         (CX*4), R12        // bytes from x1 to x2
	LEAQ         (CX*8), R9         // bytes from one head to the next
	KALL

rope:
	NEXTMASK(ropebody, ropedone)

ropebody:
	VMOVUPS.Z (SI), K1, Z0 // cos
	VMOVUPS.Z (DX), K1, Z1 // sin
	VPXORD    Z31, Z1, Z1
	MOVQ      DI, R10
	MOVQ      R8, R11

ropehead:
	TESTQ        R11, R11
	JZ           ropenext
	VMOVUPS.Z    (R10), K1, Z2       // x1
	VMOVUPS.Z    (R10)(R12*1), K1, Z3 // x2
	VMULPS       Z0, Z2, Z4
	VFNMADD231PS Z1, Z3, Z4          // x1*cos - x2*sin
	VMULPS       Z0, Z3, Z5
	VFMADD231PS  Z1, Z2, Z5          // x2*cos + x1*sin
	VMOVUPS      Z4, K1, (R10)
	VMOVUPS      Z5, K1, (R10)(R12*1)
	ADDQ         R9, R10
	DECQ         R11
	JMP          ropehead

ropenext:
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JG   rope

ropedone:
	VZEROUPPER
	RET
