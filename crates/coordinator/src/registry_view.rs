//! The registry view: nodes as the chain registered them (stake, region, capabilities, jail)
//! joined with their latest signed heartbeat (hardware offered, free slots, price, green
//! claim), their liveness and their reputation, kept in the scheduler's index.
//!
//! Every figure the scheduler ranks by says where it comes from
//! ([`verity_scheduler::Provenance`]), and only checked figures count for more than the
//! floor: reputation from indexed on-chain outcomes (`OnChain`); latency from the
//! coordinator's own nonce round trips ([`LatencyProbes`], `Measured`; the node's timestamps
//! are ignored); hardware from a verified TEE quote or a checked benchmark
//! ([`HardwareChecks`], `Attested`/`Benchmarked`), else the heartbeat's claim (`Claimed`);
//! green share and price are always the heartbeat's claim (`Claimed`: nothing checks them).
//!
//! [`node_view`] is the pure join of one node; [`RegistryView::refresh`] reads the store and
//! tells the scheduler only what changed (joins, updates, departures), so the index is updated
//! incrementally and the load the scheduler counts for outstanding allocations survives.
//!
//! Load comes from the chain: every seat a node holds and has not delivered yet (an active
//! seat of a task still in `assigned`) is passed to the scheduler as held work
//! ([`Scheduler::set_held`]), whoever assigned it (this run, an earlier run, another
//! coordinator) and wherever a failover moved it. The assigner's own allocations only cover
//! the gap until the indexer sees the assignment (see `Assigner::pass`).

use std::{collections::HashMap, sync::Arc};

use alloy::primitives::{Address, U256};
use verity_primitives::heartbeat::SignedHeartbeat;
use verity_scheduler::{
    Checks, NodeError, NodeView, OperatorId, Policy, PolicyError, Provenance, Region, Scheduler,
    Verified,
};

use crate::{
    hardware::{CheckedHardware, HardwareChecks},
    latency::LatencyProbes,
    liveness::{Liveness, LivenessPolicy, liveness},
    reputation::{Outcome, ReputationPolicy, score},
    store::{AssignmentStatus, HeartbeatRecord, NodeRecord, Page, Store, StoreError},
};

