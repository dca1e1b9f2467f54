// Package web will hold the monitor UI of `aegis serve`. Today it holds the browser's
// WASI shim (wasi.js), which runs the same module .wasm files as native/sandbox; it is
// embedded so that the server can serve it.
package web

import "embed"

// Static holds the browser-side files (wasi.js).
//
//go:embed wasi.js
var Static embed.FS
