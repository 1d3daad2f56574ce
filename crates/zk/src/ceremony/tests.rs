//! Ceremony tests on a toy circuit (fast); the N = 16 sensor ceremony is in `tests/it`.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{Field, One, UniformRand};
use ark_groth16::{Groth16, ProvingKey};
use ark_poly::EvaluationDomain;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ark_relations::lc;
use ark_snark::SNARK;
use ark_std::rand::{SeedableRng, rngs::StdRng};

use super::insecure_ptau::{KnownTau, write_insecure_ptau};
use super::*;
use crate::circuit::Shape;

/// x^(2^k) = y with y public: k constraints, one public input.
#[derive(Clone)]
struct Squarings {
    x: Fr,
    k: usize,
}

impl Squarings {
    fn output(&self) -> Fr {
        (0..self.k).fold(self.x, |v, _| v.square())
    }
}

impl ConstraintSynthesizer<Fr> for Squarings {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let y = cs.new_input_variable(|| Ok(self.output()))?;
        let mut v = self.x;
        let mut var = cs.new_witness_variable(|| Ok(v))?;
        for i in 0..self.k {
            let next = v.square();
            let nv = if i + 1 == self.k {
                y
            } else {
                cs.new_witness_variable(|| Ok(next))?
            };
            cs.enforce_r1cs_constraint(|| lc!() + var, || lc!() + var, || lc!() + nv)?;
            v = next;
            var = nv;
        }
        Ok(())
    }
}

const TOY: Shape = Shape { slots: 0, depth: 0 };

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

fn toy_ptau(dir: &std::path::Path, power: u32) -> std::path::PathBuf {
    let path = dir.join(format!("insecure-{power}.ptau"));
    write_insecure_ptau(&path, power, KnownTau::insecure_test()).expect("write ptau");
    path
}

