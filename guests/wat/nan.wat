;; NaN results must have the same bits everywhere. Writes, little-endian:
;;   f32 0/0, f64 0/0, f32 (signalling NaN with payload 0x200001) + 1, f64 sqrt(-1),
;;   f32x4 0/0 lane 0 (SIMD), f32 min(NaN-with-payload, 1)
;; With NaN canonicalization every one is the canonical quiet NaN (0x7fc00000 /
;; 0x7ff8000000000000); without it x86 gives 0xffc00000 for 0/0 and keeps payloads.
(module
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1)
  (func $zero32 (result f32) (f32.const 0))
  (func $zero64 (result f64) (f64.const 0))
  (func (export "run")
    (f32.store (i32.const 0) (f32.div (call $zero32) (call $zero32)))
    (f64.store (i32.const 4) (f64.div (call $zero64) (call $zero64)))
    (f32.store (i32.const 12)
      (f32.add (f32.reinterpret_i32 (i32.const 0x7fa00001)) (f32.const 1)))
    (f64.store (i32.const 16) (f64.sqrt (f64.neg (f64.const 1))))
    (f32.store (i32.const 24)
      (f32x4.extract_lane 0
        (f32x4.div (f32x4.splat (call $zero32)) (f32x4.splat (call $zero32)))))
    (f32.store (i32.const 28)
      (f32.min (f32.reinterpret_i32 (i32.const 0x7fa00001)) (f32.const 1)))
    (call $write_output (i32.const 0) (i32.const 32))))
