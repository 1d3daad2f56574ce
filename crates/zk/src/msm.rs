//! Multi-scalar multiplication for the prover: Pippenger's bucket method with signed digits and
//! the buckets kept in affine form, added to in batches that share one field inversion.
//!
//! Written here because ark-ec 0.6's `VariableBaseMSM` accumulates buckets in projective
//! coordinates (a mixed addition, about 11 field multiplications, per point and window) and
//! no maintained crate offers affine batch accumulation for arkworks types. An affine addition
//! costs one inversion plus three multiplications; Montgomery's trick turns a batch of
//! inversions into one inversion and three multiplications each, so a point costs about six.
//! The same idea is used by gnark-crypto and other fast provers (not their code: this is a
//! plain implementation of the textbook method).
//!
//! Every result equals `VariableBaseMSM::msm` on the same input (the tests compare both on
//! random, repeated, opposite and identity bases); zero scalars and identity bases cost nothing.
//! Small scalars are left to ark-ec (see [`msm`]).

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{AdditiveGroup, BigInteger, Field, PrimeField, Zero, batch_inversion};
use rayon::prelude::*;

type BigIntOf<P> = <<P as ark_ec::CurveConfig>::ScalarField as PrimeField>::BigInt;

/// Additions that share one inversion.
const MAX_BATCH: usize = 2048;

/// `Σ scalars[i]·bases[i]` (the shorter slice sets the length).
///
/// Scalars of at most 64 bits, or within 2^64 below the modulus (bits, counters, small
/// negatives: a fifth of the sensor circuit's witness values), go to ark-ec's MSM, which sums
/// them by size class; they would all fall into a few buckets of one window here and make every
/// addition wait for the previous one. The full-width rest, spread evenly over the buckets, goes
/// through the affine buckets.
pub fn msm<P: SWCurveConfig>(bases: &[Affine<P>], scalars: &[BigIntOf<P>]) -> Projective<P> {
    let modulus = <P::ScalarField as PrimeField>::MODULUS;
    let is_small = |s: &BigIntOf<P>| {
        let mut neg = modulus;
        neg.sub_with_borrow(s);
        s.num_bits() <= 64 || neg.num_bits() <= 64
    };
    let (mut small_bases, mut small_scalars) = (Vec::new(), Vec::new());
    let (mut big_bases, mut big_scalars) = (Vec::new(), Vec::new());
    for (b, s) in bases.iter().zip(scalars) {
        if b.is_zero() || s.is_zero() {
            continue;
        }
        if is_small(s) {
            small_bases.push(*b);
            small_scalars.push(*s);
        } else {
            big_bases.push(*b);
            big_scalars.push(*s);
        }
    }
    let small = <Projective<P> as VariableBaseMSM>::msm_bigint(&small_bases, &small_scalars);
    if big_bases.is_empty() {
        return small;
    }
    // Signed digits of magnitudes up to (p − 1)/2, plus one bit for the last carry.
    let bits = <P::ScalarField as PrimeField>::MODULUS_BIT_SIZE as usize + 1;
    let c = window_bits(big_bases.len(), bits);
    let digits = Digits::of::<P>(&big_scalars, c, bits);
    drop(big_scalars);
    let windows: Vec<Projective<P>> = (0..digits.windows)
        .into_par_iter()
        .map(|w| window_sum(&big_bases, digits.column(w), c))
        .collect();
    let big = windows.iter().rev().fold(Projective::zero(), |acc, w| {
        let mut acc = acc;
        for _ in 0..c {
            acc.double_in_place();
        }
        acc + w
    });
    big + small
}

/// The window width minimising `windows·(points + 3·buckets)` for `bits`-bit signed digits:
/// each point is one affine addition per window, each bucket about three in the running-sum
/// reduction.
fn window_bits(n: usize, bits: usize) -> usize {
    (2..=20usize)
        .min_by_key(|&c| bits.div_ceil(c) * (n + 3 * (1usize << (c - 1))))
        .expect("non-empty range")
}

/// Signed base-`2^c` digits of every scalar, window-major: digit `d` of window `w` means
/// `d·2^(c·w)`, with `|d| ≤ 2^(c−1)`. A scalar above `(p − 1)/2` is written as `−(p − s)`, so
/// small negative field elements cost as little as small positive ones.
struct Digits {
    windows: usize,
    n: usize,
    d: Vec<i32>,
}

