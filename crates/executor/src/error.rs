//! Every way an execution can end other than with an output.

use std::fmt;

use crate::BudgetMeasure;

/// `Result` with [`ExecError`] as the default error.
pub type Result<T, E = ExecError> = std::result::Result<T, E>;

/// Why an execution produced no output.
///
/// Each variant carries a stable code (`[V-EXE-0NN]`) that operators can search for. Apart from
/// the host-side variants (see [`ExecError::is_deterministic`]), the same module, input, limits
/// and [`EngineIdentity`](crate::EngineIdentity) give the same error on every run and every
/// machine, with the same message: messages never hold addresses, timings or backtraces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The module is larger than the executor accepts.
    #[error("[V-EXE-001] module is {len} bytes, over the {max}-byte limit")]
    ModuleTooLarge {
        /// Size of the module.
        len: usize,
        /// The executor's limit.
        max: usize,
    },

    /// The bytes are not a valid WebAssembly module for this configuration (bad encoding, a
    /// disabled proposal such as threads or relaxed SIMD, a validation error).
    #[error("[V-EXE-002] invalid module: {reason}")]
    InvalidModule {
        /// The validator's message.
        reason: String,
    },

    /// The module imports something outside the guest ABI (a WASI clock, randomness, the
    /// filesystem, an `env` function, an imported memory, ...). Checked before running.
    #[error("[V-EXE-003] forbidden import {module}::{name} (only the \"verity\" functions exist)")]
    ForbiddenImport {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
    },

    /// A `verity` import has the wrong type.
    #[error("[V-EXE-004] import verity::{name} has type {found}, the guest ABI says {expected}")]
    ImportSignature {
        /// The ABI function.
        name: String,
        /// The ABI's signature.
        expected: String,
        /// The module's signature.
        found: String,
    },

    /// A required export (`memory`, or `run: () -> ()`) is missing or has the wrong type.
    #[error("[V-EXE-005] missing export `{name}`: the guest ABI needs {expected}")]
    MissingExport {
        /// Export name.
        name: String,
        /// What the ABI requires.
        expected: String,
    },

    /// The fuel limit was reached (includes the start function and host calls).
    #[error("[V-EXE-006] out of fuel: the task allows {limit}")]
    OutOfFuel {
        /// The task's fuel limit.
        limit: u64,
    },

    /// Linear memory would exceed the task's limit: a `memory.grow` past it, or a module whose
    /// declared initial memory is already larger.
    #[error("[V-EXE-007] memory limit: {phase} needs {requested} bytes, the task allows {max}")]
    MemoryLimit {
        /// When it happened.
        phase: Phase,
        /// Bytes of linear memory asked for.
        requested: u64,
        /// The task's limit.
        max: u64,
    },

    /// A table would exceed the task's element limit.
    #[error("[V-EXE-008] table limit: {phase} needs {requested} elements, the task allows {max}")]
    TableLimit {
        /// When it happened.
        phase: Phase,
        /// Elements asked for.
        requested: u64,
        /// The task's limit.
        max: u64,
    },

    /// The guest's call stack exceeded the engine's `max_wasm_stack`.
    #[error("[V-EXE-009] stack overflow during {phase}")]
    StackOverflow {
        /// When it happened.
        phase: Phase,
    },

    /// `write_output` was asked to write more than the task's output cap.
    #[error("[V-EXE-010] output of {len} bytes is over the task's {max}-byte cap")]
    OutputTooLarge {
        /// Bytes the guest tried to write.
        len: u64,
        /// The task's cap.
        max: u64,
    },

    /// The guest called a `verity` function with arguments the ABI forbids.
    #[error("[V-EXE-011] guest ABI misuse in verity::{call}: {violation}")]
    AbiMisuse {
        /// The ABI function.
        call: &'static str,
        /// What was wrong.
        violation: AbiViolation,
    },

    /// The guest trapped (`unreachable`, an out-of-bounds access, a division by zero, ...),
    /// or a data or element segment did not fit at instantiation.
    #[error("[V-EXE-012] guest trapped during {phase}: {trap}")]
    Trap {
        /// When it happened.
        phase: Phase,
        /// Which trap.
        trap: GuestTrap,
    },

    /// The input is longer than the ABI can address (`i32::MAX` bytes).
    #[error("[V-EXE-013] input of {len} bytes is over the guest ABI's {max}-byte limit")]
    InputTooLarge {
        /// Input length.
        len: u64,
        /// The ABI limit.
        max: u64,
    },

    /// Instantiation failed for a reason other than a trap or a limit above (for example more
    /// tables or memories than one instance may define).
    #[error("[V-EXE-014] instantiation failed: {reason}")]
    Instantiation {
        /// The engine's message.
        reason: String,
    },

    /// Host side: the wall-clock watchdog stopped a run that fuel had not stopped yet.
    #[error("[V-EXE-015] wall-clock limit of {limit_ms} ms reached during {phase}")]
    Timeout {
        /// When it happened.
        phase: Phase,
        /// The executor's wall-clock limit.
        limit_ms: u64,
    },

    /// Host side: the task's limits exceed what this executor is configured to grant.
    #[error("[V-EXE-016] task limits rejected by this node: {reason}")]
    LimitsRejected {
        /// Which limit.
        reason: String,
    },

    /// Host side: the engine failed for a reason that is not the guest's (out of host memory,
    /// a bad executor configuration).
    #[error("[V-EXE-017] engine failure: {reason}")]
    Engine {
        /// The engine's message.
        reason: String,
    },

    /// The module exceeds the static complexity budget ([`ModuleBudget`](crate::ModuleBudget)),
    /// checked on its bytes before compiling. Deterministic: the budget is part of the engine
    /// identity.
    #[error(
        "[V-EXE-018] module over the complexity budget: {measure} is {found}, the budget allows {max}"
    )]
    OverBudget {
        /// What was measured.
        measure: BudgetMeasure,
        /// The module's value.
        found: u64,
        /// The budget's limit.
        max: u64,
    },

    /// Host side: compiling the module did not finish within the wall-clock limit on this
    /// machine. The compilation goes on in the background and its result is cached, so a
    /// later attempt may succeed.
    #[error("[V-EXE-019] compilation did not finish within {limit_ms} ms on this node")]
    CompileTimeout {
        /// The compile time limit.
        limit_ms: u64,
    },

    /// Host side: earlier compilations that ran past their deadline are still running, so
    /// this node compiles no more modules until one ends.
    #[error("[V-EXE-020] compiler busy: {running} compilations past their deadline still running")]
    CompilerBusy {
        /// Compilations still running past their deadline.
        running: usize,
    },
}

