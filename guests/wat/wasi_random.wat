;; Forbidden: WASI randomness.
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (drop (call $random (i32.const 0) (i32.const 8)))))
