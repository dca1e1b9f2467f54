package shared

// ABI v1 of aegis WebAssembly modules (see wasm/README.md for the full contract).
//
// A module exports its linear memory and the functions below. Results of type i64 pack a
// pointer and a length into one value, ptr<<32 | len, naming a UTF-8 JSON document in the
// module's memory; the host copies it out and then calls aegis_free(ptr).
const (
	ABIVersion = 1

	ExportMemory   = "memory"
	ExportVersion  = "aegis_abi_version" // () -> i32, must return ABIVersion
	ExportAlloc    = "aegis_alloc"       // (size i32) -> i32, a buffer the host may write to
	ExportFree     = "aegis_free"        // (ptr i32), releases aegis_alloc and result buffers
	ExportManifest = "aegis_manifest"    // () -> i64, a Manifest
	ExportRun      = "aegis_run"         // (ptr i32, len i32) -> i64, input JSON -> output JSON

	// KindAttack and KindJudge are the two module kinds a Manifest may declare.
	KindAttack = "attack"
	KindJudge  = "judge"
)

// Pack returns the i64 an export returns for the buffer at ptr of n bytes.
func Pack(ptr, n uint32) uint64 { return uint64(ptr)<<32 | uint64(n) }

// Unpack splits an i64 result into its pointer and length.
func Unpack(v uint64) (ptr, n uint32) { return uint32(v >> 32), uint32(v) }
