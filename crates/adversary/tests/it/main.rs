//! The reduced grid (bounty 10, cost share 0.5, the SDK's default collateral) per strategy, on
//! a fresh devchain each, asserting measured facts: every payoff below comes from the chain.

use verity_adversary::{Arena, Grid, Outcome, Report, Strategy, TOKEN, run_on};

async fn play(s: Strategy) -> Report {
    let arena = Arena::new().await.expect("arena");
    let grid = Grid {
        strategies: vec![s],
        ..Grid::reduced()
    };
    run_on(&arena, &grid).await.expect("run")
}

fn only(r: &Report) -> &Outcome {
    assert_eq!(r.outcomes.len(), 1);
    &r.outcomes[0].1
}

fn fact(o: &Outcome, name: &str) -> i128 {
    o.fact(name)
        .unwrap_or_else(|| panic!("{} has no fact {name}", o.strategy))
}

/// The rows are exactly one per cost share, with the bounty.
fn one_row(r: &Report) {
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0].bounty, 10.0);
    assert_eq!(r.rows[0].cost_share, 0.5);
}

#[tokio::test]
async fn naive_cheater_loses_exactly_the_collateral_when_caught() {
    let r = play(Strategy::NaiveCheater).await;
    one_row(&r);
    let o = only(&r);
    let c = fact(o, "collateral");
    assert_eq!(c, 5 * TOKEN as i128, "the SDK's default collateral");
    assert_eq!(fact(o, "caught"), -c);
    // Unchallenged, the wrong result is paid exactly what honest work is paid.
    assert_eq!(fact(o, "unchallenged"), fact(o, "reward"));
    assert!(fact(o, "reward") > 0);
    assert!(!r.rows[0].honest_slashed);
    assert_eq!(r.rows[0].detection_rate, 0.1);
}

#[tokio::test]
async fn audited_cheater_at_the_collateral_floor_never_beats_honest_work() {
    let r = play(Strategy::AuditedCheater).await;
    one_row(&r);
    let o = only(&r);
    // Bounty 10 at the SDK's 20 %: the floor is 10·0.8/0.2 + 10 % of 10 = 41 tokens.
    let floor = fact(o, "floor");
    assert_eq!(floor, 41 * TOKEN as i128);
    assert_eq!(
        fact(o, "caught"),
        -floor,
        "the audit slashes the whole floor"
    );
    // Audited honest work is paid its reward less the auditors' tenth of the bounty.
    assert_eq!(fact(o, "reward") - fact(o, "audited_pay"), TOKEN as i128);
    assert!(!r.rows[0].honest_slashed);
    // Caught if audited (0.2) or sampled (0.1): 1 − 0.8·0.9.
    assert!((r.rows[0].detection_rate - 0.28).abs() < 1e-9);
    assert!(
        !r.rows[0].pays(),
        "the cheat must earn less than honest work: {:?}",
        r.rows[0]
    );
}

#[tokio::test]
async fn owner_front_running_fees_is_refused_and_earns_nothing() {
    let r = play(Strategy::OwnerFrontRunning).await;
    one_row(&r);
    let o = only(&r);
    assert_eq!(
        fact(o, "front_run"),
        0,
        "nothing accrues to the owner's side"
    );
    assert_eq!(fact(o, "escrow_unchanged"), 1);
    // As announced, one task's fees (1.5 % of the 10-token bounty) accrue.
    assert_eq!(fact(o, "honest_fees"), fact(o, "bounty") * 150 / 10_000);
    assert!(!r.rows[0].pays());
}

/// The committee the arena's disputes get: `DeployConfig::devnet` asks for 7, and the arena
/// has 6 eligible honest operators besides the parties.
const COMMITTEE: i128 = 6;
/// The committee size every bond is computed from (`DeployConfig::devnet`).
const COMMITTEE_SIZE: i128 = 7;

#[tokio::test]
async fn seed_aware_cheater_is_caught_at_the_secret_seeds_rate() {
    let r = play(Strategy::SeedAwareCheater).await;
    let o = only(&r);
    assert!(fact(o, "cheated") >= 1);
    // The watchtower's seed is secret: of the ids the old public seed leaves unwatched, it
    // samples about p = 0.1 (measured over 100 000 ids with a fresh random seed).
    let q = r.rows[0].detection_rate;
    assert!((0.08..0.12).contains(&q), "detection {q}");
    assert_eq!(fact(o, "caught_payoff"), -5 * TOKEN as i128);
    // Unwatched, doing the work pays what cheating pays: the task's reward.
    assert_eq!(fact(o, "watched"), fact(o, "unwatched"));
    assert!(
        r.rows[0].pays(),
        "at cost share 0.5 the naive cheat still pays"
    );
}

