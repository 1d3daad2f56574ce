#![doc = include_str!("../README.md")]

mod arena;
mod error;
mod outcome;
mod report;
mod strategy;

use alloy::primitives::U256;
use tracing::info;

pub use arena::{Arena, TOKEN, as_tokens, tokens};
pub use error::{Error, Result};
pub use outcome::{Branch, Outcome, Row};
pub use report::Report;

use strategy::{Baseline, Ctx};

/// The strategies of issue 15 that the contracts on main can be driven with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Posts a wrong optimistic result; caught at the watchtower's sample rate.
    NaiveCheater,
    /// The naive cheater on the terms real deployments enforce: audits drawn at the SDK's
    /// default rate and the collateral floor.
    AuditedCheater,
    /// Cheats only on tasks the default watchtower seed does not sample.
    SeedAwareCheater,
    /// Cheats, and challenges itself from a second address when it would be caught.
    SelfChallenger,
    /// Cheats, and registers staked identities after the challenge to capture the committee.
    CommitteeCapture,
    /// Cheats, with many unstaked registrations to starve the committee draw.
    JunkRegistrations,
    /// Challenges an honest result.
    FrivolousChallenger,
    /// A coordinator squeezing an operator's response window.
    CoordinatorGriefing,
    /// A committee member that does not vote.
    IdleCommitteeMember,
    /// The owner raising fees just before a client's `createTask` lands.
    OwnerFrontRunning,
    /// Sybil identities holding replicated seats (colluding coordinator, or stake shares of
    /// 20, 30 and 50 % under a uniform draw).
    SybilSeats,
}

impl Strategy {
    /// Every strategy, in the order they are played (the Sybil identities stake last).
    pub const ALL: [Strategy; 11] = [
        Strategy::NaiveCheater,
        Strategy::AuditedCheater,
        Strategy::SeedAwareCheater,
        Strategy::SelfChallenger,
        Strategy::CommitteeCapture,
        Strategy::JunkRegistrations,
        Strategy::FrivolousChallenger,
        Strategy::CoordinatorGriefing,
        Strategy::IdleCommitteeMember,
        Strategy::OwnerFrontRunning,
        Strategy::SybilSeats,
    ];

    async fn measure(self, c: &Ctx<'_>) -> Result<Vec<Outcome>> {
        use strategy::*;
        Ok(match self {
            Strategy::NaiveCheater => vec![naive::measure(c).await?],
            Strategy::AuditedCheater => vec![audited::measure(c).await?],
            Strategy::SeedAwareCheater => vec![seed_aware::measure(c).await?],
            Strategy::SelfChallenger => vec![self_challenge::measure(c).await?],
            Strategy::CommitteeCapture => vec![capture::measure(c).await?],
            Strategy::JunkRegistrations => vec![junk::measure(c).await?],
            Strategy::FrivolousChallenger => vec![frivolous::measure(c).await?],
            Strategy::CoordinatorGriefing => vec![griefing::measure(c).await?],
            Strategy::IdleCommitteeMember => vec![idle::measure(c).await?],
            Strategy::OwnerFrontRunning => vec![front_run::measure(c).await?],
            Strategy::SybilSeats => sybil::measure(c).await?,
        })
    }

    /// The row names this strategy produces.
    pub fn names(self) -> Vec<String> {
        use strategy::*;
        match self {
            Strategy::NaiveCheater => vec![naive::NAME.into()],
            Strategy::AuditedCheater => vec![audited::NAME.into()],
            Strategy::SeedAwareCheater => vec![seed_aware::NAME.into()],
            Strategy::SelfChallenger => vec![self_challenge::NAME.into()],
            Strategy::CommitteeCapture => vec![capture::NAME.into()],
            Strategy::JunkRegistrations => vec![junk::NAME.into()],
            Strategy::FrivolousChallenger => vec![frivolous::NAME.into()],
            Strategy::CoordinatorGriefing => vec![griefing::NAME.into()],
            Strategy::IdleCommitteeMember => vec![idle::NAME.into()],
            Strategy::OwnerFrontRunning => vec![front_run::NAME.into()],
            Strategy::SybilSeats => {
                let mut v = vec![sybil::COLLUDING.to_owned()];
                v.extend(sybil::SHARES.iter().map(|f| sybil::name(*f)));
                v
            }
        }
    }

