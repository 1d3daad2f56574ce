;; Counts down from the i32 in the input's first 4 bytes: fuel use grows with the count.
(module
  (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (local $n i32)
    (drop (call $read_input (i32.const 0) (i32.const 0) (i32.const 4)))
    (local.set $n (i32.load (i32.const 0)))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (call $write_output (i32.const 0) (i32.const 4))))
