//! Dependent table lookups through a pseudo-random table, the algorithm of `guests/lookup.c`.
//!
//! Input: seed u64 LE, `k` u32 LE (the table has 2^k entries, k at most 24), steps u32 LE;
//! exactly 16 bytes. Output: the checksum u64 LE and the last index u32 LE.

use super::{le32, le64};

/// Largest `k` the guest accepts (a 64 MiB table).
pub const MAX_LOG2_ENTRIES: u32 = 24;

/// Encodes the guest's input.
pub fn encode(seed: u64, log2_entries: u32, steps: u32) -> Vec<u8> {
    let mut input = seed.to_le_bytes().to_vec();
    input.extend_from_slice(&log2_entries.to_le_bytes());
    input.extend_from_slice(&steps.to_le_bytes());
    input
}

/// The checksum and last index, or `None` where the guest traps (not 16 bytes, or `k` over
/// [`MAX_LOG2_ENTRIES`]).
pub fn run(input: &[u8]) -> Option<Vec<u8>> {
    if input.len() != 16 {
        return None;
    }
    let mut x = le64(input, 0) | 1;
    let k = le32(input, 8);
    let steps = le32(input, 12);
    if k > MAX_LOG2_ENTRIES {
        return None;
    }
    let n = 1u32 << k;
    let mask = n - 1;
    let table: Vec<u32> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u32
        })
        .collect();
    let mut sum = 0u64;
    let mut idx = 0u32;
    for s in 0..steps {
        let v = table[idx as usize];
        sum = sum.wrapping_mul(31).wrapping_add(u64::from(v));
        idx = (v ^ s) & mask;
    }
    let mut out = sum.to_le_bytes().to_vec();
    out.extend_from_slice(&idx.to_le_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_the_guest_traps_on() {
        assert_eq!(run(&[0; 15]), None);
        assert_eq!(run(&encode(1, MAX_LOG2_ENTRIES + 1, 1)), None);
    }

    #[test]
    fn zero_steps_give_a_zero_checksum_at_index_zero() {
        assert_eq!(run(&encode(7, 4, 0)), Some(vec![0; 12]));
    }

    #[test]
    fn a_one_entry_table_repeats_its_value() {
        // k = 0: every step reads table[0] (the mask is 0).
        let out = run(&encode(1, 0, 2)).unwrap();
        let mut x = 1u64;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = u64::from((x >> 32) as u32);
        assert_eq!(out[..8], (v * 31 + v).to_le_bytes());
        assert_eq!(out[8..], [0; 4]);
    }
}
