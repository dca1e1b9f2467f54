// Package safetensors reads and writes tensors in the Hugging Face safetensors format:
// an 8-byte little-endian header length N, N bytes of JSON describing each tensor's
// dtype, shape and byte range, then the raw little-endian tensor data.
//
// Open memory-maps a file read-only (on other systems, such as wasip1 and js, it reads
// the whole file into memory instead) and validates the entire header before returning:
// every tensor must have a supported dtype, a shape whose byte size equals its byte
// range, a range inside the data buffer, and no two tensors may overlap or share a name.
// OpenModel and OpenSet combine the shards of a model, as listed by a
// model.safetensors.index.json file. Write and WriteIndex produce files the Python
// safetensors and transformers libraries read.
//
// Limits:
//   - Float32 and BF16 convert only F32, BF16 and F16 tensors. Other standard dtypes
//     (F64, integer, BOOL and 8-bit float types) are accepted in headers and available
//     as bytes through Raw; sub-byte dtypes such as F4 are rejected.
//   - Write stores F32 and BF16 tensors only.
//   - Headers are limited to 100,000,000 bytes, as in the Rust implementation.
//   - Gaps between tensors in the data buffer are allowed; overlaps are not.
//   - A byte slice returned by Raw is a read-only view of the mapping: writing to it
//     faults, and it must not be used after Close. Truncating a mapped file while it is
//     open may crash the process (SIGBUS), as with any memory mapping.
//   - File and Set methods may be called concurrently, but not concurrently with Close.
package safetensors
