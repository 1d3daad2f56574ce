#![doc = include_str!("../README.md")]

pub mod deployment;
pub mod keys;

pub use deployment::DeploymentFileError;
pub use keys::KeyError;
