//! Helpers shared by the tests, including an oracle written independently of the crate's
//! selection and scoring code: it checks hard constraints field by field, scores every node
//! from the policy's documented formula, and picks greedily from a full sort by that score.

use verity_scheduler::{
    Assignment, Checks, Figure, NodeView, OperatorId, Plan, Policy, Provenance, Region, Scheduler,
    Score, TaskNeeds, Verified,
};

/// A distinct operator id per number.
pub(crate) fn op(n: u32) -> OperatorId {
    let mut id = [0u8; 20];
    id[16..].copy_from_slice(&n.to_be_bytes());
    OperatorId(id)
}

/// A plain CPU node in `region`.
pub(crate) fn cpu_node(region: u16) -> NodeView {
    NodeView {
        cpu_cores: 8,
        memory_mib: 16 * 1024,
        gpu_memory_mib: 0,
        region: Region(region),
        capabilities: 0,
        stake: 1_000,
        reputation_permille: 800,
        capacity: 4,
        latency_ms: 40,
        green_energy_pct: 50,
        price_per_megafuel: 1_000_000_000,
        live: true,
        provenance: checked(),
    }
}

/// Every figure checked, each the way the coordinator checks it (green energy and price have
/// no checker in the protocol yet; tests mark them checked to exercise their terms).
pub(crate) fn checked() -> Checks {
    Checks {
        hardware: Provenance::Verified(Verified::Attested),
        reputation: Provenance::Verified(Verified::OnChain),
        latency: Provenance::Verified(Verified::Measured),
        green_energy: Provenance::Verified(Verified::OnChain),
        price: Provenance::Verified(Verified::OnChain),
    }
}

/// The figures of `view` as the policy documents they count (`Claims`): an unchecked figure
/// not in `trusted` is its floor (hardware the floor class, or less if it claims less;
/// reputation 0; latency `u32::MAX`; green 0; price `u128::MAX`). Written from the
/// documentation, independently of the crate.
pub(crate) fn counted(policy: &Policy, view: &NodeView) -> NodeView {
    let c = &policy.claims;
    let p = view.provenance;
    let taken = |figure: Figure, prov: Provenance| {
        matches!(prov, Provenance::Verified(_)) || c.trusted.contains(&figure)
    };
    let mut out = view.clone();
    if !taken(Figure::Hardware, p.hardware) {
        out.cpu_cores = out.cpu_cores.min(c.floor_cpu_cores);
        out.memory_mib = out.memory_mib.min(c.floor_memory_mib);
        out.gpu_memory_mib = out.gpu_memory_mib.min(c.floor_gpu_memory_mib);
    }
    if !taken(Figure::Reputation, p.reputation) {
        out.reputation_permille = 0;
    }
    if !taken(Figure::Latency, p.latency) {
        out.latency_ms = u32::MAX;
    }
    if !taken(Figure::GreenEnergy, p.green_energy) {
        out.green_energy_pct = 0;
    }
    if !taken(Figure::Price, p.price) {
        out.price_per_megafuel = u128::MAX;
    }
    out
}

/// Needs that every `cpu_node` meets: one replica, no backups.
pub(crate) fn any_needs() -> TaskNeeds {
    TaskNeeds {
        min_cpu_cores: 0,
        min_memory_mib: 0,
        min_gpu_memory_mib: 0,
        allowed_regions: None,
        required_capabilities: 0,
        min_stake: 0,
        min_reputation_permille: 0,
        replication: 1,
        distinct_regions: false,
        backups: false,
    }
}

pub(crate) fn scheduler() -> Scheduler {
    Scheduler::new(Policy::default()).expect("default policy is valid")
}