/// Why the view could not be refreshed.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// Reading the store failed.
    #[error("[V-CR-001] store: {0}")]
    Store(#[from] StoreError),
    /// The scheduler refused a node.
    #[error("[V-CR-002] scheduler: {0}")]
    Node(#[from] NodeError),
    /// The scheduling policy is invalid.
    #[error("[V-CR-003] policy: {0}")]
    Policy(#[from] PolicyError),
}

/// The scheduler's id of an operator.
pub fn operator_id(a: Address) -> OperatorId {
    OperatorId(a.into_array())
}

/// The operator an id names.
pub fn operator_address(id: OperatorId) -> Address {
    Address::from(id.0)
}

/// Everything known about one node at `now`, joined.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The on-chain record.
    pub node: &'a NodeRecord,
    /// Its latest accepted heartbeat, if any.
    pub heartbeat: Option<&'a HeartbeatRecord>,
    /// Its liveness.
    pub liveness: Liveness,
    /// Its reputation in `[0, 1]`, from its indexed on-chain outcomes.
    pub reputation: f64,
    /// Its latency as the coordinator measured it (nonce round trips), if it has been.
    pub measured_latency_ms: Option<u32>,
    /// Its hardware class as attested or benchmarked, if checked and still valid.
    pub checked_hardware: Option<CheckedHardware>,
    /// Seats the node holds on chain that it already knew of when it sent the heartbeat
    /// (assigned at or before the send time, not yet delivered): its reported free slots
    /// exclude them, so capacity = free slots + these.
    pub known_seats: u32,
    /// The most free slots the node has reported since this coordinator started: its total
    /// when it was idle, and never less than its total minus its work. Capacity never
    /// exceeds it, so a node that keeps reporting its total as free (not subtracting its
    /// running tasks) is not given more than that total.
    pub most_free_slots: u32,
    /// Unix seconds.
    pub now: u64,
}

/// The scheduler's view of a node, or `None` if it cannot be scheduled at all (never sent a
/// heartbeat, or the heartbeat's telemetry cannot be read). Chain facts win over claims: the
/// registered region and capabilities are used, the heartbeat supplies what only the node
/// knows. Stake is the free stake (stake minus locked collateral), since that is what an
/// assignment can still lock. Jailed, deregistered and down nodes are present but not live.
///
/// Checked figures replace claims: a checked hardware class is used instead of the heartbeat's
/// (and marked with how it was checked); latency is the measured one, or `u32::MAX` marked
/// `Claimed` (unmeasured) when there is none: the heartbeat's timestamp is never used.
pub fn node_view(i: Inputs<'_>) -> Option<NodeView> {
    let hb = i.heartbeat?;
    let signed: SignedHeartbeat = match serde_json::from_value(hb.telemetry.clone()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(target: "coordinator::registry", operator = %i.node.operator, error = %e, "unreadable heartbeat telemetry");
            return None;
        }
    };
    let t = &signed.heartbeat;
    let region = if i.node.region != 0 {
        i.node.region
    } else {
        t.region
    };
    let free = i.node.stake.saturating_sub(i.node.locked);
    let live = i.node.registered && i.node.jailed_until <= i.now && i.liveness.is_available();
    let (cpu_cores, memory_mib, gpu_memory_mib, hardware) = match i.checked_hardware {
        Some(c) => (
            c.class.cpu_cores,
            c.class.memory_mib,
            c.class.gpu_memory_mib,
            Provenance::Verified(c.how),
        ),
        None => (t.cpuCores, t.memoryMb, t.gpuMemoryMb, Provenance::Claimed),
    };
    let (latency_ms, latency) = match i.measured_latency_ms {
        Some(ms) => (ms, Provenance::Verified(Verified::Measured)),
        None => (u32::MAX, Provenance::Claimed),
    };
    Some(NodeView {
        cpu_cores,
        memory_mib,
        gpu_memory_mib,
        region: Region(u16::try_from(region).unwrap_or(u16::MAX).min(Region::MAX)),
        capabilities: i.node.capabilities,
        stake: saturating_u128(free),
        reputation_permille: (i.reputation.clamp(0.0, 1.0) * 1000.0).round() as u16,
        capacity: t
            .freeSlots
            .saturating_add(i.known_seats)
            .min(i.most_free_slots.max(t.freeSlots)),
        latency_ms,
        green_energy_pct: t.greenEnergyPct.min(100),
        price_per_megafuel: saturating_u128(t.pricePerMegafuel),
        live,
        provenance: Checks {
            hardware,
            reputation: Provenance::Verified(Verified::OnChain),
            latency,
            green_energy: Provenance::Claimed,
            price: Provenance::Claimed,
        },
    })
}

/// The free slots a heartbeat reports, if its telemetry can be read.
fn free_slots(hb: &HeartbeatRecord) -> Option<u32> {
    serde_json::from_value::<SignedHeartbeat>(hb.telemetry.clone())
        .ok()
        .map(|s| s.heartbeat.freeSlots)
}

fn saturating_u128(v: U256) -> u128 {
    u128::try_from(v).unwrap_or(u128::MAX)
}

/// The scheduler and the node views it was last given.
#[derive(Debug)]
pub struct RegistryView {
    scheduler: Scheduler,
    views: HashMap<Address, NodeView>,
    /// Most free slots each node has reported (see [`Inputs::most_free_slots`]).
    most_free: HashMap<Address, u32>,
    liveness: LivenessPolicy,
    reputation: ReputationPolicy,
    /// Latency measured from heartbeat echoes (shared with the heartbeat intake).
    probes: Arc<LatencyProbes>,
    /// Hardware classes checked by attestation or benchmark.
    hardware: Arc<HardwareChecks>,
}

