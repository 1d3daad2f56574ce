;; ABI misuse: asks the host to copy the input to an address past the end of memory.
(module
  (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $read_input (i32.const 65535) (i32.const 0) (i32.const 2)))))
