;; Rejected: relaxed SIMD has implementation-defined results (InvalidModule).
(module
  (memory (export "memory") 1)
  (func (export "run")
    (drop (f32x4.relaxed_madd (v128.const i32x4 0 0 0 0) (v128.const i32x4 0 0 0 0)
      (v128.const i32x4 0 0 0 0)))))
