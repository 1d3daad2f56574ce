;; Rejected: shared memory needs the threads proposal, which is off (InvalidModule).
(module
  (memory (export "memory") 1 1 shared)
  (func (export "run")))
