//! The scheduling policy: scoring weights, score references, what unchecked claims count as,
//! and default constraints, read from TOML (`config/policy.example.toml` is the commented
//! template).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer};

use crate::id::{Region, RegionSet};
use crate::needs::{MAX_REPLICATION, TaskNeeds};
use crate::node::NodeView;

/// A scheduling policy. Every table and key is optional (defaults below); unknown keys are
/// rejected so that a typo cannot silently fall back to a default.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Relative weights of the score terms.
    pub weights: Weights,
    /// How raw node figures map to score terms, and how load lowers a score.
    pub scoring: Scoring,
    /// What a figure nothing has checked counts as.
    pub claims: Claims,
    /// Constraints a task gets unless it says otherwise.
    pub defaults: Defaults,
    /// Named sets of regions (jurisdictions), e.g. `eu = [40, 56, ...]`.
    pub region_groups: BTreeMap<String, Vec<u16>>,
}

/// Relative weights of the score terms; non-negative, not all zero, normalised to sum to 1.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// CPU cores, memory and GPU memory against the references in [`Scoring`].
    pub performance: f64,
    /// The coordinator's reputation figure.
    pub reputation: f64,
    /// Lower measured latency scores higher.
    pub latency: f64,
    /// Claimed renewable share.
    pub green_energy: f64,
    /// Lower asking price scores higher.
    pub price: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            performance: 0.3,
            reputation: 0.3,
            latency: 0.2,
            green_energy: 0.1,
            price: 0.1,
        }
    }
}

/// References that turn raw figures into score terms in `[0, 1]`, and the load penalty.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scoring {
    /// Fraction of a node's score lost when it is full: the score is multiplied by
    /// `1 - load_penalty * load / capacity`. In `[0, 1]`; higher spreads work more evenly.
    pub load_penalty: f64,
    /// CPU cores at which the CPU part of performance saturates.
    pub reference_cpu_cores: u32,
    /// Memory (MiB) at which the memory part of performance saturates.
    pub reference_memory_mib: u64,
    /// GPU memory (MiB) at which the GPU part of performance saturates.
    pub reference_gpu_memory_mib: u64,
    /// Latency (ms) that scores one half; the term is `r / (r + latency)`.
    pub reference_latency_ms: u32,
    /// Price (wei per megafuel) that scores one half; the term is `r / (r + price)`.
    /// An integer or, above 2^63, a decimal string.
    #[serde(deserialize_with = "wei")]
    pub reference_price_per_megafuel: u128,
}

impl Default for Scoring {
    fn default() -> Self {
        Self {
            load_penalty: 0.8,
            reference_cpu_cores: 32,
            reference_memory_mib: 64 * 1024,
            reference_gpu_memory_mib: 24 * 1024,
            reference_latency_ms: 50,
            reference_price_per_megafuel: 1_000_000_000,
        }
    }
}

/// A checkable figure of a node, as named in [`Claims::trusted`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// CPU cores, memory and GPU memory.
    Hardware,
    /// Reputation.
    Reputation,
    /// Latency.
    Latency,
    /// Green energy share.
    GreenEnergy,
    /// Asking price.
    Price,
}

/// What a self-reported figure that nothing has checked counts as, in the score and in the
/// hard constraints alike: the worst value of its term, so it never ranks above a checked
/// figure and raising it changes nothing. The floors are constants, not the population's
/// minimum, so that a node's score still depends on the node alone (what the index needs).
///
/// | figure | counts as, until checked |
/// |---|---|
/// | hardware | `floor_cpu_cores`, `floor_memory_mib`, `floor_gpu_memory_mib` |
/// | reputation | 0 |
/// | latency | `u32::MAX` ms (its term is ~0) |
/// | green energy | 0 % |
/// | price | `u128::MAX` wei per megafuel (its term is ~0) |
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Claims {
    /// Figures whose claims are taken at face value. Empty by default; only for a network
    /// whose operators are vetted outside the protocol (a permissioned deployment), since
    /// anyone can claim anything.
    pub trusted: BTreeSet<Figure>,
    /// CPU cores an unchecked hardware claim counts as.
    pub floor_cpu_cores: u32,
    /// Memory (MiB) an unchecked hardware claim counts as.
    pub floor_memory_mib: u64,
    /// GPU memory (MiB) an unchecked hardware claim counts as.
    pub floor_gpu_memory_mib: u64,
}

