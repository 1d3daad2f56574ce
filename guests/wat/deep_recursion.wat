;; Hostile: unbounded recursion (StackOverflow).
(module
  (memory (export "memory") 1)
  (func $down (param $n i64) (result i64)
    (i64.add (call $down (i64.add (local.get $n) (i64.const 1))) (i64.const 1)))
  (func (export "run")
    (drop (call $down (i64.const 0)))))
