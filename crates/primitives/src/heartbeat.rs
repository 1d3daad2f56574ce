//! Signed heartbeats: a node's liveness and telemetry for coordinators.
//!
//! A heartbeat is an EIP-712 typed message signed by the node's signing key (the `signer` the
//! operator registered in `NodeRegistry`), on the domain `Verity`/`1` bound to the chain id and
//! the registry address. A coordinator checks that the recovered key is the operator's registered
//! signer, that `seq` is greater than the last one it accepted (replay), and that `timestamp`
//! is recent (staleness). Every field is typed and signed: nothing in the telemetry can be
//! changed in transit.

use alloy::{
    primitives::{Address, Signature, U256},
    signers::{SignerSync, local::PrivateKeySigner},
    sol,
    sol_types::{Eip712Domain, SolStruct, eip712_domain},
};
use serde::{Deserialize, Serialize};

sol! {
    /// The signed content of a heartbeat.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    struct Heartbeat {
        /// The operator (staking account) this node works for.
        address operator;
        /// Strictly increasing per node; a coordinator rejects anything not above the last seen.
        uint64 seq;
        /// Unix seconds when sent.
        uint64 timestamp;
        /// Logical CPU cores offered.
        uint32 cpuCores;
        /// Memory offered, MiB.
        uint64 memoryMb;
        /// GPU memory offered, MiB (0: none).
        uint64 gpuMemoryMb;
        /// Current load, per mille of capacity.
        uint16 loadPermille;
        /// Tasks the node can still take now.
        uint32 freeSlots;
        /// Asking price: token wei per million units of fuel.
        uint256 pricePerMegafuel;
        /// ISO 3166-1 numeric region.
        uint32 region;
        /// Claimed share of renewable energy, percent (0-100; a claim, not a proof).
        uint8 greenEnergyPct;
        /// Capability flags (as registered).
        uint64 capabilities;
    }
}

/// A heartbeat and its signature, as sent over the wire (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHeartbeat {
    /// The message.
    pub heartbeat: Heartbeat,
    /// 65-byte secp256k1 signature over the EIP-712 hash.
    pub signature: Signature,
}

/// Why a heartbeat was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeartbeatError {
    /// The signature does not recover to anything.
    #[error("[V-HB-001] malformed signature: {0}")]
    BadSignature(String),
    /// It was signed by a key other than the operator's registered signer.
    #[error(
        "[V-HB-002] signed by {recovered}, but operator {operator} registered signer {expected}"
    )]
    WrongSigner {
        /// The operator claimed.
        operator: Address,
        /// The registered signing key.
        expected: Address,
        /// The key that signed.
        recovered: Address,
    },
    /// `seq` is not above the last accepted one (a replay or a reordering).
    #[error("[V-HB-003] replayed heartbeat: seq {seq} <= last accepted {last}")]
    Replayed {
        /// This heartbeat's sequence number.
        seq: u64,
        /// The last accepted one.
        last: u64,
    },
    /// The timestamp is too far from the verifier's clock.
    #[error("[V-HB-004] stale heartbeat: sent at {timestamp}, now {now}, max skew {max_skew}s")]
    Stale {
        /// When it claims to be from.
        timestamp: u64,
        /// The verifier's clock.
        now: u64,
        /// Allowed difference.
        max_skew: u64,
    },
    /// A field is out of its range.
    #[error("[V-HB-005] invalid field {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// The EIP-712 domain of heartbeats for one deployment.
pub fn domain(chain_id: u64, registry: Address) -> Eip712Domain {
    eip712_domain! {
        name: "Verity",
        version: "1",
        chain_id: chain_id,
        verifying_contract: registry,
    }
}

impl Heartbeat {
    /// Signs with the node key.
    pub fn sign(
        self,
        key: &PrivateKeySigner,
        domain: &Eip712Domain,
    ) -> Result<SignedHeartbeat, HeartbeatError> {
        let hash = self.eip712_signing_hash(domain);
        let signature = key
            .sign_hash_sync(&hash)
            .map_err(|e| HeartbeatError::BadSignature(e.to_string()))?;
        Ok(SignedHeartbeat {
            heartbeat: self,
            signature,
        })
    }
}

impl SignedHeartbeat {
    /// The key that signed it.
    pub fn recover_signer(&self, domain: &Eip712Domain) -> Result<Address, HeartbeatError> {
        let hash = self.heartbeat.eip712_signing_hash(domain);
        self.signature
            .recover_address_from_prehash(&hash)
            .map_err(|e| HeartbeatError::BadSignature(e.to_string()))
    }

