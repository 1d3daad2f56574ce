//! A byte-driven state machine with data-dependent branches, the algorithm of
//! `guests/branchy.c`.
//!
//! Input: any bytes. Output: the registers a, b, c, d, u32 LE each.

/// The four registers after the input, as the guest's 16 output bytes.
pub fn run(input: &[u8]) -> Vec<u8> {
    let (mut a, mut b, mut c, mut d) = (0x811c_9dc5u32, 0u32, 0u32, 0u32);
    for &byte in input {
        let x = u32::from(byte);
        if x < 96 {
            a = (a ^ x).wrapping_mul(16_777_619);
        } else if x < 160 {
            b = b.wrapping_add(x);
            if b & 1 != 0 {
                c ^= a;
            }
        } else if x < 224 {
            match x & 3 {
                0 => c = c.wrapping_add(a >> 3),
                1 => c = c.wrapping_sub(b),
                2 => d ^= c << 1,
                _ => d = d.wrapping_add(1),
            }
        } else {
            a = a.rotate_left(x & 31);
            d = d.wrapping_add(a & 0xff);
        }
    }
    [a, b, c, d].iter().flat_map(|r| r.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_gives_the_initial_registers() {
        let out = run(&[]);
        assert_eq!(out[..4], 0x811c_9dc5u32.to_le_bytes());
        assert_eq!(out[4..], [0; 12]);
    }

    #[test]
    fn each_byte_class_updates_its_register() {
        // 0x41 < 96: FNV step on a only.
        let fnv = (0x811c_9dc5u32 ^ 0x41).wrapping_mul(16_777_619);
        assert_eq!(run(&[0x41])[..4], fnv.to_le_bytes());
        // 97 (odd) < 160: b = 97, and c takes a.
        let out = run(&[97]);
        assert_eq!(out[4..8], 97u32.to_le_bytes());
        assert_eq!(out[8..12], 0x811c_9dc5u32.to_le_bytes());
        // 163 = 160 + 3: d += 1.
        assert_eq!(run(&[163])[12..], 1u32.to_le_bytes());
    }
}