fn tmp(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("verity-ceremony-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn toy_initial() -> (ProvingKey<Bn254>, Squarings) {
    let dir = tmp("toy");
    let circuit = Squarings {
        x: Fr::from(3u64),
        k: 9,
    };
    let qap = Qap::of(circuit.clone()).expect("qap");
    let mut ptau = Ptau::open(&toy_ptau(&dir, 4)).expect("open");
    let pk = initial_key(&qap, &mut ptau).expect("initial key");
    (pk, circuit)
}

fn proves(pk: &ProvingKey<Bn254>, c: &Squarings) -> bool {
    let proof = Groth16::<Bn254>::prove(pk, c.clone(), &mut rng()).expect("prove");
    let good = Groth16::<Bn254>::verify(&pk.vk, &[c.output()], &proof).expect("verify");
    let bad = Groth16::<Bn254>::verify(&pk.vk, &[c.output() + Fr::one()], &proof).expect("verify");
    good && !bad
}

#[test]
fn ptau_round_trip_reads_back_the_known_powers() {
    let dir = tmp("ptau");
    let secrets = KnownTau::insecure_test();
    let mut p = Ptau::open(&toy_ptau(&dir, 3)).expect("open");
    assert_eq!(p.power(), 3);
    assert!(p.has_lagrange());
    let g1 = G1Projective::generator();
    let g2 = G2Projective::generator();
    let tau_g1 = p.tau_g1(0, 15).expect("tau g1");
    let tau_g2 = p.tau_g2(0, 8).expect("tau g2");
    for (j, pt) in tau_g1.iter().enumerate() {
        assert_eq!(
            *pt,
            (g1 * secrets.tau.pow([j as u64])).into_affine(),
            "tau^{j} G1"
        );
    }
    for (j, pt) in tau_g2.iter().enumerate() {
        assert_eq!(
            *pt,
            (g2 * secrets.tau.pow([j as u64])).into_affine(),
            "tau^{j} G2"
        );
    }
    assert_eq!(
        p.alpha_tau_g1(2, 1).expect("alpha")[0],
        (g1 * (secrets.alpha * secrets.tau.square())).into_affine()
    );
    assert_eq!(
        p.beta_tau_g1(0, 1).expect("beta")[0],
        (g1 * secrets.beta).into_affine()
    );
    assert_eq!(
        p.beta_g2().expect("beta g2"),
        (g2 * secrets.beta).into_affine()
    );
    // The Lagrange blocks are arkworks' Lagrange coefficients at tau, on arkworks' domain.
    for m in 0..=3u32 {
        let domain = ark_poly::Radix2EvaluationDomain::<Fr>::new(1 << m).expect("domain");
        assert_eq!(
            domain.group_gen(),
            phase1::snarkjs_root_of_unity(m),
            "root 2^{m}"
        );
        let u = domain.evaluate_all_lagrange_coefficients(secrets.tau);
        let l1 = p.lagrange_g1(m).expect("lagrange g1");
        let l2 = p.lagrange_g2(m).expect("lagrange g2");
        let la = p.alpha_lagrange_g1(m).expect("alpha lagrange");
        for (i, ui) in u.iter().enumerate() {
            assert_eq!(l1[i], (g1 * ui).into_affine());
            assert_eq!(l2[i], (g2 * ui).into_affine());
            assert_eq!(la[i], (g1 * (secrets.alpha * ui)).into_affine());
        }
    }
    assert!(matches!(
        p.lagrange_g2(4),
        Err(CeremonyError::PtauTooSmall {
            power: 3,
            needed: 4
        })
    ));
}

#[test]
fn malformed_ptau_files_get_typed_errors() {
    let dir = tmp("badptau");
    let good = std::fs::read(toy_ptau(&dir, 2)).expect("read");
    let at = |bytes: Vec<u8>| {
        let p = dir.join("bad.ptau");
        std::fs::write(&p, bytes).expect("write");
        Ptau::open(&p).and_then(|mut p| p.tau_g1(0, 7).map(|_| ()))
    };
    let mut magic = good.clone();
    magic[0] = b'x';
    assert!(matches!(
        at(magic),
        Err(CeremonyError::Ptau { section: 0, .. })
    ));
    assert!(matches!(
        at(good[..good.len() - 10].to_vec()),
        Err(CeremonyError::Ptau { .. })
    ));
    // Section 2's first point, x coordinate's low byte: no longer on the curve.
    let mut point = good.clone();
    let sec2 = 12 + (12 + 44) + 12;
    point[sec2] ^= 1;
    assert!(matches!(
        at(point),
        Err(CeremonyError::Ptau { section: 2, .. })
    ));
}

#[test]
fn key_from_ptau_proves_with_arkworks_and_is_the_qap_at_tau() {
    use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
    use ark_poly::GeneralEvaluationDomain;
    use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal, SynthesisMode};
    let (pk, circuit) = toy_initial();
    assert!(proves(&pk, &circuit));
    // arkworks' own QAP evaluation at the known tau, scalar by scalar.
    let s = KnownTau::insecure_test();
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit
        .clone()
        .generate_constraints(cs.clone())
        .expect("synthesis");
    cs.finalize();
    let ni = cs.num_instance_variables();
    let (a, b, c, zt, _, n) = LibsnarkReduction::instance_map_with_evaluation::<
        Fr,
        GeneralEvaluationDomain<Fr>,
    >(cs, &s.tau)
    .expect("qap at tau");
    let g1 = |x: Fr| (G1Projective::generator() * x).into_affine();
    let g2 = |x: Fr| (G2Projective::generator() * x).into_affine();
    let abc: Vec<Fr> = (0..a.len())
        .map(|i| s.beta * a[i] + s.alpha * b[i] + c[i])
        .collect();
    assert_eq!(pk.a_query, a.iter().map(|x| g1(*x)).collect::<Vec<_>>());
    assert_eq!(pk.b_g1_query, b.iter().map(|x| g1(*x)).collect::<Vec<_>>());
    assert_eq!(pk.b_g2_query, b.iter().map(|x| g2(*x)).collect::<Vec<_>>());
    assert_eq!(
        pk.vk.gamma_abc_g1,
        abc[..ni].iter().map(|x| g1(*x)).collect::<Vec<_>>()
    );
    assert_eq!(
        pk.l_query,
        abc[ni..].iter().map(|x| g1(*x)).collect::<Vec<_>>()
    );
    let h: Vec<_> = (0..n - 1).map(|i| g1(zt * s.tau.pow([i as u64]))).collect();
    assert_eq!(pk.h_query, h);
    assert_eq!(pk.vk.alpha_g1, g1(s.alpha));
    assert_eq!(pk.beta_g1, g1(s.beta));
    assert_eq!(pk.vk.beta_g2, g2(s.beta));
    assert_eq!(pk.vk.gamma_g2, G2Affine::generator());
    assert_eq!(pk.vk.delta_g2, G2Affine::generator());
    assert_eq!(pk.delta_g1, G1Affine::generator());
}