    /// Full check for a receiver: fields in range, signed by `registered_signer`, newer than
    /// `last_seq`, and within `max_skew` seconds of `now`.
    pub fn verify(
        &self,
        domain: &Eip712Domain,
        registered_signer: Address,
        last_seq: Option<u64>,
        now: u64,
        max_skew: u64,
    ) -> Result<(), HeartbeatError> {
        let hb = &self.heartbeat;
        if hb.greenEnergyPct > 100 {
            return Err(HeartbeatError::Invalid {
                field: "greenEnergyPct",
                reason: "above 100",
            });
        }
        if hb.loadPermille > 1000 {
            return Err(HeartbeatError::Invalid {
                field: "loadPermille",
                reason: "above 1000",
            });
        }
        let recovered = self.recover_signer(domain)?;
        if recovered != registered_signer {
            return Err(HeartbeatError::WrongSigner {
                operator: hb.operator,
                expected: registered_signer,
                recovered,
            });
        }
        if let Some(last) = last_seq
            && hb.seq <= last
        {
            return Err(HeartbeatError::Replayed { seq: hb.seq, last });
        }
        if hb.timestamp.abs_diff(now) > max_skew {
            return Err(HeartbeatError::Stale {
                timestamp: hb.timestamp,
                now,
                max_skew,
            });
        }
        Ok(())
    }
}

/// A heartbeat with plausible defaults, for tests and examples.
pub fn example(operator: Address, seq: u64, timestamp: u64) -> Heartbeat {
    Heartbeat {
        operator,
        seq,
        timestamp,
        cpuCores: 2,
        memoryMb: 4096,
        gpuMemoryMb: 0,
        loadPermille: 250,
        freeSlots: 4,
        pricePerMegafuel: U256::from(1_000u64),
        region: 276,
        greenEnergyPct: 80,
        capabilities: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (PrivateKeySigner, Eip712Domain, Address) {
        let key = PrivateKeySigner::random();
        (
            key,
            domain(31337, Address::repeat_byte(7)),
            Address::repeat_byte(9),
        )
    }

    #[test]
    fn a_signed_heartbeat_verifies_against_the_registered_signer() {
        let (key, d, op) = setup();
        let signed = example(op, 5, 1_000).sign(&key, &d).unwrap();
        assert_eq!(signed.recover_signer(&d).unwrap(), key.address());
        signed
            .verify(&d, key.address(), Some(4), 1_010, 30)
            .unwrap();
        // JSON round trip keeps it valid.
        let json = serde_json::to_string(&signed).unwrap();
        let back: SignedHeartbeat = serde_json::from_str(&json).unwrap();
        back.verify(&d, key.address(), None, 1_000, 30).unwrap();
    }

    #[test]
    fn tampering_replay_staleness_and_other_domains_are_rejected() {
        let (key, d, op) = setup();
        let signed = example(op, 5, 1_000).sign(&key, &d).unwrap();

        let mut tampered = signed.clone();
        tampered.heartbeat.pricePerMegafuel = U256::from(1u64);
        assert!(matches!(
            tampered.verify(&d, key.address(), None, 1_000, 30),
            Err(HeartbeatError::WrongSigner { .. })
        ));
        let other_key = PrivateKeySigner::random();
        assert!(matches!(
            signed.verify(&d, other_key.address(), None, 1_000, 30),
            Err(HeartbeatError::WrongSigner { .. })
        ));
        assert_eq!(
            signed.verify(&d, key.address(), Some(5), 1_000, 30),
            Err(HeartbeatError::Replayed { seq: 5, last: 5 })
        );
        assert_eq!(
            signed.verify(&d, key.address(), None, 1_031, 30),
            Err(HeartbeatError::Stale {
                timestamp: 1_000,
                now: 1_031,
                max_skew: 30
            })
        );
        // Signed for another chain or registry: the recovered key differs.
        let elsewhere = domain(1, Address::repeat_byte(7));
        assert!(
            signed
                .verify(&elsewhere, key.address(), None, 1_000, 30)
                .is_err()
        );
        let mut green = example(op, 6, 1_000);
        green.greenEnergyPct = 101;
        let green = green.sign(&key, &d).unwrap();
        assert!(matches!(
            green.verify(&d, key.address(), None, 1_000, 30),
            Err(HeartbeatError::Invalid {
                field: "greenEnergyPct",
                ..
            })
        ));
    }
}
