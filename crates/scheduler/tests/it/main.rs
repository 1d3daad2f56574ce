//! Integration tests of the scheduler: the policy template, concrete scenarios, property tests
//! against a brute-force oracle, and a stateful test over random registry and allocation
//! sequences.

mod claims;
mod common;
mod policy_template;
mod props;
mod scenarios;
mod stateful;