/// Whether `view`, as it counts under `policy`, meets every per-node hard constraint of
/// `needs`, field by field.
pub(crate) fn meets(policy: &Policy, view: &NodeView, needs: &TaskNeeds) -> bool {
    let view = &counted(policy, view);
    view.cpu_cores >= needs.min_cpu_cores
        && view.memory_mib >= needs.min_memory_mib
        && view.gpu_memory_mib >= needs.min_gpu_memory_mib
        && (view.capabilities & needs.required_capabilities) == needs.required_capabilities
        && view.stake >= needs.min_stake
        && view.reputation_permille >= needs.min_reputation_permille
        && match &needs.allowed_regions {
            None => true,
            Some(set) => set.contains(view.region),
        }
}

/// A node's score from the formula the policy documents (`Weights`, `Scoring`, the crate
/// README), written without the crate's scorer: each term in `[0, 1]` (performance the mean
/// of CPU cores, memory and GPU memory each against its reference and capped at 1; reputation
/// per mille / 1000; latency `r / (r + latency)`; green energy % / 100; price
/// `r / (r + price)`), weighted by the weights over their sum, then multiplied by
/// `1 - load_penalty * busy / capacity`, where busy counts load and held work alike.
/// Figures count as [`counted`] says.
pub(crate) fn documented_score(policy: &Policy, view: &NodeView, busy: u32) -> f64 {
    let view = &counted(policy, view);
    let w = &policy.weights;
    let r = &policy.scoring;
    let part = |have: f64, reference: f64| {
        if have >= reference {
            1.0
        } else {
            have / reference
        }
    };
    let performance = (part(f64::from(view.cpu_cores), f64::from(r.reference_cpu_cores))
        + part(view.memory_mib as f64, r.reference_memory_mib as f64)
        + part(
            view.gpu_memory_mib as f64,
            r.reference_gpu_memory_mib as f64,
        ))
        / 3.0;
    let terms = [
        (w.performance, performance),
        (w.reputation, f64::from(view.reputation_permille) / 1000.0),
        (
            w.latency,
            f64::from(r.reference_latency_ms)
                / (f64::from(r.reference_latency_ms) + f64::from(view.latency_ms)),
        ),
        (w.green_energy, f64::from(view.green_energy_pct) / 100.0),
        (
            w.price,
            r.reference_price_per_megafuel as f64
                / (r.reference_price_per_megafuel as f64 + view.price_per_megafuel as f64),
        ),
    ];
    let weight: f64 = terms.iter().map(|(w, _)| w).sum();
    let base = terms.iter().map(|(w, t)| w * t).sum::<f64>() / weight;
    let full = if view.capacity == 0 {
        1.0
    } else {
        (f64::from(busy) / f64::from(view.capacity)).min(1.0)
    };
    base * (1.0 - r.load_penalty * full)
}

/// How far two computations of one score may differ through floating-point rounding alone.
const ROUNDING: f64 = 1e-12;

