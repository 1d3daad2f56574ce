//! The rows of a run, their readable table, and the verdict per strategy.

use std::fmt::Write as _;

use crate::{Grid, Outcome, Row, Strategy};

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// What each strategy measured per bounty (tokens).
    pub outcomes: Vec<(f64, Outcome)>,
    /// One row per (strategy, bounty, cost share), grouped by strategy.
    pub rows: Vec<Row>,
    /// The sample rate the branches were weighted with.
    pub sample_rate: f64,
    strategies: Vec<Strategy>,
}

impl Report {
    pub(crate) fn new(grid: &Grid, outcomes: Vec<(f64, Outcome)>) -> Self {
        let mut order: Vec<String> = Vec::new();
        for (_, o) in &outcomes {
            if !order.contains(&o.strategy) {
                order.push(o.strategy.clone());
            }
        }
        let mut rows = Vec::new();
        for name in &order {
            for (bounty, o) in outcomes.iter().filter(|(_, o)| &o.strategy == name) {
                for s in &grid.cost_shares {
                    rows.push(o.row(*bounty, *s));
                }
            }
        }
        Report {
            outcomes,
            rows,
            sample_rate: grid.sample_rate,
            strategies: grid.strategies.clone(),
        }
    }

    /// The rows as JSON lines (one object per row, exactly the row's fields).
    pub fn json_lines(&self) -> Result<String, serde_json::Error> {
        let mut out = String::new();
        for r in &self.rows {
            out.push_str(&serde_json::to_string(r)?);
            out.push('\n');
        }
        Ok(out)
    }

    /// Row names in play order.
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for r in &self.rows {
            if !v.contains(&r.strategy) {
                v.push(r.strategy.clone());
            }
        }
        v
    }

    /// Per row name: where it pays (cost share → bounties) and whether it slashes an honest
    /// operator.
    pub fn verdicts(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for name in self.names() {
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.strategy == name).collect();
            let paying: Vec<&&Row> = rows.iter().filter(|r| r.pays()).collect();
            let mut v = if paying.is_empty() {
                format!("never pays ({} cells)", rows.len())
            } else {
                let mut v = format!("PAYS in {} of {} cells:", paying.len(), rows.len());
                let mut shares: Vec<f64> = paying.iter().map(|r| r.cost_share).collect();
                shares.sort_by(f64::total_cmp);
                shares.dedup();
                for s in shares {
                    let bounties: Vec<String> = paying
                        .iter()
                        .filter(|r| r.cost_share == s)
                        .map(|r| format!("{}", r.bounty))
                        .collect();
                    let _ = write!(v, " s={s}: bounty {}", bounties.join(", "));
                    v.push(';');
                }
                v.pop();
                v
            };
            if rows.iter().any(|r| r.honest_slashed) {
                v.push_str("; slashes an honest operator");
            } else {
                v.push_str("; no honest operator slashed");
            }
            out.push((name, v));
        }
        out
    }

    /// Where each strategy stops paying, derived from the contracts' rules at the run's rate.
    pub fn thresholds(&self) -> Vec<(Vec<String>, String)> {
        self.strategies
            .iter()
            .map(|s| (s.names(), s.threshold(self.sample_rate)))
            .collect()
    }

    /// A readable table, then the verdict and threshold per strategy.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{:<46} {:>9} {:>5} {:>13} {:>13} {:>5} {:>8} {:>6}",
            "strategy", "bounty", "cost", "ev_honest", "ev_strategy", "pays", "slashed", "detect"
        );
        for name in self.names() {
            for r in self.rows.iter().filter(|r| r.strategy == name) {
                let _ = writeln!(
                    t,
                    "{:<46} {:>9} {:>5} {:>13.4} {:>13.4} {:>5} {:>8} {:>6.3}",
                    r.strategy,
                    r.bounty,
                    r.cost_share,
                    r.ev_honest,
                    r.ev_strategy,
                    if r.pays() { "YES" } else { "no" },
                    r.honest_slashed,
                    r.detection_rate
                );
            }
            for (bounty, o) in self.outcomes.iter().filter(|(_, o)| o.strategy == name) {
                let _ = writeln!(t, "    bounty {bounty}: {}", o.note);
            }
        }
        let _ = writeln!(t, "\nverdict (sample rate p = {}):", self.sample_rate);
        for (name, v) in self.verdicts() {
            let _ = writeln!(t, "  {name}: {v}");
        }
        let _ = writeln!(t, "\nthresholds:");
        for (names, th) in self.thresholds() {
            let _ = writeln!(t, "  {}: {th}", names[0]);
        }
        t
    }
}
