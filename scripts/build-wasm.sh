#!/usr/bin/env bash
# Builds the built-in WebAssembly modules into wasm/bin with the exact flags that
# wasm.BuildFlags records (the reproducibility test rebuilds with the same), and records
# the toolchain in wasm/bin/GOVERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
for m in attacks judge; do
  GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags=-buildid= -o "wasm/bin/$m.wasm" "./wasm/$m"
done
go env GOVERSION > wasm/bin/GOVERSION
ls -l wasm/bin