/// The brute-force answer: every feasible node sorted by (score desc, id asc), then greedy
/// primaries (skipping used regions when asked) and greedy backups (distinct from everything
/// picked; with distinct regions, outside the other primaries' regions). `None` if infeasible.
///
/// The score is [`documented_score`]. The scheduler's reported score must agree with it up to
/// rounding (checked for every candidate), and is only consulted to order two nodes whose
/// documented scores are equal up to rounding, where the formula alone cannot say which the
/// quantised score puts first.
pub(crate) fn oracle(s: &Scheduler, needs: &TaskNeeds) -> Option<Vec<Assignment>> {
    let mut ranked: Vec<(f64, Score, OperatorId, Region)> = s
        .nodes()
        .filter(|n| !n.departed && n.view.live && n.load + n.held < n.view.capacity)
        .filter(|n| meets(s.policy(), n.view, needs))
        .map(|n| {
            let mine = documented_score(s.policy(), n.view, n.load + n.held);
            let reported = s.score(n.id).expect("present");
            assert!(
                (mine - reported.as_f64()).abs() <= ROUNDING,
                "{}: the scheduler scores {} where the documented formula gives {mine}",
                n.id,
                reported.as_f64()
            );
            (mine, reported, n.id, n.view.region)
        })
        .collect();
    ranked.sort_by(|a, b| {
        if (a.0 - b.0).abs() > ROUNDING {
            b.0.total_cmp(&a.0)
        } else {
            b.1.cmp(&a.1).then(a.2.cmp(&b.2))
        }
    });
    let pool: Vec<(Score, OperatorId, Region)> = ranked
        .into_iter()
        .map(|(_, r, id, region)| (r, id, region))
        .collect();
    let k = needs.replication as usize;
    let mut primaries: Vec<(Score, OperatorId, Region)> = Vec::new();
    for c in &pool {
        if primaries.len() == k {
            break;
        }
        if needs.distinct_regions && primaries.iter().any(|p| p.2 == c.2) {
            continue;
        }
        primaries.push(*c);
    }
    if primaries.len() < k {
        return None;
    }
    let mut backups: Vec<Option<OperatorId>> = vec![None; k];
    if needs.backups {
        let mut used: Vec<OperatorId> = primaries.iter().map(|p| p.1).collect();
        for (i, slot) in backups.iter_mut().enumerate() {
            let found = pool.iter().find(|c| {
                !used.contains(&c.1)
                    && (!needs.distinct_regions
                        || primaries
                            .iter()
                            .enumerate()
                            .all(|(j, p)| j == i || p.2 != c.2))
            })?;
            used.push(found.1);
            *slot = Some(found.1);
        }
    }
    Some(
        primaries
            .iter()
            .zip(backups)
            .map(|(p, backup)| Assignment {
                primary: p.1,
                backup,
                score: p.0,
            })
            .collect(),
    )
}

/// Checks a plan against the hard rules directly (independently of the oracle).
pub(crate) fn check_plan(s: &Scheduler, needs: &TaskNeeds, plan: &Plan) -> Result<(), String> {
    let k = needs.replication as usize;
    if plan.assignments.len() != k {
        return Err(format!(
            "{} assignments for k = {k}",
            plan.assignments.len()
        ));
    }
    let mut seen: Vec<OperatorId> = Vec::new();
    let mut regions: Vec<Region> = Vec::new();
    for a in &plan.assignments {
        let n = s.node(a.primary).ok_or("primary not in the registry")?;
        if n.departed || !n.view.live {
            return Err(format!("{} is not live", a.primary));
        }
        if n.load + n.held >= n.view.capacity {
            return Err(format!(
                "{} is full ({}/{})",
                a.primary, n.load, n.view.capacity
            ));
        }
        if !meets(s.policy(), n.view, needs) {
            return Err(format!("{} violates a hard constraint", a.primary));
        }
        if seen.contains(&a.primary) {
            return Err(format!("{} picked twice", a.primary));
        }
        if needs.distinct_regions && regions.contains(&n.view.region) {
            return Err(format!("region {} used twice", n.view.region));
        }
        seen.push(a.primary);
        regions.push(n.view.region);
    }
    for (i, a) in plan.assignments.iter().enumerate() {
        match (needs.backups, a.backup) {
            (false, None) => {}
            (false, Some(_)) => return Err("backup without being asked".into()),
            (true, None) => return Err("missing backup".into()),
            (true, Some(b)) => {
                let n = s.node(b).ok_or("backup not in the registry")?;
                if n.departed || !n.view.live || n.load + n.held >= n.view.capacity {
                    return Err(format!("backup {b} is not eligible"));
                }
                if !meets(s.policy(), n.view, needs) {
                    return Err(format!("backup {b} violates a hard constraint"));
                }
                if seen.contains(&b) {
                    return Err(format!("backup {b} is already picked"));
                }
                if needs.distinct_regions
                    && regions
                        .iter()
                        .enumerate()
                        .any(|(j, r)| j != i && *r == n.view.region)
                {
                    return Err(format!("backup {b} shares a region with another primary"));
                }
                seen.push(b);
            }
        }
    }
    Ok(())
}