#[test]
fn ptau_too_small_for_the_circuit_is_refused() {
    let dir = tmp("small");
    let qap = Qap::of(Squarings {
        x: Fr::from(2u64),
        k: 20,
    })
    .expect("qap");
    let mut ptau = Ptau::open(&toy_ptau(&dir, 2)).expect("open");
    assert!(matches!(
        initial_key(&qap, &mut ptau),
        Err(CeremonyError::PtauTooSmall {
            power: 2,
            needed: 5
        })
    ));
}

fn ceremony_of_three() -> (ProvingKey<Bn254>, Ceremony, Squarings) {
    let (initial, circuit) = toy_initial();
    let mut c = Ceremony::start(TOY, initial.clone());
    for name in ["alice", "bob", "carol"] {
        contribute(&mut c, name, &mut secret_rng(name.as_bytes())).expect("contribute");
    }
    finalize(&mut c, Beacon::from_hex("0xdeadbeef", 4).expect("beacon")).expect("beacon");
    (initial, c, circuit)
}

#[test]
fn three_contributions_and_a_beacon_verify_and_prove() {
    let (initial, c, circuit) = ceremony_of_three();
    let v = verify(&initial, &c, &mut rng()).expect("verify");
    assert!(v.finalized);
    let names: Vec<_> = v.contributions.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol", "beacon"]);
    assert_ne!(c.key.delta_g1, initial.delta_g1);
    assert!(proves(&c.key, &circuit));
    // The file round-trips and still verifies.
    let mut bytes = Vec::new();
    c.write_to(&mut bytes).expect("write");
    let back = Ceremony::read_from(&bytes[..]).expect("read");
    assert_eq!(back.transcript_hash(), c.transcript_hash());
    verify(&initial, &back, &mut rng()).expect("verify after round trip");
    // No contribution after the beacon.
    let mut closed = c.clone();
    assert!(matches!(
        contribute(&mut closed, "late", &mut rng()),
        Err(CeremonyError::Finalized)
    ));
}

#[test]
fn wrong_proof_of_knowledge_is_rejected() {
    let (initial, mut c, _) = ceremony_of_three();
    let p = &mut c.contributions[1];
    p.s_challenge_g2 = (p.s_challenge_g2 + G2Affine::generator()).into_affine();
    assert!(matches!(
        verify(&initial, &c, &mut rng()),
        Err(CeremonyError::ProofOfKnowledge { index: 1, .. })
    ));
    // A consistent proof of knowledge of another secret than delta's.
    let (initial, mut c, _) = ceremony_of_three();
    let p = &mut c.contributions[2];
    let other = Fr::from(5u64);
    p.sr_g1 = (p.r_g1 * other).into_affine();
    let prev = c.contributions[1].clone();
    let h = c
        .contributions
        .iter()
        .take(2)
        .fold(transcript::start(&c.initial_digest), |h, x| {
            transcript::next(&h, x)
        });
    let ch = transcript::challenge(
        &h,
        &prev.delta_g1,
        &c.contributions[2].r_g1,
        &c.contributions[2].sr_g1,
    );
    c.contributions[2].s_challenge_g2 = (ch * other).into_affine();
    assert!(matches!(
        verify(&initial, &c, &mut rng()),
        Err(CeremonyError::DeltaG1 { index: 2, .. })
    ));
}

