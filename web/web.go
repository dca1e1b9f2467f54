// Package web is the monitor UI of `aegis serve`: templ page components (pages.templ and
// its committed pages_templ.go), the static JS/CSS they load, and the browser's WASI shim
// (wasi.js), which runs the same module .wasm files as native/sandbox. Everything is
// embedded so the binary serves the UI with nothing fetched from a CDN.
//
// The package depends on nothing in native/: the server fills the plain view types in
// view.go and renders the components.
package web

import "embed"

// Static holds the browser-side files: wasi.js at the root and static/ (CSS, chart and
// page scripts, the judge Web Worker).
//
//go:embed wasi.js static
var Static embed.FS
