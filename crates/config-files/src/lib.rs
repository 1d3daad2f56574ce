#![doc = include_str!("../README.md")]

pub mod deployment;
pub mod keys;
pub mod profile;

pub use deployment::DeploymentFileError;
pub use keys::KeyError;
pub use profile::{Profile, ProfileError};
