;; Hostile: grows memory 1 MiB at a time, forever (MemoryLimit at the task's limit).
(module
  (memory (export "memory") 1)
  (func (export "run")
    (loop $more
      (drop (memory.grow (i32.const 16)))
      (br $more))))
