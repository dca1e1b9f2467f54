;; Hostile/test module "initloop" for native/sandbox tests. Build: wat2wasm initloop.wat -o initloop.wasm
;; A reactor whose _initialize never returns: instantiation itself must time out.
(module
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const 16) "{\"abi\":1,\"name\":\"initloop\",\"kind\":\"judge\",\"version\":\"0\",\"description\":\"test\"}")
  (func (export "_initialize") (loop $l (br $l)))
  (func (export "aegis_abi_version") (result i32) (i32.const 1))
  (func (export "aegis_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (local.get $p))
  (func (export "aegis_free") (param i32))
  (func (export "aegis_manifest") (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 77)))
  (func (export "aegis_run") (param $p i32) (param $n i32) (result i64)
    (i64.const 0))
)
