package kernels

import (
	"math"
	"testing"
)

func TestBF16RoundTrip(t *testing.T) {
	cases := []struct {
		f    float32
		want uint16
	}{
		{0, 0}, {1, 0x3f80}, {-2, 0xc000}, {float32(math.Inf(1)), 0x7f80},
		// 1 + 2^-8 is exactly between 1 and the next bf16: ties to even gives 1.
		{1 + 1.0/256, 0x3f80},
		// 1 + 3*2^-8 is between 0x3f81 and 0x3f82: ties to even gives 0x3f82.
		{1 + 3.0/256, 0x3f82},
		{1 + 1.0/256 + 1.0/65536, 0x3f81},
	}
	for _, c := range cases {
		if got := F32ToBF16(c.f); got != c.want {
			t.Errorf("F32ToBF16(%v) = %#x, want %#x", c.f, got, c.want)
		}
		if back := BF16ToF32(c.want); F32ToBF16(back) != c.want {
			t.Errorf("round trip of %#x changed", c.want)
		}
	}
	if nan := BF16ToF32(F32ToBF16(float32(math.NaN()))); !math.IsNaN(float64(nan)) {
		t.Errorf("NaN became %v", nan)
	}
}

func TestF16ToF32(t *testing.T) {
	cases := map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.960464477539063e-08,
		0x03ff: 6.097555160522461e-05, 0x0400: 6.103515625e-05, 0x3555: 0.333251953125,
	}
	for h, want := range cases {
		if got := F16ToF32(h); got != want {
			t.Errorf("F16ToF32(%#x) = %v, want %v", h, got, want)
		}
	}
	if !math.IsInf(float64(F16ToF32(0x7c00)), 1) || !math.IsNaN(float64(F16ToF32(0x7e00))) {
		t.Error("inf/nan")
	}
}
