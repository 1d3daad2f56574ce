;; ABI misuse: output range runs past the end of memory (-1 as a pointer is 0xffffffff).
(module
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (call $write_output (i32.const -1) (i32.const 16))))
