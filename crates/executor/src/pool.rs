//! Pre-allocated instance slots: wasmtime's pooling allocator, and a gate that keeps the number
//! of executions in flight within its slots.
//!
//! Without a pool every task maps a fresh linear memory and a fresh fiber stack and unmaps
//! them at the end (about a dozen system calls); with it, instantiation takes a slot whose
//! mappings are already there, the module's initial memory comes copy-on-write from its image,
//! and the slot is reset in place when the store is dropped. The pool is sized so that it never
//! turns away a module the budget and the task limits allow, and never changes a result:
//!
//! - the pool checks modules when they are compiled; it accepts every module the validator
//!   does (any number of tables up to wasmparser's 100; an instance of more than one still
//!   fails at instantiation, on the store's limit);
//! - every memory slot can hold a full 4 GiB wasm32 memory, so the pool's own size check never
//!   comes before the task limiter's (a memory the task does not allow still fails with the
//!   limiter's `MemoryLimit`);
//! - every table slot holds the larger of the budget's table elements and the node's
//!   `max_task_table_elements`, and tasks asking for more are refused up front, so a growth the
//!   task allows always fits its slot (the limiter remembers the table's declared maximum, as a
//!   pooled table reports its slot size instead; see `host.rs`);
//! - the slots are virtual reservations (4 GiB plus guard per memory slot), touched only as far
//!   as a task uses them.
//!
//! wasmtime refuses an instantiation when every slot is taken, so [`Gate`] makes a caller wait
//! for a free slot instead: a task waits rather than fails for lack of a slot. The gate is
//! hand-written (a mutex and a condition variable): the standard library has no semaphore, and
//! a dependency for twenty lines is not worth it.

use std::sync::{Condvar, Mutex, PoisonError};

use wasmtime::{InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::ExecutorConfig;

/// Largest linear memory a 32-bit module can have: the size of every memory slot.
pub(crate) const WASM32_MAX_MEMORY_BYTES: u64 = 1 << 32;
/// Linear memory reset by `memset` rather than `madvise` when a slot is freed: one page, the
/// whole memory of a small guest, is cheaper to clear than to fault back in.
const MEMORY_KEEP_RESIDENT_BYTES: usize = 64 << 10;
/// Table bytes reset by `memset` when a slot is freed.
const TABLE_KEEP_RESIDENT_BYTES: usize = 8 << 10;
/// Upper bound on an instance's runtime metadata (its `VMContext`): a module within the
/// default budget (20,000 functions, 10,000 globals, 1,000 imports) needs well under this.
const MAX_INSTANCE_BYTES: usize = 16 << 20;

/// Tables a valid module may define (wasmparser's limit). The pool checks a module's table
/// count when it is compiled; with this it accepts every valid module, and the store's limit of
/// one table fails the others at instantiation, as without a pool.
const MAX_TABLES: u32 = 100;

/// The table elements every pooled table slot holds.
pub(crate) fn table_slot_elements(config: &ExecutorConfig) -> u64 {
    config
        .max_task_table_elements
        .max(config.module_budget.max_table_elements)
}

/// The pooling allocator for `config`: `max_concurrent_executions` slots of one instance, one
/// memory, one table and one fiber stack each.
pub(crate) fn strategy(config: &ExecutorConfig) -> InstanceAllocationStrategy {
    let slots = config.max_concurrent_executions;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(slots)
        .total_memories(slots)
        .total_tables(slots.max(MAX_TABLES))
        .total_stacks(slots)
        .max_memories_per_module(1)
        .max_tables_per_module(MAX_TABLES)
        .max_memory_size(WASM32_MAX_MEMORY_BYTES as usize)
        .table_elements(usize::try_from(table_slot_elements(config)).unwrap_or(usize::MAX))
        .max_core_instance_size(MAX_INSTANCE_BYTES)
        .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT_BYTES)
        .table_keep_resident(TABLE_KEEP_RESIDENT_BYTES);
    InstanceAllocationStrategy::Pooling(pool)
}

/// A counting semaphore over the pool's slots.
#[derive(Debug)]
pub(crate) struct Gate {
    free: Mutex<u32>,
    freed: Condvar,
}

/// One slot, held until dropped.
#[derive(Debug)]
pub(crate) struct Slot<'a> {
    gate: &'a Gate,
}

impl Gate {
    pub(crate) fn new(slots: u32) -> Self {
        Self {
            free: Mutex::new(slots),
            freed: Condvar::new(),
        }
    }

    /// Waits for a free slot and takes it.
    pub(crate) fn enter(&self) -> Slot<'_> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Slot { gate: self }
    }

    #[cfg(test)]
    fn free(&self) -> u32 {
        *self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut free = self
            .gate
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *free += 1;
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::thread;

    #[test]
    fn slots_are_returned_when_dropped() {
        let gate = Gate::new(2);
        let a = gate.enter();
        let b = gate.enter();
        assert_eq!(gate.free(), 0);
        drop(a);
        assert_eq!(gate.free(), 1);
        drop(b);
        assert_eq!(gate.free(), 2);
    }

    #[test]
    fn never_more_holders_than_slots() {
        let gate = Arc::new(Gate::new(2));
        let (inside, most) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, inside, most) =
                    (Arc::clone(&gate), Arc::clone(&inside), Arc::clone(&most));
                thread::spawn(move || {
                    for _ in 0..200 {
                        let _slot = gate.enter();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= 2);
        assert_eq!(gate.free(), 2);
    }
}
