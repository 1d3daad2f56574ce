//! Integer matrix multiply with wrapping arithmetic, the algorithm of `guests/matmul.c`.
//!
//! Input: `n` (u32 LE, 1..=1024), then A and B (n*n i32 LE each, row-major).
//! Output: C = A x B (n*n i32 LE, row-major).

use super::le32;

/// Largest `n` the guest accepts.
pub const MAX_N: u32 = 1024;

/// Encodes two n x n matrices (row-major) as the guest's input.
pub fn encode(n: u32, a: &[i32], b: &[i32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * (a.len() + b.len()));
    out.extend_from_slice(&n.to_le_bytes());
    for v in a.iter().chain(b) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// The product's bytes, or `None` where the guest traps (bad `n` or length).
pub fn run(input: &[u8]) -> Option<Vec<u8>> {
    let n = usize::try_from(le32(input.get(..4)?, 0)).ok()?;
    if n == 0 || n > MAX_N as usize || input.len() - 4 != 8 * n * n {
        return None;
    }
    let nn = n * n;
    let decode = |from: usize| -> Vec<u32> { (0..nn).map(|i| le32(input, from + 4 * i)).collect() };
    let a = decode(4);
    let b = decode(4 + 4 * nn);
    let mut c = vec![0u32; nn];
    for i in 0..n {
        let crow = &mut c[i * n..(i + 1) * n];
        for k in 0..n {
            let aik = a[i * n + k];
            let brow = &b[k * n..(k + 1) * n];
            for (cij, bkj) in crow.iter_mut().zip(brow) {
                *cij = cij.wrapping_add(aik.wrapping_mul(*bkj));
            }
        }
    }
    Some(c.iter().flat_map(|v| v.to_le_bytes()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplies_a_small_example_with_wrapping() {
        let a = [1, 2, 3, i32::MAX];
        let b = [5, 6, 7, 2];
        let out = run(&encode(2, &a, &b)).unwrap();
        let c: Vec<i32> = out
            .chunks_exact(4)
            .map(|w| i32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        assert_eq!(
            c,
            [
                19,
                10,
                15i32.wrapping_add(i32::MAX.wrapping_mul(7)),
                18i32.wrapping_add(i32::MAX.wrapping_mul(2))
            ]
        );
    }

    #[test]
    fn rejects_what_the_guest_traps_on() {
        assert_eq!(run(&[]), None);
        assert_eq!(run(&0u32.to_le_bytes()), None);
        assert_eq!(run(&encode(2, &[1, 2, 3, 4], &[1, 2, 3])), None);
    }
}
