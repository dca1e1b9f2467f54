;; Hostile/test module "noisy" for native/sandbox tests. Build: wat2wasm noisy.wat -o noisy.wasm
;; aegis_run writes one line and then 4 MiB to stderr, 4 MiB to stdout, and then traps when
;; the input starts with "t", else returns a verdict: captured stdio must stay bounded.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const 16) "{\"abi\":1,\"name\":\"noisy\",\"kind\":\"judge\",\"version\":\"0\",\"description\":\"test\"}")
  (data (i32.const 128) "noisy: first line\nsecond line\n")
  (data (i32.const 192) "{\"refusal\":false,\"unsafe\":false,\"score\":0,\"categories\":[]}")
  ;; iovecs: 512 = the message (30 bytes at 128), 520 = 4096 zero bytes at 32768
  (data (i32.const 512) "\80\00\00\00\1e\00\00\00\00\80\00\00\00\10\00\00")
  (func (export "aegis_abi_version") (result i32) (i32.const 1))
  (func (export "aegis_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (local.get $p))
  (func (export "aegis_free") (param i32))
  (func (export "aegis_manifest") (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 74)))
  (func (export "aegis_run") (param $p i32) (param $n i32) (result i64)
    (local $i i32)
    (drop (call $fd_write (i32.const 2) (i32.const 512) (i32.const 1) (i32.const 600)))
    (loop $l
      (drop (call $fd_write (i32.const 2) (i32.const 520) (i32.const 1) (i32.const 600)))
      (drop (call $fd_write (i32.const 1) (i32.const 520) (i32.const 1) (i32.const 600)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1024))))
    (if (i32.and (i32.gt_u (local.get $n) (i32.const 0)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 116)))
      (then (unreachable)))
    (i64.or (i64.shl (i64.const 192) (i64.const 32)) (i64.const 58)))
)