impl ExecError {
    /// The stable code, e.g. `"V-EXE-006"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ModuleTooLarge { .. } => "V-EXE-001",
            Self::InvalidModule { .. } => "V-EXE-002",
            Self::ForbiddenImport { .. } => "V-EXE-003",
            Self::ImportSignature { .. } => "V-EXE-004",
            Self::MissingExport { .. } => "V-EXE-005",
            Self::OutOfFuel { .. } => "V-EXE-006",
            Self::MemoryLimit { .. } => "V-EXE-007",
            Self::TableLimit { .. } => "V-EXE-008",
            Self::StackOverflow { .. } => "V-EXE-009",
            Self::OutputTooLarge { .. } => "V-EXE-010",
            Self::AbiMisuse { .. } => "V-EXE-011",
            Self::Trap { .. } => "V-EXE-012",
            Self::InputTooLarge { .. } => "V-EXE-013",
            Self::Instantiation { .. } => "V-EXE-014",
            Self::Timeout { .. } => "V-EXE-015",
            Self::LimitsRejected { .. } => "V-EXE-016",
            Self::Engine { .. } => "V-EXE-017",
            Self::OverBudget { .. } => "V-EXE-018",
            Self::CompileTimeout { .. } => "V-EXE-019",
            Self::CompilerBusy { .. } => "V-EXE-020",
        }
    }

    /// Whether every correct replica with the same [`EngineIdentity`](crate::EngineIdentity)
    /// reaches this same error for the same module, input and limits. Such an error is a
    /// verdict about the program (replicas may commit to it); the others (`Timeout`,
    /// `LimitsRejected`, `Engine`, `CompileTimeout`, `CompilerBusy`) are about this node and
    /// must not be committed to.
    ///
    /// One caveat: `StackOverflow` depends on native frame sizes, which can differ between CPU
    /// architectures for a program that recurses close to the limit (see the crate README).
    pub fn is_deterministic(&self) -> bool {
        !matches!(
            self,
            Self::Timeout { .. }
                | Self::LimitsRejected { .. }
                | Self::Engine { .. }
                | Self::CompileTimeout { .. }
                | Self::CompilerBusy { .. }
        )
    }
}