    /// Where the strategy still pays, at sample rate `p`.
    pub fn threshold(self, p: f64) -> String {
        use strategy::*;
        match self {
            Strategy::NaiveCheater => naive::threshold(p),
            Strategy::AuditedCheater => audited::threshold(p),
            Strategy::SeedAwareCheater => seed_aware::threshold(p),
            Strategy::SelfChallenger => self_challenge::threshold(p),
            Strategy::CommitteeCapture => capture::threshold(p),
            Strategy::JunkRegistrations => junk::threshold(p),
            Strategy::FrivolousChallenger => frivolous::threshold(p),
            Strategy::CoordinatorGriefing => griefing::threshold(p),
            Strategy::IdleCommitteeMember => idle::threshold(p),
            Strategy::OwnerFrontRunning => front_run::threshold(p),
            Strategy::SybilSeats => sybil::threshold(p),
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Grid {
    /// Bounties in thousandths of a token (exact in wei).
    pub bounties_milli: Vec<u64>,
    /// Work cost as a share of the reward.
    pub cost_shares: Vec<f64>,
    /// Strategies to play.
    pub strategies: Vec<Strategy>,
    /// Collateral per task, wei: the SDK's default (`TaskSpec`'s, 5 tokens).
    pub collateral: U256,
    /// Also play the naive cheater and the self-challenger with collateral equal to the bounty
    /// (rows labelled `@collateral=bounty`).
    pub scaled_collateral: bool,
    /// The watchtower's sample rate: `[watchtower] sample_rate`'s default.
    pub sample_rate: f64,
}

impl Default for Grid {
    /// Issue 15's grid: bounties 0.1 to 10 000 tokens, cost shares 0.1, 0.5 and 1, every
    /// strategy, the SDK's default collateral and the watchtower's default sample rate.
    fn default() -> Self {
        Self {
            bounties_milli: vec![100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000],
            cost_shares: vec![0.1, 0.5, 1.0],
            strategies: Strategy::ALL.to_vec(),
            // The first wave's fixed 5 tokens: the arena's tasks are not audited by draw (its
            // market allows an audit rate of 0), so the grid measures the watchtower and the
            // court alone.
            collateral: alloy::primitives::U256::from(5u64)
                * alloy::primitives::U256::from(10u64).pow(alloy::primitives::U256::from(18u64)),
            scaled_collateral: true,
            sample_rate: verity_node::config::WatchtowerConfig::default().sample_rate,
        }
    }
}

impl Grid {
    /// One bounty (10 tokens, the default) and one cost share (0.5), every strategy.
    pub fn reduced() -> Self {
        Self {
            bounties_milli: vec![10_000],
            cost_shares: vec![0.5],
            scaled_collateral: false,
            ..Self::default()
        }
    }
}

/// Plays `grid` on a fresh devchain and deployment.
pub async fn run(grid: &Grid) -> Result<Report> {
    let arena = Arena::new().await?;
    run_on(&arena, grid).await
}

/// Plays `grid` on `arena`. Bounties are independent tasks, so one chain serves the grid:
/// every strategy's attacker identities are recovered (jail waited out, stake topped up) or
/// leave the eligible set outside the measured windows, so no row's committee or balances
/// carry another row's state.
pub async fn run_on(arena: &Arena, grid: &Grid) -> Result<Report> {
    let mut outcomes = Vec::new();
    for &milli in &grid.bounties_milli {
        let bounty = U256::from(milli) * U256::from(TOKEN / 1000);
        let bounty_tokens = milli as f64 / 1000.0;
        let mut sets = vec![(grid.collateral, "")];
        if grid.scaled_collateral {
            sets.push((bounty, "@collateral=bounty"));
        }
        for (collateral, label) in sets {
            let base = Baseline::measure(arena, bounty, collateral).await?;
            let c = Ctx {
                arena,
                bounty,
                collateral,
                p: grid.sample_rate,
                base: &base,
            };
            for s in &grid.strategies {
                if !label.is_empty()
                    && !matches!(s, Strategy::NaiveCheater | Strategy::SelfChallenger)
                {
                    continue;
                }
                info!(target: "adversary", strategy = ?s, bounty = bounty_tokens, label, "playing");
                for mut o in s.measure(&c).await? {
                    o.strategy.push_str(label);
                    outcomes.push((bounty_tokens, o));
                }
            }
        }
    }
    Ok(Report::new(grid, outcomes))
}
