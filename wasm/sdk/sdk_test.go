package sdk

import (
	"errors"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/shared"
)

func TestCall(t *testing.T) {
	Register(shared.Manifest{Name: "t", Kind: shared.KindJudge}, func(in []byte) (any, error) {
		switch string(in) {
		case "err":
			return nil, errors.New("bad input")
		case "panic":
			panic("boom")
		}
		return map[string]string{"echo": string(in)}, nil
	})
	if got := string(Call([]byte("x"))); got != `{"echo":"x"}` {
		t.Fatal(got)
	}
	if got := string(Call([]byte("err"))); got != `{"error":"bad input"}` {
		t.Fatal(got)
	}
	if got := string(Call([]byte("panic"))); !strings.Contains(got, "panic: boom") {
		t.Fatal(got)
	}
	if !strings.Contains(string(Manifest()), `"abi":1`) {
		t.Fatal(string(Manifest()))
	}
}
