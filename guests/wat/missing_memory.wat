;; ABI misuse: no `memory` export.
(module
  (memory 1)
  (func (export "run")))