impl Default for Claims {
    fn default() -> Self {
        Self {
            trusted: BTreeSet::new(),
            floor_cpu_cores: 1,
            floor_memory_mib: 0,
            floor_gpu_memory_mib: 0,
        }
    }
}

impl Claims {
    /// Whether `figure` with provenance `checked` counts as reported.
    fn counts(&self, figure: Figure, checked: bool) -> bool {
        checked || self.trusted.contains(&figure)
    }

    /// Whether `view`'s hardware counts as the floor class (unchecked and not trusted).
    pub(crate) fn hardware_is_floor(&self, view: &NodeView) -> bool {
        !self.counts(Figure::Hardware, view.provenance.hardware.is_checked())
    }

    /// The view as it counts for ranking and filtering: every unchecked, untrusted figure
    /// replaced by its floor (the table above); everything else as reported.
    pub fn counted(&self, view: &NodeView) -> NodeView {
        let p = view.provenance;
        let mut c = view.clone();
        if self.hardware_is_floor(view) {
            c.cpu_cores = view.cpu_cores.min(self.floor_cpu_cores);
            c.memory_mib = view.memory_mib.min(self.floor_memory_mib);
            c.gpu_memory_mib = view.gpu_memory_mib.min(self.floor_gpu_memory_mib);
        }
        if !self.counts(Figure::Reputation, p.reputation.is_checked()) {
            c.reputation_permille = 0;
        }
        if !self.counts(Figure::Latency, p.latency.is_checked()) {
            c.latency_ms = u32::MAX;
        }
        if !self.counts(Figure::GreenEnergy, p.green_energy.is_checked()) {
            c.green_energy_pct = 0;
        }
        if !self.counts(Figure::Price, p.price.is_checked()) {
            c.price_per_megafuel = u128::MAX;
        }
        c
    }
}

/// Constraints a task gets unless it overrides them (see [`Policy::task_defaults`]).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// Minimum logical CPU cores.
    pub min_cpu_cores: u32,
    /// Minimum memory, MiB.
    pub min_memory_mib: u64,
    /// Minimum GPU memory, MiB.
    pub min_gpu_memory_mib: u64,
    /// Capability flags every node must have.
    pub required_capabilities: u64,
    /// Minimum stake, wei: an integer or, above 2^63, a decimal string.
    #[serde(deserialize_with = "wei")]
    pub min_stake: u128,
    /// Minimum reputation, per mille.
    pub min_reputation_permille: u16,
    /// Replicas per task (k).
    pub replication: u32,
    /// Whether replicas must be in distinct regions.
    pub distinct_regions: bool,
    /// Whether each assignment gets a backup.
    pub backups: bool,
    /// Restrict tasks to the regions of these groups (names from `region_groups`); empty
    /// means anywhere.
    pub allowed_region_groups: Vec<String>,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            min_cpu_cores: 1,
            min_memory_mib: 0,
            min_gpu_memory_mib: 0,
            required_capabilities: 0,
            min_stake: 0,
            min_reputation_permille: 0,
            replication: 1,
            distinct_regions: false,
            backups: true,
            allowed_region_groups: Vec::new(),
        }
    }
}

/// Why a policy was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML, a key of the wrong type, or an unknown key.
    #[error("[V-SCH-001] policy: {0}")]
    Toml(#[from] toml::de::Error),
    /// A weight below zero.
    #[error("[V-SCH-002] policy: weight {weight} is negative ({value})")]
    NegativeWeight {
        /// Which weight.
        weight: &'static str,
        /// Its value.
        value: f64,
    },
    /// NaN or infinity where a number is needed.
    #[error("[V-SCH-003] policy: {field} is not a finite number")]
    NotFinite {
        /// Which field.
        field: &'static str,
    },
    /// Every weight is zero: nothing to rank by.
    #[error("[V-SCH-004] policy: all weights are zero")]
    AllWeightsZero,
    /// A value outside its range.
    #[error("[V-SCH-005] policy: {field}: {reason}")]
    OutOfRange {
        /// Which field.
        field: String,
        /// Why.
        reason: String,
    },
    /// A region group name that `region_groups` does not define.
    #[error("[V-SCH-006] policy: unknown region group {0:?}")]
    UnknownRegionGroup(String),
}

