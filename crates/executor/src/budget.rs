//! The static complexity budget: what a module may contain, checked on its bytes before the
//! compiler sees them.
//!
//! Fuel bounds what a program does once it runs, but compiling it and loading it are outside
//! fuel: an 800 KB module of 100,000 empty functions with 50,000 locals each compiled for more
//! than 500 s, a million functions with 100,000 exports took 6 GB, and a million nested blocks
//! kept 800 MB. Compilation time and memory grow with the counts below, not with the module's
//! byte size (a local costs a byte or two to declare and a word of work for every function
//! that declares it), so each is capped on its own.
//!
//! The budget is part of the protocol: the verdict depends only on the module bytes and on
//! the [`ModuleBudget`], which is part of the [`EngineIdentity`](crate::EngineIdentity), so
//! every replica rejects the same modules with the same
//! [`ExecError::OverBudget`](crate::ExecError::OverBudget). The check reads every section once
//! and every function body's operators once (a few ms for a module at the size limit); the
//! first measure over its limit, in section order, is the one reported.
//!
//! The defaults are far above what compilers emit for compute programs (the example guests
//! have under 40 functions, 30 locals per function and nesting under 20; large Rust or C
//! programs have tens of thousands of functions at most), and each one keeps the worst case
//! of its own measure to seconds of compilation on one core and tens of MB of memory.

use std::fmt;

use serde::{Deserialize, Serialize};
use wasmparser::{ElementItems, Operator, Parser, Payload};

use crate::{ExecError, Result};

/// The limits of the static complexity budget. See the module documentation for why a
/// budget exists; each field says why its limit is where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct ModuleBudget {
    /// Function types. Each is interned and canonicalised at compile time; compilers emit a
    /// few dozen to a few hundred.
    pub max_types: u32,
    /// Imports. The guest ABI has three functions; anything else is refused anyway, but the
    /// import list is read and linked before that.
    pub max_imports: u32,
    /// Functions defined by the module. Each costs a compiled function, a trampoline and
    /// per-function metadata (about 150 µs and several KB even when empty): 20,000 is the
    /// size of a large optimised Rust program and a few seconds of compilation.
    pub max_functions: u32,
    /// Locals declared by one function. Each local is a compiler variable that is
    /// zero-initialised and tracked through SSA construction; optimised code uses tens,
    /// unoptimised code hundreds. (The validator's own limit is 50,000.)
    pub max_locals_per_function: u32,
    /// Locals of all functions together: the compile-time bomb of the issue was 100,000
    /// functions of 50,000 locals each (5e9 locals in 800 KB).
    pub max_total_locals: u64,
    /// Bytes of one function body. Register allocation grows faster than linearly in a
    /// function's size, so one huge function is slower to compile than many small ones.
    pub max_function_body_bytes: u32,
    /// Nesting depth of blocks, loops and ifs in one function. The compiler keeps state per
    /// open block; a million nested blocks kept 800 MB. C `switch` statements lower to one
    /// block per case, so large interpreters reach a few hundred.
    pub max_nesting_depth: u32,
    /// Globals. Each is instance state and compiled accessor code; toolchains emit a handful.
    pub max_globals: u32,
    /// Elements declared by all tables together (their initial sizes). Tables are
    /// allocated and initialised at instantiation, before any fuel is spent.
    pub max_table_elements: u64,
    /// Exports. The ABI needs two; a flood of exports is kept in per-module maps (100,000
    /// exports took GBs together with a million functions).
    pub max_exports: u32,
    /// Element segments. Each is kept by the instance and applied at instantiation.
    pub max_element_segments: u32,
    /// Function references in all element segments together, written into tables at
    /// instantiation.
    pub max_element_items: u64,
    /// Data segments. Each is kept by the instance and applied at instantiation; linkers emit
    /// a handful (one per output section).
    pub max_data_segments: u32,
}

impl Default for ModuleBudget {
    fn default() -> Self {
        Self {
            max_types: 10_000,
            max_imports: 1_000,
            max_functions: 20_000,
            max_locals_per_function: 10_000,
            max_total_locals: 1_000_000,
            max_function_body_bytes: 1 << 20,
            max_nesting_depth: 1_000,
            max_globals: 10_000,
            max_table_elements: 100_000,
            max_exports: 1_000,
            max_element_segments: 1_000,
            max_element_items: 100_000,
            max_data_segments: 10_000,
        }
    }
}

impl ModuleBudget {
    /// The canonical text of the budget, for the engine identity.
    pub(crate) fn describe(&self) -> String {
        format!(
            "types={},imports={},functions={},locals_per_function={},total_locals={},\
             function_body_bytes={},nesting_depth={},globals={},table_elements={},exports={},\
             element_segments={},element_items={},data_segments={}",
            self.max_types,
            self.max_imports,
            self.max_functions,
            self.max_locals_per_function,
            self.max_total_locals,
            self.max_function_body_bytes,
            self.max_nesting_depth,
            self.max_globals,
            self.max_table_elements,
            self.max_exports,
            self.max_element_segments,
            self.max_element_items,
            self.max_data_segments,
        )
    }

