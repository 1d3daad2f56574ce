;; Growing past the module's own declared maximum follows the spec: memory.grow returns -1
;; (no error). Writes the i32 result of memory.grow(4) on a (memory 1 2).
(module
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1 2)
  (func (export "run")
    (i32.store (i32.const 0) (memory.grow (i32.const 4)))
    (call $write_output (i32.const 0) (i32.const 4))))