impl Policy {
    /// Parses and validates a policy.
    pub fn from_toml_str(text: &str) -> Result<Self, PolicyError> {
        let policy: Policy = toml::from_str(text)?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks every rule a parsed policy must satisfy.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let w = &self.weights;
        let named = [
            ("performance", w.performance),
            ("reputation", w.reputation),
            ("latency", w.latency),
            ("green_energy", w.green_energy),
            ("price", w.price),
        ];
        for (weight, value) in named {
            if !value.is_finite() {
                return Err(PolicyError::NotFinite { field: weight });
            }
            if value < 0.0 {
                return Err(PolicyError::NegativeWeight { weight, value });
            }
        }
        if named.iter().all(|(_, v)| *v == 0.0) {
            return Err(PolicyError::AllWeightsZero);
        }
        let s = &self.scoring;
        if !s.load_penalty.is_finite() {
            return Err(PolicyError::NotFinite {
                field: "scoring.load_penalty",
            });
        }
        let out = |field: &str, reason: &str| PolicyError::OutOfRange {
            field: field.into(),
            reason: reason.into(),
        };
        if !(0.0..=1.0).contains(&s.load_penalty) {
            return Err(out("scoring.load_penalty", "must be within 0..=1"));
        }
        let references = [
            (
                "scoring.reference_cpu_cores",
                u128::from(s.reference_cpu_cores),
            ),
            (
                "scoring.reference_memory_mib",
                u128::from(s.reference_memory_mib),
            ),
            (
                "scoring.reference_gpu_memory_mib",
                u128::from(s.reference_gpu_memory_mib),
            ),
            (
                "scoring.reference_latency_ms",
                u128::from(s.reference_latency_ms),
            ),
            (
                "scoring.reference_price_per_megafuel",
                s.reference_price_per_megafuel,
            ),
        ];
        for (field, value) in references {
            if value == 0 {
                return Err(out(field, "must be above zero"));
            }
        }
        let d = &self.defaults;
        if d.replication == 0 || d.replication > MAX_REPLICATION {
            return Err(out(
                "defaults.replication",
                &format!("must be within 1..={MAX_REPLICATION}"),
            ));
        }
        if d.min_reputation_permille > 1000 {
            return Err(out(
                "defaults.min_reputation_permille",
                "must be at most 1000",
            ));
        }
        for (name, codes) in &self.region_groups {
            if codes.is_empty() {
                return Err(out(&format!("region_groups.{name}"), "is empty"));
            }
            if let Some(bad) = codes.iter().find(|c| !Region(**c).is_valid()) {
                return Err(out(
                    &format!("region_groups.{name}"),
                    &format!("{bad} is not an ISO 3166-1 numeric code (0..=999)"),
                ));
            }
        }
        for name in &d.allowed_region_groups {
            if !self.region_groups.contains_key(name) {
                return Err(PolicyError::UnknownRegionGroup(name.clone()));
            }
        }
        Ok(())
    }

    /// The regions of a named group.
    pub fn region_group(&self, name: &str) -> Result<RegionSet, PolicyError> {
        self.region_groups
            .get(name)
            .map(|codes| codes.iter().map(|c| Region(*c)).collect())
            .ok_or_else(|| PolicyError::UnknownRegionGroup(name.to_owned()))
    }

    /// The union of several named groups.
    pub fn region_groups_union<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<RegionSet, PolicyError> {
        let mut set = RegionSet::empty();
        for name in names {
            set.extend_from(&self.region_group(name)?);
        }
        Ok(set)
    }

    /// The needs a task gets from the policy's defaults (call [`Policy::validate`] first;
    /// an unknown group name there would be skipped here).
    pub fn task_defaults(&self) -> TaskNeeds {
        let d = &self.defaults;
        let allowed_regions = if d.allowed_region_groups.is_empty() {
            None
        } else {
            self.region_groups_union(d.allowed_region_groups.iter().map(String::as_str))
                .ok()
        };
        TaskNeeds {
            min_cpu_cores: d.min_cpu_cores,
            min_memory_mib: d.min_memory_mib,
            min_gpu_memory_mib: d.min_gpu_memory_mib,
            allowed_regions,
            required_capabilities: d.required_capabilities,
            min_stake: d.min_stake,
            min_reputation_permille: d.min_reputation_permille,
            replication: d.replication,
            distinct_regions: d.distinct_regions,
            backups: d.backups,
        }
    }
}

