#![doc = include_str!("../README.md")]

pub mod capability;
pub mod digest;
pub mod envelope;
pub mod error_code;
pub mod heartbeat;
pub mod task_log;

pub use digest::Sha256Digest;
pub use envelope::{ExecLimits, InputEnvelope};

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    sol_types::SolValue,
};

/// A task's number in the market (sequential from 1).
pub type TaskId = U256;

/// The commitment an operator posts in replicated mode. Binding the chain, the market, the task
/// and the operator means a commitment copied from another operator can never be opened by the
/// copier.
pub fn commitment(
    chain_id: u64,
    market: Address,
    task_id: TaskId,
    operator: Address,
    result_digest: B256,
    salt: B256,
) -> B256 {
    keccak256(
        (
            U256::from(chain_id),
            market,
            task_id,
            operator,
            result_digest,
            salt,
        )
            .abi_encode(),
    )
}

/// The value a result proof must be bound to for `operator` on `task_id`.
pub fn binding(chain_id: u64, market: Address, task_id: TaskId, operator: Address) -> B256 {
    keccak256((U256::from(chain_id), market, task_id, operator).abi_encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, b256};

    #[test]
    fn commitment_changes_with_every_field() {
        let market = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        let op = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        let digest = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
        let salt = b256!("0x2222222222222222222222222222222222222222222222222222222222222222");
        let base = commitment(31337, market, U256::from(1), op, digest, salt);
        assert_ne!(base, commitment(1, market, U256::from(1), op, digest, salt));
        assert_ne!(base, commitment(31337, op, U256::from(1), op, digest, salt));
        assert_ne!(
            base,
            commitment(31337, market, U256::from(2), op, digest, salt)
        );
        assert_ne!(
            base,
            commitment(31337, market, U256::from(1), market, digest, salt)
        );
        assert_ne!(
            base,
            commitment(31337, market, U256::from(1), op, salt, salt)
        );
        assert_ne!(
            base,
            commitment(31337, market, U256::from(1), op, digest, digest)
        );
        // abi.encode of six static words: 192 bytes hashed
        let manual = {
            let mut buf = Vec::with_capacity(192);
            buf.extend_from_slice(&U256::from(31337).to_be_bytes::<32>());
            buf.extend_from_slice(&market.into_word().0);
            buf.extend_from_slice(&U256::from(1).to_be_bytes::<32>());
            buf.extend_from_slice(&op.into_word().0);
            buf.extend_from_slice(&digest.0);
            buf.extend_from_slice(&salt.0);
            keccak256(buf)
        };
        assert_eq!(base, manual);
    }
}
