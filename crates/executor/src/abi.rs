//! The guest ABI, version 1: three host functions in the import module `verity`, and two
//! required exports. See the crate README for the contract guests rely on.
//!
//! | import                | type                          |
//! |-----------------------|-------------------------------|
//! | `verity::input_len`   | `() -> i32`                   |
//! | `verity::read_input`  | `(dst, offset, len: i32) -> i32` |
//! | `verity::write_output`| `(src, len: i32) -> ()`       |
//!
//! Exports: `memory` (the module's own linear memory) and `run: () -> ()`.

use wasmtime::{Caller, Engine, Extern, ExternType, FuncType, Linker, Memory, Module, ValType};

use crate::fuel;
use crate::host::HostState;
use crate::{AbiViolation, ExecError, Result};

/// The only import module a guest may use.
pub(crate) const IMPORT_MODULE: &str = "verity";
/// The entry point export.
pub(crate) const ENTRY: &str = "run";
/// The memory export.
pub(crate) const MEMORY: &str = "memory";

const INPUT_LEN: &str = "input_len";
const READ_INPUT: &str = "read_input";
const WRITE_OUTPUT: &str = "write_output";

/// `(name, params, results)` of every ABI function.
const FUNCTIONS: &[(&str, &[ValType], &[ValType])] = &[
    (INPUT_LEN, &[], &[ValType::I32]),
    (
        READ_INPUT,
        &[ValType::I32, ValType::I32, ValType::I32],
        &[ValType::I32],
    ),
    (WRITE_OUTPUT, &[ValType::I32, ValType::I32], &[]),
];

/// Checks a compiled module's imports and exports against the ABI, in declaration order, so
/// the first offending item is the one reported, on every machine.
pub(crate) fn check_module(module: &Module) -> Result<()> {
    for import in module.imports() {
        let forbidden = || ExecError::ForbiddenImport {
            module: import.module().to_string(),
            name: import.name().to_string(),
        };
        if import.module() != IMPORT_MODULE {
            return Err(forbidden());
        }
        let Some(&(name, params, results)) =
            FUNCTIONS.iter().find(|(name, ..)| *name == import.name())
        else {
            return Err(forbidden());
        };
        let ExternType::Func(found) = import.ty() else {
            return Err(forbidden());
        };
        if !signature_is(&found, params, results) {
            return Err(ExecError::ImportSignature {
                name: name.to_string(),
                expected: show(params.iter().cloned(), results.iter().cloned()),
                found: show(found.params(), found.results()),
            });
        }
    }
    match module.get_export(MEMORY) {
        Some(ExternType::Memory(_)) => {}
        _ => {
            return Err(ExecError::MissingExport {
                name: MEMORY.to_string(),
                expected: "an exported linear memory".to_string(),
            });
        }
    }
    match module.get_export(ENTRY) {
        Some(ExternType::Func(ty)) if signature_is(&ty, &[], &[]) => Ok(()),
        _ => Err(ExecError::MissingExport {
            name: ENTRY.to_string(),
            expected: "a function () -> ()".to_string(),
        }),
    }
}

fn signature_is(ty: &FuncType, params: &[ValType], results: &[ValType]) -> bool {
    fn same(found: impl ExactSizeIterator<Item = ValType>, want: &[ValType]) -> bool {
        found.len() == want.len() && found.zip(want).all(|(a, b)| ValType::eq(&a, b))
    }
    same(ty.params(), params) && same(ty.results(), results)
}

fn show(params: impl Iterator<Item = ValType>, results: impl Iterator<Item = ValType>) -> String {
    let list = |types: Vec<String>| types.join(", ");
    format!(
        "({}) -> ({})",
        list(params.map(|t| t.to_string()).collect()),
        list(results.map(|t| t.to_string()).collect())
    )
}

/// A linker holding the three host functions and nothing else.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap(IMPORT_MODULE, INPUT_LEN, input_len)?;
    linker.func_wrap(IMPORT_MODULE, READ_INPUT, read_input)?;
    linker.func_wrap(IMPORT_MODULE, WRITE_OUTPUT, write_output)?;
    Ok(linker)
}

fn input_len(mut caller: Caller<'_, HostState>) -> wasmtime::Result<i32> {
    charge(&mut caller, 0)?;
    // `execute` refuses inputs longer than i32::MAX.
    Ok(i32::try_from(caller.data().input.len()).unwrap_or(i32::MAX))
}

