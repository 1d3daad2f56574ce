;; ABI misuse: reads one byte more than the input has.
(module
  (import "verity" "input_len" (func $input_len (result i32)))
  (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $read_input (i32.const 0) (i32.const 0)
      (i32.add (call $input_len) (i32.const 1))))))
