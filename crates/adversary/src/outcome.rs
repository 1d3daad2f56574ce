//! From measured branches to expected values: each branch of a strategy is played once on chain
//! per bounty and its payoff read from balances; its probability is stated, not measured. The
//! work a branch does is priced at `cost_share × unit`, where `unit` is the honest reward of one
//! piece of work measured in the same run.

use serde::Serialize;

use crate::arena::as_tokens;

/// One way a strategy's task can go.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// What happens in it.
    pub name: &'static str,
    /// Its stated probability.
    pub prob: f64,
    /// The change of everything the strategy's addresses own, in wei, measured on chain
    /// (zero for a branch that sends nothing, such as not challenging).
    pub payoff: i128,
    /// Units of work done in it (0: none), each costing `cost_share × unit`.
    pub work: f64,
}

/// What one strategy measured for one bounty.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Strategy name (with the row set's label).
    pub strategy: String,
    /// The honest reward of one unit of work, in wei, measured (an optimistic task's reward,
    /// or one replicated seat's).
    pub unit: i128,
    /// The honest behaviour of the same actor: its measured payoff and work.
    pub honest: Branch,
    /// The strategy's branches (probabilities sum to 1).
    pub branches: Vec<Branch>,
    /// Whether an honest operator was slashed in a branch with nonzero probability, measured
    /// from the registry's slash counters.
    pub honest_slashed: bool,
    /// The probability that the deviation is caught and penalised.
    pub detection_rate: f64,
    /// What was measured, in a few words.
    pub note: String,
    /// Named measured quantities (wei, counts) that tests and readers can check.
    pub facts: Vec<(&'static str, i128)>,
}

/// One (strategy, bounty, cost share) row: the fields `--json` prints, exactly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Strategy name.
    pub strategy: String,
    /// Bounty, tokens.
    pub bounty: f64,
    /// The operator's cost of doing the work as a share of its reward.
    pub cost_share: f64,
    /// Expected value per task of behaving honestly, tokens.
    pub ev_honest: f64,
    /// Expected value per task of the strategy, tokens.
    pub ev_strategy: f64,
    /// Whether an honest operator is slashed with nonzero probability.
    pub honest_slashed: bool,
    /// Probability the deviation is caught and penalised.
    pub detection_rate: f64,
    /// What was measured.
    pub note: String,
}

impl Row {
    /// Whether the strategy earns more than honest behaviour (by more than rounding: a
    /// thousandth of a wei-exact token amount is far below any payoff measured here).
    pub fn pays(&self) -> bool {
        self.ev_strategy > self.ev_honest + 1e-9
    }
}

impl Outcome {
    fn ev(&self, b: &Branch, cost_share: f64) -> f64 {
        let ev = as_tokens(b.payoff) - cost_share * b.work * as_tokens(self.unit);
        // A relative 1e-12 of the amounts involved is float noise (a fractional-seat payoff
        // rounded to wei), not a result.
        let scale = as_tokens(b.payoff).abs().max(as_tokens(self.unit).abs());
        if ev.abs() <= scale * 1e-12 { 0.0 } else { ev }
    }

    /// The row for `cost_share`.
    pub fn row(&self, bounty: f64, cost_share: f64) -> Row {
        Row {
            strategy: self.strategy.clone(),
            bounty,
            cost_share,
            ev_honest: self.ev(&self.honest, cost_share),
            ev_strategy: self
                .branches
                .iter()
                .map(|b| b.prob * self.ev(b, cost_share))
                .sum(),
            honest_slashed: self.honest_slashed,
            detection_rate: self.detection_rate,
            note: self.note.clone(),
        }
    }

    /// The measured quantity named `name`, if recorded.
    pub fn fact(&self, name: &str) -> Option<i128> {
        self.facts.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The payoff of the branch named `name` (for tests), if there is one.
    pub fn branch(&self, name: &str) -> Option<&Branch> {
        self.branches.iter().find(|b| b.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::TOKEN;

    fn outcome(branches: Vec<Branch>) -> Outcome {
        Outcome {
            strategy: "t".into(),
            unit: 10 * TOKEN as i128,
            honest: Branch {
                name: "honest",
                prob: 1.0,
                payoff: 10 * TOKEN as i128,
                work: 1.0,
            },
            branches,
            honest_slashed: false,
            detection_rate: 0.1,
            note: String::new(),
            facts: Vec::new(),
        }
    }

    #[test]
    fn expected_value_weights_branches_and_prices_work() {
        let o = outcome(vec![
            Branch {
                name: "paid",
                prob: 0.9,
                payoff: 10 * TOKEN as i128,
                work: 0.0,
            },
            Branch {
                name: "slashed",
                prob: 0.1,
                payoff: -5 * TOKEN as i128,
                work: 0.0,
            },
        ]);
        let r = o.row(10.0, 0.5);
        assert!((r.ev_honest - 5.0).abs() < 1e-12);
        assert!((r.ev_strategy - 8.5).abs() < 1e-12);
        assert!(r.pays());
        let r = o.row(10.0, 0.1);
        assert!((r.ev_honest - 9.0).abs() < 1e-12);
        assert!(!r.pays(), "8.5 < 9");
    }

    #[test]
    fn a_tie_does_not_pay() {
        let o = outcome(vec![Branch {
            name: "same as honest",
            prob: 1.0,
            payoff: 10 * TOKEN as i128,
            work: 1.0,
        }]);
        assert!(!o.row(10.0, 1.0).pays());
        assert_eq!(o.row(10.0, 1.0).ev_honest, 0.0);
    }
}
