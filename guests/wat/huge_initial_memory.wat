;; Hostile: declares 60000 pages (3.75 GiB) of initial memory (MemoryLimit at instantiation).
(module
  (memory (export "memory") 60000)
  (func (export "run")))
