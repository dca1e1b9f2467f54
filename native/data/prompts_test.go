package data

import "testing"

// TestRowSeed: a row's seed is the base XOR the FNV-1a hash of its id (the published
// 64-bit test vectors), the same whatever else is seeded.
func TestRowSeed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		base uint64
		id   string
		want uint64
	}{
		{0, "", 0xcbf29ce484222325},
		{0, "a", 0xaf63dc4c8601ec8c},
		{0, "foobar", 0x85944171f73967e8},
		{0xff, "a", 0xaf63dc4c8601ec8c ^ 0xff},
	} {
		if got := RowSeed(c.base, c.id); got != c.want {
			t.Errorf("RowSeed(%#x, %q) = %#x, want %#x", c.base, c.id, got, c.want)
		}
	}
}
