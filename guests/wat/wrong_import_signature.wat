;; ABI misuse: read_input declared with the wrong type.
(module
  (import "verity" "read_input" (func $read_input (param i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")))
