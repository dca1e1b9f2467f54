// Package sdk is the guest side of the aegis module ABI v1 for modules written in Go.
//
// A module is a package main built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags=-buildid= -o m.wasm .
//
// that calls Register from an init function (a c-shared reactor never runs main). The
// exports (memory, aegis_abi_version, aegis_alloc, aegis_free, aegis_manifest, aegis_run)
// live in this package's wasip1 build; the rest of it is plain Go so that module logic can
// be tested natively through Call.
package sdk

import (
	"encoding/json"
	"fmt"

	"github.com/aegis-safety/aegis/shared"
)

// Handler answers one aegis_run call: it gets the input JSON and returns a value to encode
// as the output JSON. A returned error becomes {"error": "..."}.
type Handler func(input []byte) (any, error)

var (
	manifest []byte
	handler  Handler
)

// Register installs the module's manifest and handler. Call it once, from init.
func Register(m shared.Manifest, h Handler) {
	m.ABI = shared.ABIVersion
	if err := m.Validate(); err != nil {
		panic("sdk.Register: " + err.Error())
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic("sdk.Register: " + err.Error())
	}
	manifest, handler = b, h
}

// Manifest returns the registered manifest JSON.
func Manifest() []byte { return manifest }

// Call runs the registered handler on input and returns the output JSON, turning errors
// and panics into {"error": "..."} documents so that the host always gets JSON back.
func Call(input []byte) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			out = errorJSON(fmt.Sprint("panic: ", r))
		}
	}()
	if handler == nil {
		return errorJSON("no handler registered")
	}
	v, err := handler(input)
	if err != nil {
		return errorJSON(err.Error())
	}
	b, err := json.Marshal(v)
	if err != nil {
		return errorJSON(err.Error())
	}
	return b
}

func errorJSON(msg string) []byte {
	b, _ := json.Marshal(shared.ErrorOutput{Error: msg})
	return b
}
