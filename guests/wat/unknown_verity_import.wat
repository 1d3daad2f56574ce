;; Forbidden: a name the verity module does not have.
(module
  (import "verity" "now" (func $now (result i64)))
  (memory (export "memory") 1)
  (func (export "run") (drop (call $now))))
