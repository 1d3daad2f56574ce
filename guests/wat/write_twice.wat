;; ABI misuse: calls write_output twice.
(module
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (call $write_output (i32.const 0) (i32.const 4))
    (call $write_output (i32.const 0) (i32.const 4))))
