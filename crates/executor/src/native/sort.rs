//! LSD radix sort of u32 values (four passes of 8 bits), the algorithm of `guests/sort.c`.
//!
//! Input and output: u32 LE values; the output is the input sorted ascending.

use super::le32;

/// Encodes values as the guest's input.
pub fn encode(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The sorted values' bytes, or `None` where the guest traps (length not a multiple of 4).
pub fn run(input: &[u8]) -> Option<Vec<u8>> {
    if !input.len().is_multiple_of(4) {
        return None;
    }
    let n = input.len() / 4;
    let mut keys: Vec<u32> = (0..n).map(|i| le32(input, 4 * i)).collect();
    let mut tmp = vec![0u32; n];
    for shift in [0, 8, 16, 24] {
        let mut count = [0u32; 256];
        for &k in &keys {
            count[((k >> shift) & 0xff) as usize] += 1;
        }
        let mut sum = 0;
        for c in &mut count {
            let here = *c;
            *c = sum;
            sum += here;
        }
        for &k in &keys {
            let slot = &mut count[((k >> shift) & 0xff) as usize];
            tmp[*slot as usize] = k;
            *slot += 1;
        }
        std::mem::swap(&mut keys, &mut tmp);
    }
    Some(encode(&keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_standard_sort() {
        let mut x = 0x2545_f491_u32;
        let values: Vec<u32> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x
            })
            .chain([0, u32::MAX, 7, 7])
            .collect();
        let mut expected = values.clone();
        expected.sort_unstable();
        assert_eq!(run(&encode(&values)).unwrap(), encode(&expected));
        assert_eq!(run(&[1, 2, 3]), None);
        assert_eq!(run(&[]).unwrap(), Vec::<u8>::new());
    }
}
