;; A guest trap: integer division by zero.
(module
  (memory (export "memory") 1)
  (func (export "run")
    (drop (i32.div_u (i32.const 1) (i32.load (i32.const 0))))))
