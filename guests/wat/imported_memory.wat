;; Forbidden: memory must be the module's own, not imported.
(module
  (import "env" "memory" (memory 1))
  (export "memory" (memory 0))
  (func (export "run")))
