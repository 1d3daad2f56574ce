//! Stable error codes (`[V-XXX-NNN]`), written once per error.
//!
//! Every operator-facing error message starts with its code, as in
//! `#[error("[V-CH-001] unknown operator {0}")]`. An enum that also answers its code as a value
//! (for an API body or a metric label) wraps its definition in [`coded_error!`](crate::coded_error),
//! which reads the code out of that attribute at compile time instead of repeating it in a
//! `match`: the message is the only place a code is written. A variant that forwards another
//! error's message (`#[error(transparent)]`) names its own code with `#[code("V-XXX-NNN")]`.
//!
//! The workspace test `crates/primitives/tests/it/error_codes.rs` scans every crate's sources
//! and fails if one code is defined for two different errors (a definition being a message
//! that starts with the code, a `#[code(..)]`, or a named `&str` constant).

/// The code at the start of a coded message: `"V-CH-001"` from `"[V-CH-001] unknown ..."`.
///
/// Panics (a compile error when evaluated in a `const` block, as [`coded_error!`] does) if
/// `message` does not start with a well-formed code: `[`, `V-`, one or more ASCII capitals,
/// `-`, three digits, `]`.
pub const fn code_in(message: &'static str) -> &'static str {
    let b = message.as_bytes();
    assert!(
        b.len() > 1 && b[0] == b'[',
        "a coded message starts with [V-XXX-NNN]"
    );
    let mut end = 1;
    while end < b.len() && b[end] != b']' {
        end += 1;
    }
    assert!(end < b.len(), "a coded message starts with [V-XXX-NNN]");
    let (head, _) = b.split_at(end);
    let (_, code) = head.split_at(1);
    assert!(is_code(code), "malformed error code: expected V-XXX-NNN");
    match core::str::from_utf8(code) {
        Ok(s) => s,
        Err(_) => panic!("error codes are ASCII"),
    }
}

/// Whether `code` has the shape `V-` capitals `-` three digits.
pub const fn is_code(code: &[u8]) -> bool {
    let n = code.len();
    if n < 8 || code[0] != b'V' || code[1] != b'-' || code[n - 4] != b'-' {
        return false;
    }
    let mut i = 2;
    while i < n - 4 {
        if !code[i].is_ascii_uppercase() {
            return false;
        }
        i += 1;
    }
    code[n - 3].is_ascii_digit() && code[n - 2].is_ascii_digit() && code[n - 1].is_ascii_digit()
}

/// Defines an error enum (unchanged: derive `thiserror::Error` on it as usual) and its
/// `code(&self) -> &'static str`, taken from each variant's `#[error("[V-XXX-NNN] ...")]`.
///
/// Each variant carries its doc comment, then its `#[error(...)]`, then, only if the message is
/// `transparent`, `#[code("V-XXX-NNN")]`:
///
/// ```
/// verity_primitives::coded_error! {
///     /// Why a widget was refused.
///     #[derive(Debug, thiserror::Error)]
///     pub enum WidgetError {
///         /// Too big.
///         #[error("[V-WID-001] widget of {size} bytes is over {max}")]
///         TooBig { size: u64, max: u64 },
///         /// Not a widget.
///         #[error("[V-WID-002] not a widget: {0}")]
///         Malformed(String),
///         /// The disk failed.
///         #[error(transparent)]
///         #[code("V-WID-003")]
///         Io(#[from] std::io::Error),
///     }
/// }
/// let e = WidgetError::TooBig { size: 9, max: 8 };
/// assert_eq!(e.code(), "V-WID-001");
/// assert_eq!(e.to_string(), "[V-WID-001] widget of 9 bytes is over 8");
/// assert_eq!(WidgetError::from(std::io::Error::other("x")).code(), "V-WID-003");
/// ```
#[macro_export]
macro_rules! coded_error {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[doc = $doc:literal])*
                #[error($($message:tt)+)]
                $(#[code($code:literal)])?
                $variant:ident $(( $($tuple:tt)* ))? $({ $($fields:tt)* })?
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[doc = $doc])*
                #[error($($message)+)]
                $variant $(( $($tuple)* ))? $({ $($fields)* })?
            ),+
        }

        impl $name {
            /// The stable code operators can search for (the prefix of the message).
            pub const fn code(&self) -> &'static str {
                match self {
                    $(
                        Self::$variant { .. } => $crate::__error_code!([$($code)?] $($message)+),
                    )+
                }
            }
        }
    };
}

/// The code of one `coded_error!` variant (not public API).
#[doc(hidden)]
#[macro_export]
macro_rules! __error_code {
    ([$code:literal] transparent) => {
        const { $crate::error_code::code_in(concat!("[", $code, "]")) }
    };
    ([] $message:literal $($args:tt)*) => {
        const { $crate::error_code::code_in($message) }
    };
    ([$code:literal] $($other:tt)*) => {
        compile_error!("#[code(..)] is only for #[error(transparent)] variants; otherwise the message carries the code")
    };
    ([] $($other:tt)*) => {
        compile_error!("a transparent variant needs #[code(\"V-XXX-NNN\")]")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_code_at_the_start_of_a_message() {
        assert_eq!(code_in("[V-TST-001] unknown operator {0}"), "V-TST-001");
        assert_eq!(code_in("[V-TESTS-002] {0}"), "V-TESTS-002");
        assert!(is_code(b"V-API-014"));
        for bad in [
            "V-API-14",
            "V-api-014",
            "X-API-014",
            "V--014",
            "V-API-0145",
            "V-API014",
        ] {
            assert!(!is_code(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    #[should_panic(expected = "starts with")]
    fn a_message_without_a_code_is_refused() {
        let _ = code_in("no code here");
    }
}
