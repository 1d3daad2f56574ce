;; Hostile: asks to write 2 MiB of output (OutputTooLarge under a 1 MiB cap).
(module
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 64)
  (func (export "run")
    (call $write_output (i32.const 0) (i32.const 0x200000))))
