//! The checked-in policy template parses, validates, and means what it says.

use verity_scheduler::{Policy, Region};

const TEMPLATE: &str = include_str!("../../../../config/policy.example.toml");

#[test]
fn policy_template_parses_and_validates() {
    let policy = Policy::from_toml_str(TEMPLATE).expect("template is a valid policy");
    let defaults = Policy::default();
    // The template shows the defaults except for the values it marks as examples.
    assert_eq!(policy.weights, defaults.weights);
    assert_eq!(policy.scoring, defaults.scoring);
    assert_eq!(policy.claims, defaults.claims);
    assert_eq!(policy.defaults.min_stake, 100 * 10u128.pow(18));
    assert_eq!(policy.defaults.replication, defaults.defaults.replication);
    let eu = policy.region_group("eu").expect("eu group");
    assert_eq!(eu.len(), 27);
    assert!(eu.contains(Region(276)) && !eu.contains(Region(756)));
}
