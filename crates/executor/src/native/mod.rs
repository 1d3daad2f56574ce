//! The example guests' kernels in plain Rust, line for line the same algorithms and the same
//! byte formats as the C sources in `guests/`. Tests check that a guest's output equals its
//! native kernel's on the same input; the overhead benchmark times both.
//!
//! Each `run` takes the guest's input bytes and returns the guest's output bytes; `None` means
//! the guest would trap on that input.

pub mod branchy;
pub mod lookup;
pub mod matmul;
pub mod sensor;
pub mod sha256;
pub mod sort;

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from(le32(bytes, at)) | u64::from(le32(bytes, at + 4)) << 32
}
