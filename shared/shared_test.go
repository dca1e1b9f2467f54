package shared

import "testing"

func TestTaxonomy(t *testing.T) {
	if got := len(HarmCodes()); got != 14 {
		t.Fatalf("%d harm codes, want 14", got)
	}
	if n, ok := CategoryName("S9"); !ok || n != "Indiscriminate Weapons" {
		t.Fatalf("S9 = %q %v", n, ok)
	}
	if !ValidCategory(Benign) || ValidCategory("S15") {
		t.Fatal("ValidCategory")
	}
}

func TestStylesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Styles {
		if seen[s.ID] || s.ID == "" || s.Name == "" {
			t.Fatalf("bad or duplicate style %+v", s)
		}
		seen[s.ID] = true
	}
	if len(Styles) < 16 {
		t.Fatalf("%d styles, want >= 16", len(Styles))
	}
}

func TestPack(t *testing.T) {
	p, n := Unpack(Pack(0xdeadbeef, 7))
	if p != 0xdeadbeef || n != 7 {
		t.Fatal(p, n)
	}
	m := Manifest{ABI: 1, Name: "x", Kind: KindJudge}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	m.ABI = 2
	if m.Validate() == nil {
		t.Fatal("abi 2 accepted")
	}
}
