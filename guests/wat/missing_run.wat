;; ABI misuse: no `run` export.
(module
  (memory (export "memory") 1)
  (func (export "main")))
