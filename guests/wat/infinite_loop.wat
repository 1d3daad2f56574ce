;; Hostile: `run` never returns. Fuel stops it (OutOfFuel).
(module
  (memory (export "memory") 1)
  (func (export "run")
    (loop $forever (br $forever))))
