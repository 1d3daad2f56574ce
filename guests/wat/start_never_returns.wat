;; Hostile: the start function runs during instantiation and never returns.
;; Fuel stops it (OutOfFuel); with fuel to spare, the wall-clock watchdog does (Timeout).
(module
  (memory (export "memory") 1)
  (func $start (loop $forever (br $forever)))
  (start $start)
  (func (export "run")))