    /// Checks `bytes` against the budget without compiling them. Returns what instantiating
    /// the module will cost (the executor charges fuel for it), or the first measure over
    /// budget. Bytes that do not parse are an [`ExecError::InvalidModule`].
    pub fn check(&self, bytes: &[u8]) -> Result<ModuleProfile> {
        let mut profile = ModuleProfile::default();
        let mut total_locals = 0u64;
        let mut function = 0u32;
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(invalid)? {
                Payload::TypeSection(s) => {
                    over(BudgetMeasure::Types, s.count().into(), self.max_types)?
                }
                Payload::ImportSection(s) => {
                    let mut count = 0u64;
                    for import in s.into_imports() {
                        import.map_err(invalid)?;
                        count += 1;
                        over(BudgetMeasure::Imports, count, self.max_imports)?;
                    }
                }
                Payload::FunctionSection(s) => over(
                    BudgetMeasure::Functions,
                    s.count().into(),
                    self.max_functions,
                )?,
                Payload::TableSection(s) => {
                    for table in s {
                        let initial = table.map_err(invalid)?.ty.initial;
                        profile.table_elements = profile.table_elements.saturating_add(initial);
                        over64(
                            BudgetMeasure::TableElements,
                            profile.table_elements,
                            self.max_table_elements,
                        )?;
                    }
                }
                Payload::MemorySection(s) => {
                    for memory in s {
                        let initial = memory.map_err(invalid)?.initial;
                        profile.memory_pages = profile.memory_pages.saturating_add(initial);
                    }
                }
                Payload::GlobalSection(s) => {
                    over(BudgetMeasure::Globals, s.count().into(), self.max_globals)?
                }
                Payload::ExportSection(s) => {
                    over(BudgetMeasure::Exports, s.count().into(), self.max_exports)?
                }
                Payload::ElementSection(s) => {
                    let segments = s.count();
                    over(
                        BudgetMeasure::ElementSegments,
                        segments.into(),
                        self.max_element_segments,
                    )?;
                    for element in s {
                        let items = match element.map_err(invalid)?.items {
                            ElementItems::Functions(f) => f.count(),
                            ElementItems::Expressions(_, e) => e.count(),
                        };
                        profile.element_items = profile.element_items.saturating_add(items.into());
                        over64(
                            BudgetMeasure::ElementItems,
                            profile.element_items,
                            self.max_element_items,
                        )?;
                    }
                }
                Payload::DataSection(s) => {
                    over(
                        BudgetMeasure::DataSegments,
                        s.count().into(),
                        self.max_data_segments,
                    )?;
                    for data in s {
                        let len = data.map_err(invalid)?.data.len();
                        profile.data_bytes = profile.data_bytes.saturating_add(len as u64);
                    }
                }
                Payload::CodeSectionStart { count, .. } => {
                    over(BudgetMeasure::Functions, count.into(), self.max_functions)?
                }
                Payload::CodeSectionEntry(body) => {
                    let index = function;
                    function += 1;
                    let body_bytes = body.range().len() as u64;
                    over(
                        BudgetMeasure::FunctionBodyBytes { function: index },
                        body_bytes,
                        self.max_function_body_bytes,
                    )?;
                    let mut locals = 0u64;
                    for group in body.get_locals_reader().map_err(invalid)? {
                        let (count, _) = group.map_err(invalid)?;
                        locals = locals.saturating_add(count.into());
                    }
                    over(
                        BudgetMeasure::LocalsInFunction { function: index },
                        locals,
                        self.max_locals_per_function,
                    )?;
                    total_locals = total_locals.saturating_add(locals);
                    over64(
                        BudgetMeasure::TotalLocals,
                        total_locals,
                        self.max_total_locals,
                    )?;
                    let depth = nesting_depth(&body, self.max_nesting_depth)?;
                    over(
                        BudgetMeasure::NestingDepth { function: index },
                        depth,
                        self.max_nesting_depth,
                    )?;
                }
                _ => {}
            }
        }
        Ok(profile)
    }
}

/// What instantiating a module costs, read from its bytes by [`ModuleBudget::check`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ModuleProfile {
    /// Bytes of all data segments (copied into memory at instantiation, if active).
    pub data_bytes: u64,
    /// Function references in all element segments.
    pub element_items: u64,
    /// Initial 64 KiB pages of the declared memories.
    pub memory_pages: u64,
    /// Initial elements of the declared tables.
    pub table_elements: u64,
}