#[tokio::test]
async fn self_challenger_pair_loses_four_fifths_of_the_collateral() {
    let r = play(Strategy::SelfChallenger).await;
    let o = only(&r);
    let c = fact(o, "collateral");
    assert_eq!(fact(o, "caught_pair"), -(c * 4 / 5));
    assert_eq!(fact(o, "committee"), COMMITTEE);
    assert!(!r.rows[0].honest_slashed);
}

#[tokio::test]
async fn committee_capture_draws_no_identity_staked_after_the_challenge() {
    let r = play(Strategy::CommitteeCapture).await;
    let o = only(&r);
    assert_eq!(fact(o, "fresh_drawn"), 0);
    assert_eq!(fact(o, "committee"), COMMITTEE);
    // The fresh identities' stakes are still theirs: the team lost the collateral only.
    assert_eq!(fact(o, "caught"), -fact(o, "collateral"));
}

#[tokio::test]
async fn junk_registrations_cost_nothing_and_the_committee_still_fills() {
    let r = play(Strategy::JunkRegistrations).await;
    let o = only(&r);
    assert_eq!(fact(o, "registration_cost"), 0);
    assert_eq!(fact(o, "committee"), COMMITTEE);
    assert!(fact(o, "registered") >= 10 + fact(o, "eligible"));
    assert_eq!(fact(o, "caught"), -fact(o, "collateral"));
}

#[tokio::test]
async fn frivolous_challenger_loses_its_bond_to_the_honest_operator() {
    let r = play(Strategy::FrivolousChallenger).await;
    let o = only(&r);
    let c = fact(o, "collateral");
    assert_eq!(fact(o, "challenger"), -c);
    // The operator gets the bond less the committee's tenth.
    assert_eq!(fact(o, "operator"), fact(o, "reward") + c - c / 10);
    assert_eq!(fact(o, "confirmed"), 1);
    assert!(!r.rows[0].pays());
    assert!(!r.rows[0].honest_slashed);
}

#[tokio::test]
async fn coordinator_griefing_is_refused_and_nobody_is_slashed() {
    let r = play(Strategy::CoordinatorGriefing).await;
    let o = only(&r);
    assert_eq!(fact(o, "refused_creation"), 0);
    assert_eq!(fact(o, "honest_slashes"), 0);
    assert_eq!(fact(o, "operator"), fact(o, "reward"));
    assert_eq!(fact(o, "coordinator"), fact(o, "coordinator_fee"));
    assert!(!r.rows[0].honest_slashed);
}

#[tokio::test]
async fn idle_committee_member_loses_half_its_bond_and_a_voter_is_paid() {
    let r = play(Strategy::IdleCommitteeMember).await;
    let o = only(&r);
    let c = 5 * TOKEN as i128;
    let bond = c / COMMITTEE_SIZE;
    let penalty = bond / 2;
    assert_eq!(fact(o, "idle"), -penalty);
    // The five voters split the committee's tenth of the slash and the idle member's penalty.
    assert_eq!(fact(o, "voting"), (c / 10 + penalty) / (COMMITTEE - 1));
    // With every member idle there is no verdict: the arbiter is silent, nobody is paid.
    assert_eq!(fact(o, "cheater_all_idle"), 0);
    assert!(
        r.rows[0].pays(),
        "at a 5-token collateral the re-execution (half of R = 9.85) costs more than pay + penalty"
    );
}

#[tokio::test]
async fn sybil_pair_seated_by_a_colluding_coordinator_is_paid_and_the_honest_third_slashed() {
    let r = play(Strategy::SybilSeats).await;
    assert_eq!(r.outcomes.len(), 4);
    let o = &r.outcomes[0].1;
    assert_eq!(o.strategy, "sybil_seats_colluding_coordinator");
    let seat = fact(o, "seat");
    // The pair splits the whole reward (two halves instead of two thirds).
    assert!(fact(o, "forged_two") > 2 * seat);
    assert_eq!(fact(o, "victim"), -fact(o, "collateral"));
    assert_eq!(fact(o, "victim_slashes"), 1);
    assert!(r.rows[0].honest_slashed && r.rows[0].pays());
    // Uniform seats: the probability of 2 or more of 3 grows with the stake share.
    for row in &r.rows[1..] {
        assert!(row.honest_slashed);
        assert_eq!(row.detection_rate, 0.0);
    }
}