/// What a refresh changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refreshed {
    /// Nodes that joined the index.
    pub joined: usize,
    /// Nodes whose view changed.
    pub updated: usize,
    /// Nodes that left (no longer schedulable).
    pub left: usize,
}

impl RegistryView {
    /// An empty view scheduling by `policy`.
    pub fn new(
        policy: Policy,
        liveness: LivenessPolicy,
        reputation: ReputationPolicy,
    ) -> Result<Self, ViewError> {
        Ok(Self {
            scheduler: Scheduler::new(policy)?,
            views: HashMap::new(),
            most_free: HashMap::new(),
            liveness,
            reputation,
            probes: Arc::new(LatencyProbes::default()),
            hardware: Arc::new(HardwareChecks::default()),
        })
    }

    /// Reads measured latency from `probes` (the ones the heartbeat intake issues nonces
    /// from) and checked hardware from `hardware`. Without this, no latency is measured and no
    /// hardware checked, so every node's latency and hardware count as the floor.
    pub fn with_checks(
        mut self,
        probes: Arc<LatencyProbes>,
        hardware: Arc<HardwareChecks>,
    ) -> Self {
        self.probes = probes;
        self.hardware = hardware;
        self
    }

    /// The scheduler (to allocate and release).
    pub fn scheduler(&mut self) -> &mut Scheduler {
        &mut self.scheduler
    }

