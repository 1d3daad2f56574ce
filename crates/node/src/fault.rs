//! Fault injection for devnets: a node configured to misbehave, so the protocol's defences
//! (challenges, committees, dissent and silence slashing, commitments bound to their operator,
//! penalties for idle committee members)
//! can be exercised end to end. **Devnet only**: every behaviour but `none` loses the
//! operator's collateral on a real network, which is the point.

use alloy::primitives::B256;
use serde::{Deserialize, Serialize};
use verity_primitives::digest::sha256;

/// How a node misbehaves (`[fault] behaviour`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Honest.
    #[default]
    None,
    /// Executes, then posts the digest of a corrupted output (both modes).
    WrongResult,
    /// Replicated: waits for another seat's `Committed` event and commits the same bytes. The
    /// commitment binds its operator, so it can never be revealed: the copier earns nothing.
    CopyCommitments,
    /// Stops acting once assigned: never commits, reveals or submits (slashed as silent).
    Silent,
    /// Runs its tasks honestly but never votes when drawn into a dispute committee: the free
    /// rider a committee must not depend on. The court keeps `MEMBER_PENALTY_BPS` of its
    /// member bond each time (and the verdict does not wait for it).
    IdleMember,
    /// Posts a corrupted digest on optimistic tasks (honest on replicated ones, where no
    /// challenge is possible), for its second address to challenge at once: the self-challenge
    /// attack, played with a watchtower run with `accomplice_of` this operator.
    SelfChallenger,
}

impl Behaviour {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Behaviour::None => "none",
            Behaviour::WrongResult => "wrong_result",
            Behaviour::CopyCommitments => "copy_commitments",
            Behaviour::Silent => "silent",
            Behaviour::IdleMember => "idle_member",
            Behaviour::SelfChallenger => "self_challenger",
        }
    }

    /// Whether this behaviour posts a corrupted digest for a task in `mode`.
    pub fn lies_in(self, mode: verity_settlement::Mode) -> bool {
        match self {
            Behaviour::WrongResult => true,
            Behaviour::SelfChallenger => mode == verity_settlement::Mode::Optimistic,
            _ => false,
        }
    }
}

/// The output a `wrong_result` node pretends to have computed: the real one with its first byte
/// flipped (or one byte appended to an empty output). Always differs from `output`.
pub fn corrupt(output: &[u8]) -> Vec<u8> {
    let mut out = output.to_vec();
    match out.first_mut() {
        Some(b) => *b ^= 0xff,
        None => out.push(0xff),
    }
    out
}

/// The digest a `wrong_result` node posts for `output`.
pub fn corrupt_digest(output: &[u8]) -> B256 {
    sha256(&corrupt(output))
}

/// The digest a `wrong_result` node posts when the honest result is itself a digest (a
/// deterministic failure's error digest): corrupts those 32 bytes.
pub fn corrupt_result(result: B256) -> B256 {
    corrupt_digest(result.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupted_digests_never_equal_the_honest_one() {
        for output in [&b""[..], b"x", b"sensor readings", &[0u8; 64]] {
            let honest = sha256(output);
            assert_ne!(corrupt_digest(output), honest, "{output:?}");
            assert_ne!(corrupt(output), output);
        }
        assert_ne!(corrupt_result(B256::ZERO), B256::ZERO);
    }

    #[test]
    fn behaviours_parse_from_their_config_spelling() {
        #[derive(Deserialize)]
        struct W {
            b: Behaviour,
        }
        for b in [
            Behaviour::None,
            Behaviour::WrongResult,
            Behaviour::CopyCommitments,
            Behaviour::Silent,
            Behaviour::IdleMember,
            Behaviour::SelfChallenger,
        ] {
            let w: W = toml::from_str(&format!("b = \"{}\"", b.as_str())).unwrap();
            assert_eq!(w.b, b);
        }
        assert!(toml::from_str::<W>("b = \"evil\"").is_err());
    }
}
