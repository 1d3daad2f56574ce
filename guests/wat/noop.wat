;; Does nothing: one page of memory and an empty `run`. Executing it measures the fixed cost of
;; a task (store, instance, call, receipt) with no work and no copies.
(module
  (memory (export "memory") 1)
  (func (export "run")))