impl Digits {
    /// `bits` is one more than the field's bit size: the magnitude is below 2^(bits − 2), and
    /// the extra bit absorbs the last carry (the top window's raw value stays below 2^(c − 2)).
    fn of<P: SWCurveConfig>(scalars: &[BigIntOf<P>], c: usize, bits: usize) -> Self {
        let modulus = <P::ScalarField as PrimeField>::MODULUS;
        let half = <P::ScalarField as PrimeField>::MODULUS_MINUS_ONE_DIV_TWO;
        let windows = bits.div_ceil(c);
        let n = scalars.len();
        let mut d = vec![0i32; windows * n];
        let full = 1i64 << c;
        let half_window = 1i64 << (c - 1);
        for (i, s) in scalars.iter().enumerate() {
            let (mag, negative) = if *s > half {
                let mut m = modulus;
                m.sub_with_borrow(s);
                (m, true)
            } else {
                (*s, false)
            };
            let mut carry = 0i64;
            for w in 0..windows {
                let raw = window_value(&mag, w * c, c) as i64 + carry;
                let (digit, next) = if raw >= half_window {
                    (raw - full, 1)
                } else {
                    (raw, 0)
                };
                carry = next;
                d[w * n + i] = if negative { -digit } else { digit } as i32;
            }
            debug_assert_eq!(carry, 0, "top window absorbs the carry");
        }
        Self { windows, n, d }
    }

    fn column(&self, w: usize) -> &[i32] {
        &self.d[w * self.n..(w + 1) * self.n]
    }
}

/// Bits `[from, from + c)` of `x` as an integer.
fn window_value<B: BigInteger>(x: &B, from: usize, c: usize) -> u64 {
    let limbs = x.as_ref();
    let (limb, shift) = (from / 64, from % 64);
    if limb >= limbs.len() {
        return 0;
    }
    let mut v = limbs[limb] >> shift;
    if shift + c > 64 && limb + 1 < limbs.len() {
        v |= limbs[limb + 1] << (64 - shift);
    }
    v & ((1u64 << c) - 1)
}

/// `Σ dᵢ·Pᵢ` for one window: signed digits into `2^(c−1)` affine buckets, then the running
/// sum `Σ k·bucket[k]`.
fn window_sum<P: SWCurveConfig>(bases: &[Affine<P>], digits: &[i32], c: usize) -> Projective<P> {
    let mut acc = Buckets::<P>::new(1 << (c - 1));
    for (base, &d) in bases.iter().zip(digits) {
        if d == 0 {
            continue;
        }
        let point = if d < 0 { -*base } else { *base };
        acc.add(d.unsigned_abs() as usize - 1, point);
    }
    acc.finish();
    let mut running = Projective::<P>::zero();
    let mut total = Projective::<P>::zero();
    for b in acc.buckets.iter().rev() {
        running += b;
        total += running;
    }
    total
}

/// Affine buckets with pending additions. A bucket with an addition in the current batch is
/// busy; a second point for it waits beside it, and a third is added to that waiting point as
/// an addition of its own in the batch (the sum then goes to the bucket later). So many points
/// for one bucket (the top window holds only a few digit values) are summed pairwise, a tree
/// of batched additions, instead of queueing one behind the other.
struct Buckets<P: SWCurveConfig> {
    buckets: Vec<Affine<P>>,
    busy: Vec<bool>,
    waiting: Vec<Option<Affine<P>>>,
    waiting_list: Vec<usize>,
    /// `(bucket, point, other)`: `point + other`, or `point + bucket` when `other` is `None`.
    batch: Vec<(usize, Affine<P>, Option<Affine<P>>)>,
    max_batch: usize,
}

impl<P: SWCurveConfig> Buckets<P> {
    fn new(count: usize) -> Self {
        Self {
            buckets: vec![Affine::identity(); count],
            busy: vec![false; count],
            waiting: vec![None; count],
            waiting_list: Vec::new(),
            batch: Vec::new(),
            max_batch: count.clamp(1, MAX_BATCH),
        }
    }

    fn add(&mut self, k: usize, p: Affine<P>) {
        self.schedule(k, p);
        if self.batch.len() >= self.max_batch {
            self.apply();
        }
    }

    fn schedule(&mut self, k: usize, p: Affine<P>) {
        if p.is_zero() {
            return;
        }
        if self.busy[k] {
            match self.waiting[k].take() {
                None => {
                    self.waiting[k] = Some(p);
                    self.waiting_list.push(k);
                }
                Some(q) if q.x == p.x => {
                    // Doubling or cancellation: the chord formula does not apply; rare.
                    let r = (q + p).into_affine();
                    self.schedule(k, r);
                }
                Some(q) => self.batch.push((k, p, Some(q))),
            }
            return;
        }
        let b = self.buckets[k];
        if b.is_zero() {
            self.buckets[k] = p;
        } else if b.x == p.x {
            self.buckets[k] = (b + p).into_affine();
        } else {
            self.busy[k] = true;
            self.batch.push((k, p, None));
        }
    }

    /// Applies the batch (one inversion for all its additions), then schedules again what
    /// it left over: the pairwise sums and the points waiting beside busy buckets.
    fn apply(&mut self) {
        let mut dens: Vec<P::BaseField> = self
            .batch
            .iter()
            .map(|(k, p, q)| q.unwrap_or(self.buckets[*k]).x - p.x)
            .collect();
        batch_inversion(&mut dens);
        let mut again = Vec::new();
        for ((k, p, q), inv) in self.batch.drain(..).zip(dens) {
            let o = q.unwrap_or(self.buckets[k]);
            let lambda = (o.y - p.y) * inv;
            let x = lambda.square() - p.x - o.x;
            let y = lambda * (p.x - x) - p.y;
            let r = Affine::new_unchecked(x, y);
            if q.is_some() {
                again.push((k, r));
            } else {
                self.buckets[k] = r;
                self.busy[k] = false;
            }
        }
        for k in self.waiting_list.drain(..) {
            if let Some(w) = self.waiting[k].take() {
                again.push((k, w));
            }
        }
        for (k, r) in again {
            self.schedule(k, r);
        }
    }

