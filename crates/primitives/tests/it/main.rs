//! Integration tests of verity-primitives.

mod error_codes;
