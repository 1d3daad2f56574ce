//! What fuel costs: the price list of everything a program can make the host do.
//!
//! Fuel is the deterministic clock: it must depend only on the program and its input, and it
//! should track time closely enough that a task whose fuel runs out in seconds on a guest's
//! arithmetic also runs out in seconds whatever else the guest does. Wasmtime charges 1 per
//! operator, which fits compiled guest code (0.16 ns per unit for integer arithmetic on the
//! calibration machine, 0.04 ns for the C sha256 guest, whose many `local.get`/`local.set`
//! cost nothing once compiled), but not the operators that call into the runtime nor the
//! `verity` host functions, which take tens of ns each: at 1 fuel, `memory.grow 0` in a
//! loop took 19 s for the default 1e10 fuel and a host call was priced about a hundred
//! times below its cost. Prices are set against the slower end, 0.16 ns per unit, so that the
//! default fuel is a few seconds of any mix of work. So:
//!
//! - calls into the runtime (`memory.grow`, bulk memory, table operations) cost a flat
//!   [`RUNTIME_CALL_FUEL`], `memory.grow` and `table.grow` [`GROW_FUEL`], plus their per-byte or
//!   per-element cost (1, wasmtime's default, as `memory.copy`) and [`FUEL_PER_PAGE`] per
//!   page grown;
//! - a `verity` host call costs [`HOST_CALL_FUEL`] plus [`HOST_FUEL_PER_BYTE`] per byte it
//!   copies;
//! - instantiation costs [`INSTANTIATE_FUEL`] plus 1 per byte of data segments and per element
//!   of element segments and tables, and [`FUEL_PER_PAGE`] per page of initial memory, all
//!   charged before the start function runs.
//!
//! Calibration: `cargo test -p verity-executor --config
//! 'profile.dev.package.verity-executor.opt-level=3' --test it -- --ignored calibrate
//! --nocapture` (this crate optimised like its dependencies, as in a release build), on a
//! 2-core AMD EPYC VM (x86-64) shared with other builds (load 3), best of 5 runs of 2
//! million iterations, extra time over an empty loop:
//!
//! | operation | ns | fuel at 0.16 ns | price |
//! |---|---|---|---|
//! | `input_len` | 18.7 | 118 | 250 + 1 (`call`) |
//! | `read_input` of 1 byte | 37.4 | 237 | 250 + 1 + 1 |
//! | `read_input` of 64 KiB | 1,497 (0.023 per byte) | 9,471 | 250 + 1 + 65,536 |
//! | `memory.grow 0` | 40.6 | 257 | 255 |
//! | `table.grow 0` | 33.9 | 215 | 255 |
//! | `memory.fill` of 0 bytes | 3.8 | 24 | 32 |
//! | instantiating a one-page no-op module | 3,735 | 23,630 | 25,000 + 255 |
//!
//! Copies stay at 1 per byte, wasmtime's price for `memory.copy`, about 7 times their cost:
//! one price for every way of moving bytes. Before the memory export was cached in the
//! store, `read_input` spent 170 ns looking it up by name. With this crate unoptimised (the
//! debug test profile) host calls take 5 to 10 times longer; the watchdog check inside host
//! calls covers that.
//!
//! Every price is a protocol constant: changing one changes `fuel_used` in receipts, so it is
//! written into the engine identity ([`describe`]).

use wasmtime::OperatorCost;

use crate::ModuleProfile;

/// Fuel for one call of a `verity` function, on top of [`HOST_FUEL_PER_BYTE`].
pub(crate) const HOST_CALL_FUEL: u64 = 250;
/// Fuel per byte copied by `read_input` and `write_output` (as `memory.copy`).
pub(crate) const HOST_FUEL_PER_BYTE: u64 = 1;
/// Flat fuel of an operator that calls into the runtime: bulk memory and table operations
/// (`memory.fill`, `memory.copy`, `memory.init`, `data.drop`, `table.*`, `elem.drop`).
pub(crate) const RUNTIME_CALL_FUEL: u8 = 32;
/// Flat fuel of `memory.grow` and `table.grow` (also when growing by 0, which only reads the
/// size).
pub(crate) const GROW_FUEL: u8 = 255;
/// Fuel per 64 KiB page added to linear memory, by `memory.grow` or at instantiation.
pub(crate) const FUEL_PER_PAGE: u8 = 255;
/// Fixed fuel of instantiating a module (store, instance, memory and table setup).
pub(crate) const INSTANTIATE_FUEL: u64 = 25_000;

/// Wasmtime's default table with the runtime calls repriced.
pub(crate) fn operator_cost() -> OperatorCost {
    let mut cost = OperatorCost::new();
    cost.MemoryGrow = GROW_FUEL;
    cost.TableGrow = GROW_FUEL;
    cost.variable.memory_grow_per_page = FUEL_PER_PAGE;
    for op in [
        &mut cost.MemoryFill,
        &mut cost.MemoryCopy,
        &mut cost.MemoryInit,
        &mut cost.DataDrop,
        &mut cost.TableFill,
        &mut cost.TableCopy,
        &mut cost.TableInit,
        &mut cost.ElemDrop,
    ] {
        *op = RUNTIME_CALL_FUEL;
    }
    cost
}

/// Fuel for instantiating a module with this profile, before its start function runs.
pub(crate) fn instantiation(profile: &ModuleProfile) -> u64 {
    INSTANTIATE_FUEL
        .saturating_add(profile.data_bytes)
        .saturating_add(profile.element_items)
        .saturating_add(profile.table_elements)
        .saturating_add(profile.memory_pages.saturating_mul(FUEL_PER_PAGE.into()))
}

/// Fuel for a `verity` host call that copies `bytes`.
pub(crate) fn host_call(bytes: u64) -> u64 {
    HOST_CALL_FUEL.saturating_add(bytes.saturating_mul(HOST_FUEL_PER_BYTE))
}

/// The canonical text of the price list, for the engine identity.
pub(crate) fn describe() -> String {
    format!(
        "wasmtime-default-operator-cost,memory_grow={GROW_FUEL}+{FUEL_PER_PAGE}/page,\
         table_grow={GROW_FUEL}+1/element,\
         runtime_calls={RUNTIME_CALL_FUEL}+1/byte-or-element,\
         host_call={HOST_CALL_FUEL}+{HOST_FUEL_PER_BYTE}/byte,\
         instantiate={INSTANTIATE_FUEL}+1/data-byte+1/element+{FUEL_PER_PAGE}/page"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_runtime_calls_are_repriced() {
        let cost = operator_cost();
        let default = OperatorCost::new();
        assert_eq!(cost.I32Add, default.I32Add);
        assert_eq!(cost.Call, default.Call);
        assert_eq!(cost.MemoryGrow, GROW_FUEL);
        assert_eq!(cost.MemoryCopy, RUNTIME_CALL_FUEL);
        assert_eq!(cost.variable.memory_copy_per_byte, 1);
    }

    #[test]
    fn instantiation_charges_every_part_of_the_profile() {
        let profile = ModuleProfile {
            data_bytes: 5,
            element_items: 2,
            memory_pages: 2,
            table_elements: 3,
        };
        assert_eq!(
            instantiation(&profile),
            INSTANTIATE_FUEL + 5 + 2 + 3 + 2 * u64::from(FUEL_PER_PAGE)
        );
    }
}