    /// Applies what is pending until nothing is.
    fn finish(&mut self) {
        while !self.batch.is_empty() {
            self.apply();
        }
        debug_assert!(self.waiting.iter().all(Option::is_none));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::VariableBaseMSM;
    use ark_ff::UniformRand;
    use ark_std::rand::{Rng, SeedableRng, rngs::StdRng};
    use proptest::prelude::*;

    fn reference<G: VariableBaseMSM<ScalarField = Fr>>(bases: &[G::MulBase], scalars: &[Fr]) -> G {
        G::msm(bases, scalars).expect("same length")
    }

    fn bigints(s: &[Fr]) -> Vec<<Fr as PrimeField>::BigInt> {
        s.iter().map(|x| x.into_bigint()).collect()
    }

    /// Scalars of every kind the prover meets: zero, bits, small, small negative, full width.
    fn scalar(rng: &mut StdRng) -> Fr {
        match rng.gen_range(0..6) {
            0 => Fr::zero(),
            1 => Fr::from(1u64),
            2 => Fr::from(rng.gen_range(2u64..1 << 20)),
            3 => -Fr::from(rng.gen_range(1u64..1 << 20)),
            _ => Fr::rand(rng),
        }
    }

    /// Bases with identities, repeats and opposites mixed in (the doubling and cancellation
    /// paths), drawn from a small pool so that buckets collide.
    fn bases<G: CurveGroup>(rng: &mut StdRng, n: usize, pool: usize) -> Vec<G::Affine>
    where
        G::Affine: ark_ec::AffineRepr<Group = G>,
    {
        let pool: Vec<G::Affine> = (0..pool.max(1))
            .map(|_| G::rand(rng).into_affine())
            .collect();
        (0..n)
            .map(|_| match rng.gen_range(0..8) {
                0 => G::Affine::zero(),
                1 => -pool[rng.gen_range(0..pool.len())],
                _ => pool[rng.gen_range(0..pool.len())],
            })
            .collect()
    }

    #[test]
    fn g1_and_g2_agree_with_arkworks_at_prover_sizes() {
        let mut rng = StdRng::seed_from_u64(7);
        for (n, pool) in [
            (0, 1),
            (1, 1),
            (2, 1),
            (9, 2),
            (300, 5),
            (5000, 4000),
            (40_000, 40_000),
        ] {
            let scalars: Vec<Fr> = (0..n).map(|_| scalar(&mut rng)).collect();
            let b1 = bases::<G1Projective>(&mut rng, n, pool);
            assert_eq!(
                msm(&b1, &bigints(&scalars)),
                reference::<G1Projective>(&b1, &scalars),
                "G1 n={n}"
            );
            if n <= 5000 {
                let b2 = bases::<G2Projective>(&mut rng, n, pool);
                assert_eq!(
                    msm(&b2, &bigints(&scalars)),
                    reference::<G2Projective>(&b2, &scalars),
                    "G2 n={n}"
                );
            }
        }
    }

    #[test]
    fn one_base_many_times_doubles_and_cancels_in_its_bucket() {
        let mut rng = StdRng::seed_from_u64(3);
        let p = G1Projective::rand(&mut rng).into_affine();
        // One full-width scalar: equal digits land in one bucket of every window, so the
        // points meet each other (doublings) and their opposites (cancellations to the
        // identity) in the pairwise sums as well as in the bucket.
        let s = Fr::rand(&mut rng);
        for n in [2usize, 3, 64, 1000] {
            let bases: Vec<G1Affine> = (0..n).map(|i| if i % 3 == 0 { -p } else { p }).collect();
            let scalars = vec![s; n];
            assert_eq!(
                msm(&bases, &bigints(&scalars)),
                reference::<G1Projective>(&bases, &scalars),
                "n={n}"
            );
        }
        let g2 = vec![G2Affine::generator(); 10];
        let scalars = vec![s; 10];
        assert_eq!(
            msm(&g2, &bigints(&scalars)),
            G2Projective::from(g2[0]) * (s * Fr::from(10u64))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn any_mix_of_scalars_and_bases_agrees_with_arkworks(
            seed in any::<u64>(),
            n in 0usize..400,
            pool in 1usize..50,
        ) {
            let mut rng = StdRng::seed_from_u64(seed);
            let scalars: Vec<Fr> = (0..n).map(|_| scalar(&mut rng)).collect();
            let b = bases::<G1Projective>(&mut rng, n, pool);
            prop_assert_eq!(msm(&b, &bigints(&scalars)), reference::<G1Projective>(&b, &scalars));
        }
    }
}