/// Wasm passes addresses and lengths as i32; the ABI reads them as unsigned.
fn unsigned(value: i32) -> u32 {
    u32::from_le_bytes(value.to_le_bytes())
}

fn read_input(
    mut caller: Caller<'_, HostState>,
    dst: i32,
    offset: i32,
    len: i32,
) -> wasmtime::Result<i32> {
    let (dst, offset, len) = (unsigned(dst), unsigned(offset), unsigned(len));
    let input_len = caller.data().input.len();
    let from = offset as usize;
    let Some(to) = from.checked_add(len as usize).filter(|&to| to <= input_len) else {
        return Err(misuse(
            &mut caller,
            READ_INPUT,
            AbiViolation::InputOutOfBounds {
                offset,
                len,
                input_len: input_len as u64,
            },
        ));
    };
    let memory = memory(&mut caller)?;
    let target = guest_range(&mut caller, &memory, READ_INPUT, dst, len)?;
    charge(&mut caller, u64::from(len))?;
    let (memory, host) = memory.data_and_store_mut(&mut caller);
    memory[target].copy_from_slice(&host.input[from..to]);
    // `len` fits in i32: it is at most the input length.
    Ok(i32::try_from(len).unwrap_or(i32::MAX))
}

fn write_output(mut caller: Caller<'_, HostState>, src: i32, len: i32) -> wasmtime::Result<()> {
    let (src, len) = (unsigned(src), unsigned(len));
    if caller.data().output.is_some() {
        return Err(misuse(
            &mut caller,
            WRITE_OUTPUT,
            AbiViolation::OutputAlreadyWritten,
        ));
    }
    let max = caller.data().max_output_bytes;
    if u64::from(len) > max {
        let error = ExecError::OutputTooLarge {
            len: u64::from(len),
            max,
        };
        return Err(caller.data_mut().fail(error));
    }
    let memory = memory(&mut caller)?;
    let source = guest_range(&mut caller, &memory, WRITE_OUTPUT, src, len)?;
    charge(&mut caller, u64::from(len))?;
    let (memory, host) = memory.data_and_store_mut(&mut caller);
    host.output = Some(memory[source].to_vec());
    Ok(())
}

fn misuse(
    caller: &mut Caller<'_, HostState>,
    call: &'static str,
    violation: AbiViolation,
) -> wasmtime::Error {
    caller
        .data_mut()
        .fail(ExecError::AbiMisuse { call, violation })
}

/// The guest's memory export, looked up by name on the first call only (the lookup is most of
/// a host call's cost otherwise). One store holds one instance, so the handle stays right.
fn memory(caller: &mut Caller<'_, HostState>) -> wasmtime::Result<Memory> {
    if let Some(memory) = caller.data().memory {
        return Ok(memory);
    }
    match caller.get_export(MEMORY) {
        Some(Extern::Memory(memory)) => {
            caller.data_mut().memory = Some(memory);
            Ok(memory)
        }
        // `check_module` guarantees the export; this is only defence in depth.
        _ => Err(caller.data_mut().fail(ExecError::MissingExport {
            name: MEMORY.to_string(),
            expected: "an exported linear memory".to_string(),
        })),
    }
}

/// `ptr..ptr + len` as a range of linear memory, or the typed misuse.
fn guest_range(
    caller: &mut Caller<'_, HostState>,
    memory: &Memory,
    call: &'static str,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<std::ops::Range<usize>> {
    let memory_len = memory.data_size(&*caller);
    let start = ptr as usize;
    match start.checked_add(len as usize) {
        Some(end) if end <= memory_len => Ok(start..end),
        _ => Err(misuse(
            caller,
            call,
            AbiViolation::GuestMemoryOutOfBounds {
                ptr,
                len,
                memory_len: memory_len as u64,
            },
        )),
    }
}

/// Charges a host call's fuel (a flat cost plus a cost per byte copied), and checks the
/// wall clock.
fn charge(caller: &mut Caller<'_, HostState>, bytes: u64) -> wasmtime::Result<()> {
    caller.data_mut().check_clock(bytes)?;
    let cost = fuel::host_call(bytes);
    let left = caller.get_fuel()?;
    if left < cost {
        caller.set_fuel(0)?;
        let limit = caller.data().fuel_limit;
        return Err(caller.data_mut().fail(ExecError::OutOfFuel { limit }));
    }
    caller.set_fuel(left - cost)
}
