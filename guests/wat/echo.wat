;; Copies the input to the output: the smallest complete guest.
(module
  (import "verity" "input_len" (func $input_len (result i32)))
  (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1 16)
  (func (export "run")
    (local $len i32)
    (local.set $len (call $input_len))
    ;; grow to fit: pages = ceil(len / 65536)
    (drop (memory.grow (i32.shr_u (i32.add (local.get $len) (i32.const 65535)) (i32.const 16))))
    (drop (call $read_input (i32.const 0) (i32.const 0) (local.get $len)))
    (call $write_output (i32.const 0) (local.get $len))))