/// Reads a wei amount from a TOML integer or, since TOML integers stop at 2^63 - 1, from a
/// decimal string.
fn wei<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Int(v) => u128::try_from(v)
            .map_err(|_| serde::de::Error::custom(format!("wei amount {v} is negative"))),
        Raw::Text(s) => s.trim().parse::<u128>().map_err(|e| {
            serde::de::Error::custom(format!("wei amount {s:?} is not a decimal u128: {e}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid() {
        Policy::default().validate().expect("defaults are valid");
    }

    #[test]
    fn empty_text_gives_defaults() {
        assert_eq!(Policy::from_toml_str("").unwrap(), Policy::default());
    }

    #[test]
    fn negative_weight_is_rejected() {
        let err = Policy::from_toml_str("[weights]\nprice = -0.5\n").unwrap_err();
        assert_eq!(
            err,
            PolicyError::NegativeWeight {
                weight: "price",
                value: -0.5
            }
        );
    }

    #[test]
    fn all_zero_weights_are_rejected() {
        let text = "[weights]\nperformance = 0\nreputation = 0\nlatency = 0\n\
                    green_energy = 0\nprice = 0\n";
        assert_eq!(
            Policy::from_toml_str(text).unwrap_err(),
            PolicyError::AllWeightsZero
        );
    }

    #[test]
    fn unknown_keys_are_rejected_at_every_level() {
        for text in [
            "colour = 1\n",
            "[weights]\nspeed = 1.0\n",
            "[scoring]\nload_penality = 0.5\n",
            "[defaults]\nreplicas = 3\n",
        ] {
            let err = Policy::from_toml_str(text).unwrap_err();
            assert!(
                matches!(&err, PolicyError::Toml(e) if e.to_string().contains("unknown field")),
                "{text:?} gave {err}"
            );
        }
    }

    #[test]
    fn nan_and_out_of_range_values_are_rejected() {
        assert_eq!(
            Policy::from_toml_str("[weights]\nlatency = nan\n").unwrap_err(),
            PolicyError::NotFinite { field: "latency" }
        );
        assert!(matches!(
            Policy::from_toml_str("[scoring]\nload_penalty = 1.5\n").unwrap_err(),
            PolicyError::OutOfRange { field, .. } if field == "scoring.load_penalty"
        ));
        assert!(matches!(
            Policy::from_toml_str("[defaults]\nreplication = 0\n").unwrap_err(),
            PolicyError::OutOfRange { field, .. } if field == "defaults.replication"
        ));
        assert!(matches!(
            Policy::from_toml_str("[region_groups]\nx = [1000]\n").unwrap_err(),
            PolicyError::OutOfRange { field, .. } if field == "region_groups.x"
        ));
        assert_eq!(
            Policy::from_toml_str("[defaults]\nallowed_region_groups = [\"mars\"]\n").unwrap_err(),
            PolicyError::UnknownRegionGroup("mars".into())
        );
    }

    #[test]
    fn wei_amounts_parse_from_integers_and_strings() {
        let p = Policy::from_toml_str(
            "[defaults]\nmin_stake = \"1000000000000000000000\"\n\
             [scoring]\nreference_price_per_megafuel = 5\n",
        )
        .unwrap();
        assert_eq!(p.defaults.min_stake, 1_000_000_000_000_000_000_000);
        assert_eq!(p.scoring.reference_price_per_megafuel, 5);
        assert!(Policy::from_toml_str("[defaults]\nmin_stake = -1\n").is_err());
        assert!(Policy::from_toml_str("[defaults]\nmin_stake = \"1e18\"\n").is_err());
    }

    #[test]
    fn task_defaults_carry_region_groups() {
        let p = Policy::from_toml_str(
            "[region_groups]\neu = [276, 250]\nch = [756]\n\
             [defaults]\nallowed_region_groups = [\"eu\", \"ch\"]\nreplication = 3\n",
        )
        .unwrap();
        let needs = p.task_defaults();
        let regions = needs.allowed_regions.expect("restricted");
        assert_eq!(
            regions.iter().collect::<Vec<_>>(),
            vec![Region(250), Region(276), Region(756)]
        );
        assert_eq!(needs.replication, 3);
    }
}
