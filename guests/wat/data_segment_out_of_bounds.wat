;; Hostile: a data segment placed far past the end of a one-page memory
;; (trap MemoryOutOfBounds at instantiation; no memory is allocated for it).
(module
  (memory (export "memory") 1)
  (data (i32.const 0xfff00000) "verity verity verity verity")
  (func (export "run")))