#[test]
fn swapped_query_points_are_rejected() {
    let (initial, mut c, _) = ceremony_of_three();
    c.key.h_query.swap(0, 1);
    assert!(matches!(
        verify(&initial, &c, &mut rng()),
        Err(CeremonyError::QueryMismatch { .. })
    ));
    let (initial, mut c, _) = ceremony_of_three();
    c.key.l_query.swap(0, 1);
    assert!(matches!(
        verify(&initial, &c, &mut rng()),
        Err(CeremonyError::QueryMismatch { .. })
    ));
}

#[test]
fn changed_non_delta_elements_are_rejected() {
    let (initial, c, _) = ceremony_of_three();
    let bump = |p: G1Affine| (p + G1Affine::generator()).into_affine();
    let mut a = c.clone();
    a.key.a_query[1] = bump(a.key.a_query[1]);
    assert!(matches!(
        verify(&initial, &a, &mut rng()),
        Err(CeremonyError::ChangedElement { which: "a_query" })
    ));
    let mut g = c.clone();
    g.key.vk.gamma_abc_g1[1] = bump(g.key.vk.gamma_abc_g1[1]);
    assert!(matches!(
        verify(&initial, &g, &mut rng()),
        Err(CeremonyError::ChangedElement {
            which: "gamma_abc_g1"
        })
    ));
    let mut al = c.clone();
    al.key.vk.alpha_g1 = bump(al.key.vk.alpha_g1);
    assert!(matches!(
        verify(&initial, &al, &mut rng()),
        Err(CeremonyError::ChangedElement { which: "alpha_g1" })
    ));
    // The key's delta replaced: no longer the transcript's.
    let mut d = c.clone();
    d.key.delta_g1 = bump(d.key.delta_g1);
    assert!(matches!(
        verify(&initial, &d, &mut rng()),
        Err(CeremonyError::FinalDelta)
    ));
    // Another initial key.
    let mut other = initial.clone();
    other.beta_g1 = bump(other.beta_g1);
    assert!(matches!(
        verify(&other, &c, &mut rng()),
        Err(CeremonyError::InitialMismatch { .. })
    ));
}

#[test]
fn forged_beacon_and_malformed_files_are_rejected() {
    let (initial, mut c, _) = ceremony_of_three();
    let last = c.contributions.len() - 1;
    c.contributions[last].beacon = Some(Beacon::from_hex("0xdeadbeee", 4).expect("beacon"));
    assert!(matches!(
        verify(&initial, &c, &mut rng()),
        Err(CeremonyError::Beacon { index: 3 })
    ));
    assert!(matches!(
        Beacon::from_hex("0xabc", 4),
        Err(CeremonyError::BadBeacon(_))
    ));
    assert!(matches!(
        Beacon::from_hex("ab", 41),
        Err(CeremonyError::BadBeacon(_))
    ));

    let (_, c, _) = ceremony_of_three();
    let mut bytes = Vec::new();
    c.write_to(&mut bytes).expect("write");
    assert!(matches!(
        Ceremony::read_from(&bytes[..bytes.len() - 1]),
        Err(CeremonyError::Format(_))
    ));
    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert!(matches!(
        Ceremony::read_from(&magic[..]),
        Err(CeremonyError::Format(_))
    ));
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        Ceremony::read_from(&trailing[..]),
        Err(CeremonyError::Format(_))
    ));
}

#[test]
fn beacon_secret_is_the_iterated_hash() {
    let b = Beacon::from_hex("01", 2).expect("beacon");
    let s1 = b.secret().expect("secret");
    assert_eq!(
        s1,
        Beacon::new(vec![1], 2)
            .expect("beacon")
            .secret()
            .expect("secret")
    );
    assert_ne!(
        s1,
        Beacon::new(vec![1], 3)
            .expect("beacon")
            .secret()
            .expect("secret")
    );
    assert_ne!(
        s1,
        Beacon::new(vec![2], 2)
            .expect("beacon")
            .secret()
            .expect("secret")
    );
    let _ = Fr::rand(&mut rng());
}