/// One measure of the [`ModuleBudget`], named in [`ExecError::OverBudget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BudgetMeasure {
    /// Function types.
    Types,
    /// Imports.
    Imports,
    /// Functions defined by the module.
    Functions,
    /// Locals of one function (its index among the module's defined functions).
    LocalsInFunction {
        /// Index among the defined functions (imports not counted).
        function: u32,
    },
    /// Locals of all functions together.
    TotalLocals,
    /// Bytes of one function body.
    FunctionBodyBytes {
        /// Index among the defined functions (imports not counted).
        function: u32,
    },
    /// Block nesting depth in one function.
    NestingDepth {
        /// Index among the defined functions (imports not counted).
        function: u32,
    },
    /// Globals.
    Globals,
    /// Initial elements of all tables.
    TableElements,
    /// Exports.
    Exports,
    /// Element segments.
    ElementSegments,
    /// Items of all element segments.
    ElementItems,
    /// Data segments.
    DataSegments,
}

impl fmt::Display for BudgetMeasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Types => f.write_str("types"),
            Self::Imports => f.write_str("imports"),
            Self::Functions => f.write_str("functions"),
            Self::LocalsInFunction { function } => write!(f, "locals of function {function}"),
            Self::TotalLocals => f.write_str("locals of all functions"),
            Self::FunctionBodyBytes { function } => {
                write!(f, "body bytes of function {function}")
            }
            Self::NestingDepth { function } => write!(f, "nesting depth of function {function}"),
            Self::Globals => f.write_str("globals"),
            Self::TableElements => f.write_str("table elements"),
            Self::Exports => f.write_str("exports"),
            Self::ElementSegments => f.write_str("element segments"),
            Self::ElementItems => f.write_str("element segment items"),
            Self::DataSegments => f.write_str("data segments"),
        }
    }
}

fn over(measure: BudgetMeasure, found: u64, max: u32) -> Result<()> {
    over64(measure, found, max.into())
}

fn over64(measure: BudgetMeasure, found: u64, max: u64) -> Result<()> {
    if found > max {
        return Err(ExecError::OverBudget {
            measure,
            found,
            max,
        });
    }
    Ok(())
}

fn invalid(error: wasmparser::BinaryReaderError) -> ExecError {
    ExecError::InvalidModule {
        reason: error.to_string(),
    }
}

/// The deepest nesting of blocks, loops and ifs in `body`; stops reading once past `max`, so
/// a bomb is rejected after `max + 1` operators.
fn nesting_depth(body: &wasmparser::FunctionBody<'_>, max: u32) -> Result<u64> {
    let mut reader = body.get_operators_reader().map_err(invalid)?;
    let (mut depth, mut deepest) = (0u64, 0u64);
    while !reader.eof() {
        match reader.read().map_err(invalid)? {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. }
            | Operator::Try { .. } => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > u64::from(max) {
                    return Ok(deepest);
                }
            }
            Operator::End | Operator::Delegate { .. } => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(deepest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    #[test]
    fn a_small_module_passes_and_reports_what_instantiation_costs() {
        let bytes = module(
            r#"(module (memory 2) (table 3 funcref) (func $f) (elem (i32.const 0) $f $f)
                 (data (i32.const 0) "hello"))"#,
        );
        let profile = ModuleBudget::default().check(&bytes).unwrap();
        assert_eq!(
            profile,
            ModuleProfile {
                data_bytes: 5,
                element_items: 2,
                memory_pages: 2,
                table_elements: 3
            }
        );
    }

    #[test]
    fn each_per_function_measure_names_the_function() {
        let budget = ModuleBudget {
            max_locals_per_function: 3,
            max_nesting_depth: 2,
            ..ModuleBudget::default()
        };
        let locals = module("(module (func) (func (local i32 i32 i32 i64)))");
        assert_eq!(
            budget.check(&locals).unwrap_err(),
            ExecError::OverBudget {
                measure: BudgetMeasure::LocalsInFunction { function: 1 },
                found: 4,
                max: 3
            }
        );
        let nested = module("(module (func (block (loop (if (i32.const 0) (then nop))))))");
        assert_eq!(
            budget.check(&nested).unwrap_err(),
            ExecError::OverBudget {
                measure: BudgetMeasure::NestingDepth { function: 0 },
                found: 3,
                max: 2
            }
        );
        // Sibling blocks do not add up.
        let siblings = module("(module (func (block) (block) (block (block))))");
        assert!(budget.check(&siblings).is_ok());
    }

    #[test]
    fn bytes_that_do_not_parse_are_an_invalid_module() {
        assert!(matches!(
            ModuleBudget::default().check(b"\0asm\x01\0\0\0\x01\xff"),
            Err(ExecError::InvalidModule { .. })
        ));
    }
}
