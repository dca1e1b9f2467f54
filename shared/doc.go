// Package shared holds the pure-Go code compiled into both the native binary and the
// WebAssembly modules: the module ABI constants, the JSON schema types modules exchange
// with their host, the harm taxonomy and the attack-style catalogue. It imports only the
// standard library so that GOOS=wasip1 builds stay small and host and guest cannot drift.
package shared
