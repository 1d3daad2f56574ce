;; ABI misuse: `run` must take and return nothing.
(module
  (memory (export "memory") 1)
  (func (export "run") (param i32)))