/// When during an execution an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Loading the module: allocating memory and tables, applying data and element segments,
    /// and running the start function if there is one.
    Instantiate,
    /// The call to the exported `run`.
    Run,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Instantiate => "instantiation",
            Self::Run => "run",
        })
    }
}

/// A WebAssembly trap, named independently of the engine's own type so that codes and messages
/// stay stable across engine upgrades.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GuestTrap {
    /// `unreachable` was executed (how C's `__builtin_trap` and Rust's `panic` end).
    Unreachable,
    /// A load or store outside linear memory, or a segment that does not fit it.
    MemoryOutOfBounds,
    /// A table access outside the table, or an element segment that does not fit it.
    TableOutOfBounds,
    /// `call_indirect` to an empty table slot.
    IndirectCallToNull,
    /// `call_indirect` to a function of another type.
    BadSignature,
    /// Signed integer division overflow (`i32::MIN / -1`).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// A float-to-integer conversion of NaN or of a value out of range.
    BadConversionToInteger,
    /// Any other trap, by the engine's name for it.
    Other(String),
}

impl fmt::Display for GuestTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable => f.write_str("unreachable executed"),
            Self::MemoryOutOfBounds => f.write_str("out-of-bounds memory access"),
            Self::TableOutOfBounds => f.write_str("out-of-bounds table access"),
            Self::IndirectCallToNull => f.write_str("indirect call to a null table entry"),
            Self::BadSignature => f.write_str("indirect call type mismatch"),
            Self::IntegerOverflow => f.write_str("integer overflow"),
            Self::IntegerDivisionByZero => f.write_str("integer division by zero"),
            Self::BadConversionToInteger => f.write_str("invalid conversion to integer"),
            Self::Other(name) => write!(f, "{name}"),
        }
    }
}

/// What a guest did wrong when calling a `verity` function.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AbiViolation {
    /// `read_input` asked for bytes past the end of the input.
    InputOutOfBounds {
        /// Requested offset into the input.
        offset: u32,
        /// Requested length.
        len: u32,
        /// Input length.
        input_len: u64,
    },
    /// A pointer and length do not lie inside the guest's linear memory.
    GuestMemoryOutOfBounds {
        /// Guest address.
        ptr: u32,
        /// Length.
        len: u32,
        /// Current size of linear memory in bytes.
        memory_len: u64,
    },
    /// `write_output` was called a second time.
    OutputAlreadyWritten,
}

impl fmt::Display for AbiViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InputOutOfBounds {
                offset,
                len,
                input_len,
            } => write!(
                f,
                "input range {offset}+{len} is past the end of the {input_len}-byte input"
            ),
            Self::GuestMemoryOutOfBounds {
                ptr,
                len,
                memory_len,
            } => write!(
                f,
                "memory range {ptr}+{len} is outside the {memory_len}-byte linear memory"
            ),
            Self::OutputAlreadyWritten => f.write_str("output was already written"),
        }
    }
}