    /// The scheduler, read-only (loads, scores).
    pub fn scheduler_state(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The view last given for `op`.
    pub fn view(&self, op: Address) -> Option<&NodeView> {
        self.views.get(&op)
    }

    /// The liveness of `op` at `now` from its heartbeat in the store.
    pub async fn liveness_of(
        &self,
        store: &dyn Store,
        op: Address,
        now: u64,
    ) -> Result<Liveness, StoreError> {
        let hb = store.heartbeat(op).await?;
        Ok(liveness(hb.map(|h| h.received_at), now, self.liveness))
    }

    /// Reads every node, heartbeat, open seat and recent outcome and passes what changed to
    /// the scheduler.
    pub async fn refresh(&mut self, store: &dyn Store, now: u64) -> Result<Refreshed, ViewError> {
        let heartbeats: HashMap<Address, HeartbeatRecord> = store
            .heartbeats()
            .await?
            .into_iter()
            .map(|h| (h.operator, h))
            .collect();
        // Seats in progress per operator: (all, those assigned by the heartbeat's send time).
        let mut seats: HashMap<Address, (u32, u32)> = HashMap::new();
        for seat in store.open_seats().await? {
            if seat.status != AssignmentStatus::Active {
                continue;
            }
            let e = seats.entry(seat.operator).or_default();
            e.0 += 1;
            if heartbeats
                .get(&seat.operator)
                .is_some_and(|h| seat.assigned_at <= h.sent_at)
            {
                e.1 += 1;
            }
        }
        // Outcomes older than 16 half-lives weigh under 2^-16: not worth reading.
        let since = now.saturating_sub(self.reputation.half_life_secs.saturating_mul(16));
        let mut seen = Vec::new();
        let mut r = Refreshed::default();
        let mut after = None;
        loop {
            let page = store
                .nodes(Page {
                    after,
                    limit: crate::store::MAX_PAGE,
                })
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.operator);
            for node in &page {
                let outcomes: Vec<Outcome> = store
                    .outcomes(node.operator, since)
                    .await?
                    .iter()
                    .map(Outcome::from)
                    .collect();
                let hb = heartbeats.get(&node.operator);
                let id = operator_id(node.operator);
                let (held, known_seats) = seats.get(&node.operator).copied().unwrap_or_default();
                let most_free_slots = match hb.map(free_slots) {
                    Some(Some(free)) => {
                        let most = self.most_free.entry(node.operator).or_default();
                        *most = (*most).max(free);
                        *most
                    }
                    _ => 0,
                };
                let view = node_view(Inputs {
                    node,
                    heartbeat: hb,
                    liveness: liveness(hb.map(|h| h.received_at), now, self.liveness),
                    reputation: score(&outcomes, now, &self.reputation),
                    measured_latency_ms: self.probes.latency_ms(node.operator),
                    checked_hardware: self.hardware.current(node.operator, now),
                    known_seats,
                    most_free_slots,
                    now,
                });
                let Some(view) = view else { continue };
                seen.push(node.operator);
                match self.views.get(&node.operator) {
                    Some(old) if *old == view => {}
                    Some(_) => {
                        self.scheduler.update(id, view.clone())?;
                        r.updated += 1;
                    }
                    None => {
                        self.scheduler.join(id, view.clone())?;
                        r.joined += 1;
                    }
                }
                self.views.insert(node.operator, view);
                if self.scheduler.set_held(id, held)? {
                    r.updated += 1;
                }
            }
        }
        let gone: Vec<Address> = self
            .views
            .keys()
            .filter(|a| !seen.contains(a))
            .copied()
            .collect();
        for a in gone {
            self.views.remove(&a);
            self.scheduler.leave(operator_id(a))?;
            r.left += 1;
        }
        if r != Refreshed::default() {
            tracing::debug!(target: "coordinator::registry", joined = r.joined, updated = r.updated, left = r.left, "registry view refreshed");
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::{primitives::B256, signers::local::PrivateKeySigner};
    use verity_primitives::heartbeat::{Heartbeat, domain};

    fn node(stake: u64, locked: u64) -> NodeRecord {
        NodeRecord {
            operator: Address::repeat_byte(1),
            signer: Address::repeat_byte(2),
            hardware_hash: B256::ZERO,
            metadata_cid: String::new(),
            region: 276,
            capabilities: 0b101,
            stake: U256::from(stake),
            locked: U256::from(locked),
            jailed_until: 0,
            tasks_completed: 0,
            tasks_failed: 0,
            times_slashed: 0,
            registered: true,
            earnings: U256::ZERO,
        }
    }

    fn heartbeat(free_slots: u32) -> HeartbeatRecord {
        let key = PrivateKeySigner::random();
        let hb = Heartbeat {
            operator: Address::repeat_byte(1),
            seq: 1,
            timestamp: 1_000,
            cpuCores: 8,
            memoryMb: 16_384,
            gpuMemoryMb: 0,
            loadPermille: 0,
            freeSlots: free_slots,
            pricePerMegafuel: U256::from(7u64),
            region: 250,
            greenEnergyPct: 60,
            capabilities: 0b1,
        };
        let signed = hb.sign(&key, &domain(1, Address::ZERO)).unwrap();
        HeartbeatRecord {
            operator: Address::repeat_byte(1),
            seq: 1,
            sent_at: 1_000,
            received_at: 1_001,
            telemetry: serde_json::to_value(signed).unwrap(),
        }
    }

    #[test]
    fn chain_facts_win_over_claims_and_free_stake_is_what_counts() {
        let n = node(1_000, 300);
        let hb = heartbeat(3);
        let v = node_view(Inputs {
            node: &n,
            heartbeat: Some(&hb),
            liveness: Liveness::Live,
            reputation: 0.75,
            measured_latency_ms: Some(35),
            checked_hardware: None,
            known_seats: 2,
            most_free_slots: 5,
            now: 1_001,
        })
        .unwrap();
        assert_eq!(
            v.region,
            Region(276),
            "registered region, not the claimed 250"
        );
        assert_eq!(v.capabilities, 0b101, "registered capabilities");
        assert_eq!(v.stake, 700);
        assert_eq!(v.capacity, 5, "free slots plus the seats it knew of");
        assert_eq!(v.reputation_permille, 750);
        assert_eq!(v.latency_ms, 35, "measured, not the node's timestamps");
        assert_eq!(
            v.provenance,
            Checks {
                hardware: Provenance::Claimed,
                reputation: Provenance::Verified(Verified::OnChain),
                latency: Provenance::Verified(Verified::Measured),
                green_energy: Provenance::Claimed,
                price: Provenance::Claimed,
            }
        );
        assert_eq!(
            (v.cpu_cores, v.memory_mib, v.green_energy_pct),
            (8, 16_384, 60)
        );
        assert_eq!(v.price_per_megafuel, 7);
        assert!(v.live);
    }

    #[test]
    fn checked_hardware_replaces_the_claim_and_unmeasured_latency_is_the_floor() {
        use crate::hardware::{CheckedHardware, HardwareClass};
        let n = node(1_000, 0);
        let hb = heartbeat(1);
        let class = HardwareClass {
            cpu_cores: 4,
            memory_mib: 8_192,
            gpu_memory_mib: 0,
        };
        let v = node_view(Inputs {
            node: &n,
            heartbeat: Some(&hb),
            liveness: Liveness::Live,
            reputation: 0.5,
            measured_latency_ms: None,
            checked_hardware: Some(CheckedHardware {
                class,
                how: Verified::Benchmarked,
                valid_until: 2_000,
            }),
            known_seats: 0,
            most_free_slots: 1,
            now: 1_001,
        })
        .unwrap();
        assert_eq!((v.cpu_cores, v.memory_mib, v.gpu_memory_mib), (4, 8_192, 0));
        assert_eq!(
            v.provenance.hardware,
            Provenance::Verified(Verified::Benchmarked)
        );
        // The heartbeat was sent at 1_000 and received at 1_001, but that is not a
        // measurement: unmeasured latency is the floor.
        assert_eq!(v.latency_ms, u32::MAX);
        assert_eq!(v.provenance.latency, Provenance::Claimed);
    }

    #[test]
    fn capacity_never_exceeds_the_most_free_slots_ever_reported() {
        let n = node(1_000, 0);
        let view = |free, known_seats, most_free_slots| {
            node_view(Inputs {
                node: &n,
                heartbeat: Some(&heartbeat(free)),
                liveness: Liveness::Live,
                reputation: 0.5,
                measured_latency_ms: None,
                checked_hardware: None,
                known_seats,
                most_free_slots,
                now: 1_001,
            })
            .unwrap()
            .capacity
        };
        // An honest node with 4 slots, 3 busy: 1 free + 3 known = 4 (it reported 4 when idle).
        assert_eq!(view(1, 3, 4), 4);
        // A node that always reports its total (2) as free, holding 2 seats: still 2, not 4.
        assert_eq!(view(2, 2, 2), 2);
        // More free slots now than ever before: the report wins.
        assert_eq!(view(6, 0, 4), 6);
    }

    #[test]
    fn down_jailed_or_silent_nodes_are_not_live_or_not_there() {
        let hb = heartbeat(1);
        let mut n = node(10, 0);
        let inputs = |n: &NodeRecord, l| {
            node_view(Inputs {
                node: n,
                heartbeat: Some(&hb),
                liveness: l,
                reputation: 0.5,
                measured_latency_ms: None,
                checked_hardware: None,
                known_seats: 0,
                most_free_slots: 0,
                now: 5_000,
            })
        };
        assert!(!inputs(&n, Liveness::Down { missed: 9 }).unwrap().live);
        assert!(inputs(&n, Liveness::Late { missed: 1 }).unwrap().live);
        n.jailed_until = 5_001;
        assert!(!inputs(&n, Liveness::Live).unwrap().live);
        n.jailed_until = 0;
        n.registered = false;
        assert!(!inputs(&n, Liveness::Live).unwrap().live);
        assert!(
            node_view(Inputs {
                node: &n,
                heartbeat: None,
                liveness: Liveness::Unknown,
                reputation: 0.5,
                measured_latency_ms: None,
                checked_hardware: None,
                known_seats: 0,
                most_free_slots: 0,
                now: 0
            })
            .is_none()
        );
    }
}
