;; Hostile/test module "badalloc" for native/sandbox tests. Build: wat2wasm badalloc.wat -o badalloc.wasm
;; aegis_alloc returns an address past the end of memory: the host must not write there.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "{\"abi\":1,\"name\":\"badalloc\",\"kind\":\"judge\",\"version\":\"0\",\"description\":\"test\"}")
  (func (export "aegis_abi_version") (result i32) (i32.const 1))
  (func (export "aegis_alloc") (param $n i32) (result i32) (i32.const -16))
  (func (export "aegis_free") (param i32))
  (func (export "aegis_manifest") (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 77)))
  (func (export "aegis_run") (param $p i32) (param $n i32) (result i64)
    (i64.const 0))
)
